-- The best-rated movies (ties: more votes first), rebuilt by refresh_marts.sql after every merge:
-- a dashboard reads a few rows instead of sorting every movie. Small: a copy on every node.
create table if not exists marts.top_movies (
    rating_rank integer not null encode az64,
    movie_id char(32) not null encode zstd,
    series_title varchar(512) not null encode zstd,
    released_year integer not null encode az64,
    director varchar(256) not null encode zstd,
    primary_genre varchar(64) not null encode zstd,
    imdb_rating decimal(3, 1) not null encode az64,
    no_of_votes bigint not null encode az64,
    primary key (rating_rank)
)
diststyle all
sortkey (rating_rank);
