-- The highest-rated movies (ties: more votes first), from the mart the merge's refresh rebuilds
-- (it holds the best 100). Read-only. Parameters: row_limit.
select
    top_movie.series_title,
    cast(top_movie.released_year as varchar(4)) as released_year,
    top_movie.director,
    top_movie.primary_genre,
    top_movie.imdb_rating,
    top_movie.no_of_votes
from marts.top_movies as top_movie
where top_movie.rating_rank <= %(row_limit)s
order by top_movie.rating_rank
