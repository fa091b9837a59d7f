-- The highest-rated movies (ties: more votes first). Read-only. Parameters: row_limit.
select
    movie.series_title,
    cast(movie.released_year as varchar(4)) as released_year,
    movie.director,
    movie.primary_genre,
    movie.imdb_rating,
    movie.no_of_votes
from movies.imdb_movies as movie
order by movie.imdb_rating desc, movie.no_of_votes desc, movie.movie_id
limit %(row_limit)s
