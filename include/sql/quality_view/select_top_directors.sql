-- The best-rated directors with at least three movies (marts.top_directors). Read-only.
-- Parameters: row_limit.
select
    directors.director,
    directors.movies,
    directors.avg_rating,
    directors.total_votes
from marts.top_directors as directors
order by directors.rating_rank, directors.total_votes desc, directors.director
limit %(row_limit)s
