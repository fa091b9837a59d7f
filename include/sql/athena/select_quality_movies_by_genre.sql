-- Quality movies by genre: a movie counts once in each of its genres (marts.quality_movies_by_genre).
select
    trim(movie_genre.genre) as genre,
    count(*) as movies,
    count_if(movie.is_quality_movie) as quality_movies,
    round(avg(cast(movie.imdb_rating as double)), 2) as avg_rating
from current_movies as movie
cross join unnest(split(movie.genres, ',')) as movie_genre (genre)
group by trim(movie_genre.genre)
order by quality_movies desc, genre
