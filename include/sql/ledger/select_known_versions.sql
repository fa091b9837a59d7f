-- The object versions among the given keys that any batch has taken (a ledger row in any state).
select distinct
    ledger.bucket,
    ledger.object_key,
    ledger.etag
from movies.load_ledger as ledger
where ledger.object_key in (%(object_keys)s)
