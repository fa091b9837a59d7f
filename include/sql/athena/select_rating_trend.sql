-- Rating trend per movie: its values in each merged batch where they changed, and on first load
-- (the rows of movies.rating_history, as marts.rating_trend shows them).
with observations as (
    select
        processed.movie_id,
        processed.series_title,
        processed.released_year,
        processed.batch_id,
        processed.ingested_at as observed_at,
        processed.imdb_rating,
        processed.no_of_votes,
        processed.meta_score,
        processed.gross_usd,
        lag(processed.imdb_rating) over (
            partition by processed.movie_id order by processed.ingested_at, processed.batch_id
        ) as previous_rating,
        lag(processed.no_of_votes) over (
            partition by processed.movie_id order by processed.ingested_at, processed.batch_id
        ) as previous_votes,
        lag(processed.meta_score) over (
            partition by processed.movie_id order by processed.ingested_at, processed.batch_id
        ) as previous_meta_score,
        lag(processed.gross_usd) over (
            partition by processed.movie_id order by processed.ingested_at, processed.batch_id
        ) as previous_gross_usd,
        row_number() over (
            partition by processed.movie_id order by processed.ingested_at, processed.batch_id
        ) as observation_number
    from processed_movies as processed
)

select
    observations.movie_id,
    observations.series_title,
    observations.released_year,
    observations.batch_id,
    observations.observed_at,
    case when observations.observation_number = 1 then 'new' else 'changed' end as change_type,
    observations.imdb_rating,
    observations.no_of_votes,
    observations.imdb_rating - observations.previous_rating as rating_change,
    observations.no_of_votes - observations.previous_votes as votes_change
from observations
where
    observations.observation_number = 1
    or observations.imdb_rating <> observations.previous_rating
    or observations.no_of_votes <> observations.previous_votes
    or observations.meta_score is distinct from observations.previous_meta_score
    or observations.gross_usd is distinct from observations.previous_gross_usd
order by observations.movie_id, observations.observed_at
