-- Quality movies by decade of release (marts.quality_movies_by_decade).
select
    movie.released_year / 10 * 10 as decade,
    count(*) as movies,
    count_if(movie.is_quality_movie) as quality_movies,
    round(avg(cast(movie.imdb_rating as double)), 2) as avg_rating
from current_movies as movie
group by movie.released_year / 10 * 10
order by decade
