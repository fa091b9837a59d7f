-- Current state of every movie in Athena: its row from the latest merged batch, as in
-- movies.imdb_movies (the last row of a movie repeated within a batch wins, as in the merge).
create or replace view current_movies as
with ranked_rows as (
    select
        processed.*,
        row_number() over (
            partition by processed.movie_id
            order by processed.ingested_at desc, processed.batch_id desc,
                processed.source_object desc, processed.source_line desc
        ) as row_rank
    from processed_movies as processed
)

select
    ranked_rows.movie_id,
    ranked_rows.series_title,
    ranked_rows.released_year,
    ranked_rows.certificate,
    ranked_rows.runtime_minutes,
    ranked_rows.genres,
    ranked_rows.primary_genre,
    ranked_rows.imdb_rating,
    ranked_rows.meta_score,
    ranked_rows.no_of_votes,
    ranked_rows.gross_usd,
    ranked_rows.director,
    ranked_rows.star1,
    ranked_rows.star2,
    ranked_rows.star3,
    ranked_rows.star4,
    ranked_rows.is_quality_movie,
    ranked_rows.batch_id as last_loaded_batch,
    ranked_rows.ingested_at
from ranked_rows
where ranked_rows.row_rank = 1
