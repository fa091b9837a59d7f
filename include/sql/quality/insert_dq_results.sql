-- One verdict of the quality gate (run once per check with executemany).
-- Parameters: batch_id, contract, check_path, check_name, outcome, value, threshold, message, checked_at.
insert into movies.dq_results (
    batch_id, contract, check_path, check_name, outcome, value, threshold, message, checked_at
)
values (%s, %s, %s, %s, %s, %s, %s, %s, %s)
