-- The object versions among the given keys that a merge has loaded: a version is loaded when a
-- ledger row with status 'loaded' exists for its (bucket, object_key, etag).
select
    ledger.bucket,
    ledger.object_key,
    ledger.etag
from movies.load_ledger as ledger
where
    ledger.status = 'loaded'
    and ledger.object_key in (%(object_keys)s)
