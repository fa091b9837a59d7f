-- Genres by number of quality movies (marts.quality_movies_by_genre). Read-only.
-- Parameters: row_limit.
select
    genres.genre,
    genres.movies,
    genres.quality_movies,
    genres.avg_rating
from marts.quality_movies_by_genre as genres
order by genres.quality_movies desc, genres.movies desc, genres.genre
limit %(row_limit)s
