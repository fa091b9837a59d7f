-- Movies and quality movies per genre (a movie counts once in each of its genres), rebuilt by
-- refresh_marts.sql after every merge. A few dozen rows: a copy on every node.
create table if not exists marts.quality_movies_by_genre (
    genre varchar(256) not null encode zstd,
    movies bigint not null encode az64,
    quality_movies bigint not null encode az64,
    avg_rating decimal(6, 2) not null encode az64,
    primary key (genre)
)
diststyle all;
