-- What identifies the warehouse's current contents for the view's cache: every load (and every
-- merge, which marks its ledger rows loaded in the same transaction) changes the ledger. Read-only.
select
    count(*) as ledger_rows,
    max(ledger.updated_at) as last_update
from movies.load_ledger as ledger
