-- Genres by number of quality movies (a movie counts once in each of its genres), from the mart the
-- merge's refresh rebuilds. Read-only. Parameters: row_limit.
select
    genre.genre,
    genre.movies,
    genre.quality_movies,
    genre.avg_rating
from marts.quality_movies_by_genre as genre
order by genre.quality_movies desc, genre.movies desc, genre.genre
limit %(row_limit)s
