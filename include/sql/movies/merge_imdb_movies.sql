-- Merge one staged batch into imdb_movies and record its rating history.
-- Parameter: batch_id. Only the batch's staged rows whose ledger row is 'verified' (passed the
-- quality gate) are merged, and of each movie only its latest row: the latest data wins, by the
-- file's source time (dt= day of the key, else LastModified), then LastModified, then line. A row
-- older than the version imdb_movies holds never replaces it. Rendered for one batch by
-- dags/imdb_pipeline/warehouse.py:merge_statements, in ONE transaction after the ledger lock and
-- before the ledger's 'loaded' update (include/sql/ledger/update_loaded_rows.sql, which reads
-- merge_source): a failure in any statement leaves the warehouse as it was.
-- Written in the SQL that both Amazon Redshift and PostgreSQL 15+ accept: the MERGE source is a
-- table (not a subquery), one WHEN clause of each kind, no IS DISTINCT FROM, no CURRENT_TIMESTAMP.
-- Statements are split on semicolons, so comments and strings here must not contain one.

drop table if exists merge_source;

-- Staged rows of the batch's files whose ledger row is 'verified', one per movie (its latest), and
-- only where it is at least as new as what imdb_movies holds.
create temp table merge_source as
with staged_files as (
    select
        ledger.batch_id,
        's3://' || ledger.bucket || '/' || ledger.object_key as source_object,
        ledger.source_time,
        ledger.last_modified
    from movies.load_ledger as ledger
    where
        ledger.status = 'verified'
        and ledger.batch_id = %(batch_id)s
),

ranked_rows as (
    select
        staging.movie_id,
        staging.series_title,
        staging.released_year,
        staging.certificate,
        staging.runtime_minutes,
        staging.genres,
        staging.primary_genre,
        staging.imdb_rating,
        staging.meta_score,
        staging.no_of_votes,
        staging.gross_usd,
        staging.director,
        staging.star1,
        staging.star2,
        staging.star3,
        staging.star4,
        staging.overview,
        staging.poster_link,
        staging.is_quality_movie,
        staging.source_object,
        staging.source_line,
        staging.batch_id,
        staging.ingested_at,
        staged_files.source_time,
        staged_files.last_modified as source_modified_at,
        row_number() over (
            partition by staging.movie_id
            order by
                staged_files.source_time desc,
                staged_files.last_modified desc,
                staging.source_object desc,
                staging.source_line desc
        ) as row_rank
    from movies.imdb_movies_staging as staging
    inner join staged_files
        on
            staging.batch_id = staged_files.batch_id
            and staging.source_object = staged_files.source_object
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
    ranked_rows.overview,
    ranked_rows.poster_link,
    ranked_rows.is_quality_movie,
    ranked_rows.source_object,
    ranked_rows.source_line,
    ranked_rows.batch_id,
    ranked_rows.ingested_at,
    ranked_rows.source_time,
    ranked_rows.source_modified_at
from ranked_rows
left join movies.imdb_movies as current_movies
    on ranked_rows.movie_id = current_movies.movie_id
where
    ranked_rows.row_rank = 1
    and (
        current_movies.movie_id is null
        or ranked_rows.source_time > current_movies.source_time
        or (
            ranked_rows.source_time = current_movies.source_time
            and ranked_rows.source_modified_at >= current_movies.source_modified_at
        )
    );

-- History first: it compares the incoming values with the current ones before the MERGE
-- overwrites them. Measures are never null except meta score and gross, hence the coalesce.
insert into movies.rating_history (
    movie_id,
    batch_id,
    change_type,
    imdb_rating,
    meta_score,
    no_of_votes,
    gross_usd,
    observed_at
)
select
    merge_source.movie_id,
    merge_source.batch_id,
    case when imdb_movies.movie_id is null then 'new' else 'changed' end as change_type,
    merge_source.imdb_rating,
    merge_source.meta_score,
    merge_source.no_of_votes,
    merge_source.gross_usd,
    merge_source.source_time as observed_at
from merge_source
left join movies.imdb_movies as imdb_movies
    on merge_source.movie_id = imdb_movies.movie_id
where
    imdb_movies.movie_id is null
    or merge_source.imdb_rating <> imdb_movies.imdb_rating
    or merge_source.no_of_votes <> imdb_movies.no_of_votes
    or coalesce(merge_source.meta_score, -1) <> coalesce(imdb_movies.meta_score, -1)
    or coalesce(merge_source.gross_usd, -1) <> coalesce(imdb_movies.gross_usd, -1);

merge into movies.imdb_movies
using merge_source as incoming
    on imdb_movies.movie_id = incoming.movie_id
when matched then update set
    series_title = incoming.series_title,
    released_year = incoming.released_year,
    certificate = incoming.certificate,
    runtime_minutes = incoming.runtime_minutes,
    genres = incoming.genres,
    primary_genre = incoming.primary_genre,
    imdb_rating = incoming.imdb_rating,
    meta_score = incoming.meta_score,
    no_of_votes = incoming.no_of_votes,
    gross_usd = incoming.gross_usd,
    director = incoming.director,
    star1 = incoming.star1,
    star2 = incoming.star2,
    star3 = incoming.star3,
    star4 = incoming.star4,
    overview = incoming.overview,
    poster_link = incoming.poster_link,
    is_quality_movie = incoming.is_quality_movie,
    source_object = incoming.source_object,
    source_line = incoming.source_line,
    ingested_at = incoming.ingested_at,
    last_loaded_batch = incoming.batch_id,
    updated_at = incoming.ingested_at,
    source_time = incoming.source_time,
    source_modified_at = incoming.source_modified_at
when not matched then insert (
    movie_id,
    series_title,
    released_year,
    certificate,
    runtime_minutes,
    genres,
    primary_genre,
    imdb_rating,
    meta_score,
    no_of_votes,
    gross_usd,
    director,
    star1,
    star2,
    star3,
    star4,
    overview,
    poster_link,
    is_quality_movie,
    source_object,
    source_line,
    ingested_at,
    first_loaded_batch,
    last_loaded_batch,
    updated_at,
    source_time,
    source_modified_at
) values (
    incoming.movie_id,
    incoming.series_title,
    incoming.released_year,
    incoming.certificate,
    incoming.runtime_minutes,
    incoming.genres,
    incoming.primary_genre,
    incoming.imdb_rating,
    incoming.meta_score,
    incoming.no_of_votes,
    incoming.gross_usd,
    incoming.director,
    incoming.star1,
    incoming.star2,
    incoming.star3,
    incoming.star4,
    incoming.overview,
    incoming.poster_link,
    incoming.is_quality_movie,
    incoming.source_object,
    incoming.source_line,
    incoming.ingested_at,
    incoming.batch_id,
    incoming.batch_id,
    incoming.ingested_at,
    incoming.source_time,
    incoming.source_modified_at
);
