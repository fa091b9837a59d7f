-- The batch's verified rows become 'loaded' with the rows merged per file. Runs in the merge's
-- transaction, after the MERGE, and reads its temp table merge_source (one row per merged movie).
-- Valid rows not merged lost to a later row of the same movie (in the batch, or already loaded): say so.

drop table if exists merge_file_counts;

-- Rows merged per staged file (zero for a file whose rows were all quarantined).
create temp table merge_file_counts as
select
    ledger.batch_id,
    ledger.bucket,
    ledger.object_key,
    count(merge_source.movie_id) as rows_loaded
from movies.load_ledger as ledger
left join merge_source
    on
        ledger.batch_id = merge_source.batch_id
        and 's3://' || ledger.bucket || '/' || ledger.object_key = merge_source.source_object
where
    ledger.status = 'verified'
    and ledger.batch_id = %(batch_id)s
group by ledger.batch_id, ledger.bucket, ledger.object_key;

update movies.load_ledger
set
    status = 'loaded',
    rows_loaded = merge_file_counts.rows_loaded,
    reason = case
        when load_ledger.rows_in - load_ledger.rows_quarantined > merge_file_counts.rows_loaded
            then cast(
                load_ledger.rows_in - load_ledger.rows_quarantined - merge_file_counts.rows_loaded
                as varchar(16)
            ) || ' valid rows superseded by a later row of the same movie (in this batch or already loaded)'
        else load_ledger.reason
    end,
    updated_at = default
from merge_file_counts
where
    load_ledger.batch_id = merge_file_counts.batch_id
    and load_ledger.bucket = merge_file_counts.bucket
    and load_ledger.object_key = merge_file_counts.object_key
    and load_ledger.status = 'verified';

drop table merge_file_counts;

-- Other batches still holding a version this batch just loaded (a run that died after staging it,
-- or an overlapping run) will never merge it: their rows are settled as skipped.
update movies.load_ledger
set
    status = 'skipped',
    reason = 'loaded by batch ' || %(batch_id)s,
    updated_at = default
from (
    select
        loaded.bucket,
        loaded.object_key,
        loaded.etag
    from movies.load_ledger as loaded
    where
        loaded.batch_id = %(batch_id)s
        and loaded.status = 'loaded'
) as loaded_now
where
    load_ledger.batch_id <> %(batch_id)s
    and load_ledger.status in ('staged', 'verified')
    and load_ledger.bucket = loaded_now.bucket
    and load_ledger.object_key = loaded_now.object_key
    and load_ledger.etag = loaded_now.etag;
