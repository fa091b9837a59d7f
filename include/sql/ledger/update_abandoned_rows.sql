-- Staging holds one batch: when another batch is staged, the rows of every batch still staged or
-- verified become 'abandoned'. Their objects are not loaded, so a later run takes them again.
update movies.load_ledger
set
    status = 'abandoned',
    updated_at = default,
    reason = 'staging was replaced by batch ' || %(batch_id)s || ' before this batch was merged'
where
    status in ('staged', 'verified')
    and batch_id <> %(batch_id)s
