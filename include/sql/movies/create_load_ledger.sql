-- One row per (batch_id, bucket, object_key): what happened to each source object version.
-- A version counts as loaded when a row with status 'loaded' exists for its (bucket, object_key, etag).
-- Small and joined by every load: a copy on every node.
create table if not exists movies.load_ledger (
    batch_id varchar(64) not null encode zstd,
    bucket varchar(63) not null encode zstd,
    object_key varchar(1024) not null encode zstd,
    etag varchar(128) not null encode zstd,
    status varchar(16) not null encode zstd,
    rows_in integer not null encode az64,
    rows_loaded integer not null encode az64,
    rows_quarantined integer not null encode az64,
    reason varchar(4096) encode zstd,
    -- The data's time (dt= day of the key, else LastModified) and LastModified: latest wins by these.
    source_time timestamp encode az64,
    last_modified timestamp encode az64,
    created_at timestamp default getdate() not null encode az64,
    updated_at timestamp default getdate() not null encode az64,
    primary key (batch_id, bucket, object_key)
)
diststyle all
sortkey (bucket, object_key);
