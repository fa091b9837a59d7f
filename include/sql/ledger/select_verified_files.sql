-- How many files of the batch passed the gate and wait for the merge. The merge's result handler
-- fails the merge when this is zero: a run never says "loaded" for a batch that had nothing to load.
select count(*) as verified_files
from movies.load_ledger as ledger
where
    ledger.batch_id = %(batch_id)s
    and ledger.status = 'verified'
