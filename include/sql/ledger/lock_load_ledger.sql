-- Merges serialise on the ledger: a transaction-level lock that Redshift and PostgreSQL both take
-- (released at commit or rollback). Whatever a merge reads of the ledger after this holds until it ends.
lock movies.load_ledger
