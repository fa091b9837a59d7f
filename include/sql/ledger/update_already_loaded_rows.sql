-- Inside the merge's lock: a verified file whose object version another batch has loaded since this
-- batch was resolved (two runs took the same version) is skipped, never loaded twice.
update movies.load_ledger
set
    status = 'skipped',
    reason = 'loaded meanwhile by batch ' || loaded_versions.batch_id,
    updated_at = default
from (
    select
        loaded.bucket,
        loaded.object_key,
        loaded.etag,
        max(loaded.batch_id) as batch_id
    from movies.load_ledger as loaded
    where loaded.status = 'loaded'
    group by loaded.bucket, loaded.object_key, loaded.etag
) as loaded_versions
where
    load_ledger.batch_id = %(batch_id)s
    and load_ledger.status = 'verified'
    and load_ledger.bucket = loaded_versions.bucket
    and load_ledger.object_key = loaded_versions.object_key
    and load_ledger.etag = loaded_versions.etag
