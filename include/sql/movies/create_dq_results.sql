-- Every verdict of the Soda quality gate: one row per (batch, contract, check). Written by
-- dags/imdb_pipeline/quality.py:record_results, which replaces a batch's rows on a re-run.
-- outcome is 'pass', 'warn' or 'fail'; value is the check's measured value (a count, a percentage
-- or the number of schema differences), threshold the rule it was held to, as text.
create table if not exists movies.dq_results (
    batch_id varchar(64) not null,
    contract varchar(128) not null,
    check_path varchar(256) not null,
    check_name varchar(256),
    outcome varchar(8) not null,
    value double precision,
    threshold varchar(256),
    message varchar(4096),
    checked_at timestamp not null,
    primary key (batch_id, contract, check_path)
);
