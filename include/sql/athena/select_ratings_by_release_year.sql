-- Average rating and votes per release year (marts.ratings_by_release_year).
select
    movie.released_year,
    count(*) as movies,
    round(avg(cast(movie.imdb_rating as double)), 2) as avg_rating,
    round(avg(cast(movie.no_of_votes as double))) as avg_votes
from current_movies as movie
group by movie.released_year
order by movie.released_year
