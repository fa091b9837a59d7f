-- Directors with at least three movies, by average rating (marts.top_directors).
with director_stats as (
    select
        movie.director,
        count(*) as movies,
        round(avg(cast(movie.imdb_rating as double)), 2) as avg_rating,
        sum(movie.no_of_votes) as total_votes
    from current_movies as movie
    group by movie.director
    having count(*) >= 3
)

select
    director_stats.director,
    director_stats.movies,
    director_stats.avg_rating,
    director_stats.total_votes,
    rank() over (order by director_stats.avg_rating desc) as rating_rank
from director_stats
order by rating_rank, director_stats.director
