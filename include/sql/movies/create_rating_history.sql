-- One row per movie per batch in which its rating, votes, meta score or gross changed (and on first
-- load), for rating trends. Co-located with imdb_movies on movie_id.
create table if not exists movies.rating_history (
    movie_id char(32) not null encode raw,
    batch_id varchar(64) not null encode zstd,
    change_type varchar(8) not null encode zstd,
    imdb_rating decimal(3, 1) not null encode az64,
    meta_score integer encode az64,
    no_of_votes bigint not null encode az64,
    gross_usd bigint encode az64,
    observed_at timestamp not null encode az64,
    recorded_at timestamp default getdate() not null encode az64,
    primary key (movie_id, batch_id)
)
diststyle key
distkey (movie_id)
sortkey (movie_id, observed_at);
