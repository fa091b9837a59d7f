-- How each movie's rating and votes moved over the period [start_at, end_at), from rating_history:
-- its last record in the period against its last record before the period (or, for a movie first
-- recorded in the period, its first record in it). Only a movie with a 'changed' record in the
-- period can have moved: the others are looked up no further.
-- Only the row_limit largest moves of each kind (by absolute size) are returned. Read-only.
-- Parameters: start_at, end_at, row_limit.
with period_movies as (
    select history.movie_id
    from movies.rating_history as history
    where
        history.change_type = 'changed'
        and history.observed_at >= %(start_at)s
        and history.observed_at < %(end_at)s
    group by history.movie_id
),

movie_records as (
    select
        history.movie_id,
        history.imdb_rating,
        history.no_of_votes,
        row_number() over (
            partition by history.movie_id
            order by history.observed_at desc, history.batch_id desc
        ) as newest_rank,
        row_number() over (
            partition by history.movie_id
            order by
                case when history.observed_at < %(start_at)s then 0 else 1 end,
                case when history.observed_at < %(start_at)s then history.observed_at end desc,
                history.observed_at,
                history.batch_id
        ) as baseline_rank,
        count(*) over (partition by history.movie_id) as records
    from movies.rating_history as history
    inner join period_movies
        on history.movie_id = period_movies.movie_id
    where history.observed_at < %(end_at)s
),

moves as (
    select
        latest.movie_id,
        baseline.imdb_rating as rating_before,
        latest.imdb_rating as rating_after,
        latest.imdb_rating - baseline.imdb_rating as rating_change,
        baseline.no_of_votes as votes_before,
        latest.no_of_votes as votes_after,
        latest.no_of_votes - baseline.no_of_votes as votes_change
    from movie_records as latest
    inner join movie_records as baseline
        on latest.movie_id = baseline.movie_id
    where
        latest.newest_rank = 1
        and baseline.baseline_rank = 1
        and latest.records > 1
),

ranked_moves as (
    select
        moves.movie_id,
        moves.rating_before,
        moves.rating_after,
        moves.rating_change,
        moves.votes_before,
        moves.votes_after,
        moves.votes_change,
        row_number() over (
            order by abs(moves.rating_change) desc, moves.votes_after desc, moves.movie_id
        ) as rating_change_rank,
        row_number() over (
            order by abs(moves.votes_change) desc, moves.votes_after desc, moves.movie_id
        ) as votes_change_rank
    from moves
)

select
    ranked_moves.movie_id,
    movie.series_title,
    cast(movie.released_year as varchar(4)) as released_year,
    ranked_moves.rating_before,
    ranked_moves.rating_after,
    ranked_moves.rating_change,
    ranked_moves.votes_before,
    ranked_moves.votes_after,
    ranked_moves.votes_change,
    ranked_moves.rating_change_rank,
    ranked_moves.votes_change_rank
from ranked_moves
inner join movies.imdb_movies as movie
    on ranked_moves.movie_id = movie.movie_id
where
    (ranked_moves.rating_change <> 0 and ranked_moves.rating_change_rank <= %(row_limit)s)
    or (ranked_moves.votes_change <> 0 and ranked_moves.votes_change_rank <= %(row_limit)s)
