-- Directors with at least three movies and their average rating, rebuilt by refresh_marts.sql after
-- every merge: dashboards read the ranking instead of aggregating every movie.
create table if not exists marts.top_directors (
    director varchar(256) not null encode zstd,
    movies bigint not null encode az64,
    avg_rating decimal(6, 2) not null encode az64,
    total_votes bigint not null encode az64,
    rating_rank bigint not null encode az64,
    primary key (director)
)
diststyle all
sortkey (rating_rank);
