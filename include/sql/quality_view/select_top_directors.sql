-- The best-rated directors with at least three movies (ties: more votes first), from the mart the
-- merge's refresh rebuilds. Read-only. Parameters: row_limit.
select
    director.director,
    director.movies,
    director.avg_rating,
    director.total_votes
from marts.top_directors as director
order by director.avg_rating desc, director.total_votes desc, director.director
limit %(row_limit)s
