-- Stars (any of the four billed) with at least three movies, by average rating (marts.top_stars).
with star_movies as (
    select distinct
        movie.movie_id,
        billed.star,
        movie.imdb_rating
    from current_movies as movie
    cross join unnest(array[movie.star1, movie.star2, movie.star3, movie.star4]) as billed (star)
    where billed.star is not null
),

star_stats as (
    select
        star_movies.star,
        count(*) as movies,
        round(avg(cast(star_movies.imdb_rating as double)), 2) as avg_rating
    from star_movies
    group by star_movies.star
    having count(*) >= 3
)

select
    star_stats.star,
    star_stats.movies,
    star_stats.avg_rating,
    rank() over (order by star_stats.avg_rating desc) as rating_rank
from star_stats
order by rating_rank, star_stats.star
