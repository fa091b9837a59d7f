-- A new ledger row for one object version of a batch, unless the batch already has a row for
-- the object (idempotent per (batch_id, bucket, object_key)).
insert into movies.load_ledger (
    batch_id, bucket, object_key, etag, status, rows_in, rows_loaded, rows_quarantined, reason,
    source_time, last_modified
)
select
    %(batch_id)s, %(bucket)s, %(object_key)s, %(etag)s, %(status)s, %(rows_in)s, 0, %(rows_quarantined)s,
    %(reason)s, %(source_time)s, %(last_modified)s
where not exists (
    select 1
    from movies.load_ledger as ledger
    where
        ledger.batch_id = %(batch_id)s
        and ledger.bucket = %(bucket)s
        and ledger.object_key = %(object_key)s
)
