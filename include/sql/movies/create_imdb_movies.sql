-- Current state: one row per movie_id, kept up to date by merge_imdb_movies.sql.
-- Distributed and sorted on the merge key so the MERGE with staging joins locally on each slice.
create table if not exists movies.imdb_movies (
    movie_id char(32) not null encode raw,
    series_title varchar(512) not null encode zstd,
    released_year integer not null encode az64,
    certificate varchar(16) encode zstd,
    runtime_minutes integer encode az64,
    genres varchar(256) not null encode zstd,
    primary_genre varchar(64) not null encode zstd,
    imdb_rating decimal(3, 1) not null encode az64,
    meta_score integer encode az64,
    no_of_votes bigint not null encode az64,
    gross_usd bigint encode az64,
    director varchar(256) not null encode zstd,
    star1 varchar(256) encode zstd,
    star2 varchar(256) encode zstd,
    star3 varchar(256) encode zstd,
    star4 varchar(256) encode zstd,
    overview varchar(4096) encode zstd,
    poster_link varchar(1024) encode zstd,
    is_quality_movie boolean not null encode raw,
    source_object varchar(1024) not null encode zstd,
    source_line integer not null encode az64,
    ingested_at timestamp not null encode az64,
    first_loaded_batch varchar(64) not null encode zstd,
    last_loaded_batch varchar(64) not null encode zstd,
    updated_at timestamp not null encode az64,
    -- Time of the data now held (see load_ledger): an older version never replaces it.
    source_time timestamp not null encode az64,
    source_modified_at timestamp not null encode az64,
    primary key (movie_id)
)
diststyle key
distkey (movie_id)
sortkey (movie_id);
