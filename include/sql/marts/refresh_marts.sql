-- Refresh the dashboard marts after a merge: the tables that aggregate every movie
-- (create_*.sql of this folder) are rebuilt, the other marts are views over movies.imdb_movies,
-- rating_history, load_ledger and dq_results, (re)created here so they follow any change of their SQL.
-- Run after the merge (SQLExecuteQueryOperator, split_statements, autocommit off: all or nothing)
-- and by warehouse.apply_ddl. Written in the SQL Redshift and PostgreSQL share. Averages are taken
-- over decimals with extra scale because Redshift keeps the argument's scale in AVG.
-- Statements are split on semicolons, so comments and strings here must not contain one.

-- Two runs refreshing at once would each delete and then both insert: one at a time. Readers of
-- these tables wait for the refresh (seconds) rather than see it half done.
lock marts.top_movies, marts.top_directors, marts.quality_movies_by_genre;

delete from marts.top_movies;

insert into marts.top_movies (
    rating_rank,
    movie_id,
    series_title,
    released_year,
    director,
    primary_genre,
    imdb_rating,
    no_of_votes
)
with ranked_movies as (
    select
        movie.movie_id,
        movie.series_title,
        movie.released_year,
        movie.director,
        movie.primary_genre,
        movie.imdb_rating,
        movie.no_of_votes,
        row_number() over (
            order by movie.imdb_rating desc, movie.no_of_votes desc, movie.movie_id
        ) as rating_rank
    from movies.imdb_movies as movie
)

select
    ranked_movies.rating_rank,
    ranked_movies.movie_id,
    ranked_movies.series_title,
    ranked_movies.released_year,
    ranked_movies.director,
    ranked_movies.primary_genre,
    ranked_movies.imdb_rating,
    ranked_movies.no_of_votes
from ranked_movies
where ranked_movies.rating_rank <= 100;

delete from marts.top_directors;

-- Directors with at least three movies, ranked by average rating.
insert into marts.top_directors (director, movies, avg_rating, total_votes, rating_rank)
with director_stats as (
    select
        movie.director,
        count(*) as movies,
        round(avg(cast(movie.imdb_rating as decimal(6, 3))), 2) as avg_rating,
        sum(movie.no_of_votes) as total_votes
    from movies.imdb_movies as movie
    group by movie.director
    having count(*) >= 3
)

select
    director_stats.director,
    director_stats.movies,
    director_stats.avg_rating,
    director_stats.total_votes,
    rank() over (order by director_stats.avg_rating desc) as rating_rank
from director_stats;

delete from marts.quality_movies_by_genre;

-- A movie counts once in each of its genres (genres holds up to three, comma-separated). Grouped
-- by the genres list first: the lists are few, so the split runs over them, not over every movie.
insert into marts.quality_movies_by_genre (genre, movies, quality_movies, avg_rating)
with genre_lists as (
    select
        movie.genres,
        count(*) as movies,
        sum(case when movie.is_quality_movie then 1 else 0 end) as quality_movies,
        sum(cast(movie.imdb_rating as decimal(12, 1))) as rating_sum
    from movies.imdb_movies as movie
    group by movie.genres
),

genre_positions as (
    select 1 as genre_position
    union all
    select 2 as genre_position
    union all
    select 3 as genre_position
    union all
    select 4 as genre_position
    union all
    select 5 as genre_position
),

list_genres as (
    select
        trim(split_part(genre_lists.genres, ',', genre_positions.genre_position)) as genre,
        genre_lists.movies,
        genre_lists.quality_movies,
        genre_lists.rating_sum
    from genre_lists
    inner join genre_positions
        on genre_positions.genre_position <= regexp_count(genre_lists.genres, ',') + 1
)

select
    list_genres.genre,
    sum(list_genres.movies) as movies,
    sum(list_genres.quality_movies) as quality_movies,
    round(sum(list_genres.rating_sum) / sum(list_genres.movies), 2) as avg_rating
from list_genres
group by list_genres.genre;

drop view if exists marts.quality_movies_by_decade;

drop view if exists marts.ratings_by_release_year;

drop view if exists marts.top_stars;

drop view if exists marts.gross_by_certificate;

drop view if exists marts.rating_trend;

drop view if exists marts.batch_quality;

create view marts.quality_movies_by_decade as
select
    movie.released_year / 10 * 10 as decade,
    count(*) as movies,
    sum(case when movie.is_quality_movie then 1 else 0 end) as quality_movies,
    round(avg(cast(movie.imdb_rating as decimal(6, 3))), 2) as avg_rating
from movies.imdb_movies as movie
group by movie.released_year / 10 * 10;

create view marts.ratings_by_release_year as
select
    movie.released_year,
    count(*) as movies,
    round(avg(cast(movie.imdb_rating as decimal(6, 3))), 2) as avg_rating,
    round(avg(cast(movie.no_of_votes as decimal(20, 2))), 0) as avg_votes
from movies.imdb_movies as movie
group by movie.released_year;

-- Stars (any of the four billed) with at least three movies, ranked by average rating.
create view marts.top_stars as
with billed_stars as (
    select movie.movie_id, movie.star1 as star, movie.imdb_rating from movies.imdb_movies as movie
    union all
    select movie.movie_id, movie.star2 as star, movie.imdb_rating from movies.imdb_movies as movie
    union all
    select movie.movie_id, movie.star3 as star, movie.imdb_rating from movies.imdb_movies as movie
    union all
    select movie.movie_id, movie.star4 as star, movie.imdb_rating from movies.imdb_movies as movie
),

star_movies as (
    select distinct
        billed_stars.movie_id,
        billed_stars.star,
        billed_stars.imdb_rating
    from billed_stars
    where billed_stars.star is not null
),

star_stats as (
    select
        star_movies.star,
        count(*) as movies,
        round(avg(cast(star_movies.imdb_rating as decimal(6, 3))), 2) as avg_rating
    from star_movies
    group by star_movies.star
    having count(*) >= 3
)

select
    star_stats.star,
    star_stats.movies,
    star_stats.avg_rating,
    rank() over (order by star_stats.avg_rating desc) as rating_rank
from star_stats;

create view marts.gross_by_certificate as
select
    coalesce(movie.certificate, 'Not rated') as certificate,
    count(*) as movies,
    count(movie.gross_usd) as movies_with_gross,
    sum(movie.gross_usd) as total_gross_usd,
    round(avg(cast(movie.gross_usd as decimal(20, 2))), 0) as avg_gross_usd
from movies.imdb_movies as movie
group by coalesce(movie.certificate, 'Not rated');

-- Every recorded rating of every movie, with the change since its previous record.
create view marts.rating_trend as
select
    history.movie_id,
    movie.series_title,
    movie.released_year,
    history.batch_id,
    history.observed_at,
    history.change_type,
    history.imdb_rating,
    history.no_of_votes,
    history.meta_score,
    history.gross_usd,
    history.imdb_rating - lag(history.imdb_rating) over (
        partition by history.movie_id order by history.observed_at, history.batch_id
    ) as rating_change,
    history.no_of_votes - lag(history.no_of_votes) over (
        partition by history.movie_id order by history.observed_at, history.batch_id
    ) as votes_change
from movies.rating_history as history
inner join movies.imdb_movies as movie
    on history.movie_id = movie.movie_id;

-- What happened to each batch: files and rows by outcome, and the quality gate's verdicts.
create view marts.batch_quality as
with ledger_by_batch as (
    select
        ledger.batch_id,
        count(*) as files,
        sum(case when ledger.status = 'loaded' then 1 else 0 end) as files_loaded,
        sum(case when ledger.status = 'skipped' then 1 else 0 end) as files_skipped,
        sum(case when ledger.status = 'rejected' then 1 else 0 end) as files_rejected,
        sum(case when ledger.status = 'quality_failed' then 1 else 0 end) as files_quality_failed,
        sum(ledger.rows_in) as rows_in,
        sum(ledger.rows_loaded) as rows_loaded,
        sum(ledger.rows_quarantined) as rows_quarantined,
        min(ledger.created_at) as first_recorded_at,
        max(ledger.updated_at) as last_updated_at
    from movies.load_ledger as ledger
    group by ledger.batch_id
),

checks_by_batch as (
    select
        dq.batch_id,
        sum(case when dq.outcome = 'pass' then 1 else 0 end) as checks_passed,
        sum(case when dq.outcome = 'warn' then 1 else 0 end) as checks_warned,
        sum(case when dq.outcome = 'fail' then 1 else 0 end) as checks_failed
    from movies.dq_results as dq
    group by dq.batch_id
)

select
    ledger_by_batch.batch_id,
    ledger_by_batch.files,
    ledger_by_batch.files_loaded,
    ledger_by_batch.files_skipped,
    ledger_by_batch.files_rejected,
    ledger_by_batch.files_quality_failed,
    ledger_by_batch.rows_in,
    ledger_by_batch.rows_loaded,
    ledger_by_batch.rows_quarantined,
    coalesce(checks_by_batch.checks_passed, 0) as checks_passed,
    coalesce(checks_by_batch.checks_warned, 0) as checks_warned,
    coalesce(checks_by_batch.checks_failed, 0) as checks_failed,
    ledger_by_batch.first_recorded_at,
    ledger_by_batch.last_updated_at
from ledger_by_batch
left join checks_by_batch
    on ledger_by_batch.batch_id = checks_by_batch.batch_id;
