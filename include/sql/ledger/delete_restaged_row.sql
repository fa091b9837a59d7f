-- The row of an earlier attempt at staging this batch's object, so that a retry replaces it.
-- A row the merge already loaded stays.
delete from movies.load_ledger
where
    batch_id = %(batch_id)s
    and bucket = %(bucket)s
    and object_key = %(object_key)s
    and status <> 'loaded'
