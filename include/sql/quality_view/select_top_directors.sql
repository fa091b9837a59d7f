-- The best-rated directors with at least three movies, as marts.top_directors ranks them
-- (average rating, ties by votes), without ranking every director first. Read-only.
-- Parameters: row_limit.
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
    director_stats.total_votes
from director_stats
order by director_stats.avg_rating desc, director_stats.total_votes desc, director_stats.director
limit %(row_limit)s
