-- Genres by number of quality movies, as marts.quality_movies_by_genre counts them (a movie counts
-- once in each of its genres, up to three), but grouped by the genres list first: the lists are
-- few, so the split runs over a few hundred groups instead of every movie. Read-only.
-- Parameters: row_limit.
with genre_lists as (
    select
        movie.genres,
        count(*) as movies,
        sum(case when movie.is_quality_movie then 1 else 0 end) as quality_movies,
        sum(cast(movie.imdb_rating as decimal(12, 1))) as rating_sum
    from movies.imdb_movies as movie
    group by movie.genres
),

genre_positions as (
    select 1 as genre_position
    union all
    select 2 as genre_position
    union all
    select 3 as genre_position
    union all
    select 4 as genre_position
    union all
    select 5 as genre_position
),

list_genres as (
    select
        trim(split_part(genre_lists.genres, ',', genre_positions.genre_position)) as genre,
        genre_lists.movies,
        genre_lists.quality_movies,
        genre_lists.rating_sum
    from genre_lists
    inner join genre_positions
        on genre_positions.genre_position <= regexp_count(genre_lists.genres, ',') + 1
),

genre_totals as (
    select
        list_genres.genre,
        sum(list_genres.movies) as movies,
        sum(list_genres.quality_movies) as quality_movies,
        round(sum(list_genres.rating_sum) / sum(list_genres.movies), 2) as avg_rating
    from list_genres
    group by list_genres.genre
)

select
    genre_totals.genre,
    genre_totals.movies,
    genre_totals.quality_movies,
    genre_totals.avg_rating
from genre_totals
order by genre_totals.quality_movies desc, genre_totals.movies desc, genre_totals.genre
limit %(row_limit)s
