"""The Glue job's work done by DuckDB: the reference its time is measured against.

Same parse (every field as text), trimming, typing with the job's patterns, the job's checks with
a reason list per row, the same-movie duplicate rule (a window over movie_id), the split into
Parquet (valid rows) and JSON lines (quarantined rows) and the summary counts.

Left out, so the reference is a little cheaper than the job: the header probe per file and
mapping columns by name, line numbers that count blank lines, the per-row error messages and the
`raw` map of quarantined rows (the row is kept as a struct instead), genre de-duplication, and
the rejection of whole files.
"""

from __future__ import annotations

import json
from pathlib import Path

GROUPED = r"([0-9]+|[0-9]{1,3}(,[0-9]{2,3})+)"

TRANSFORM = r"""
create or replace temporary view raw_rows as
select row_number() over () + 1 as line_number, *
from read_csv('@SOURCE@', all_varchar = true, header = true, quote = '"', escape = '"',
              null_padding = true, ignore_errors = true, strict_mode = false);

create or replace temporary view texts as
select line_number,
       nullif(trim(series_title), '') as series_title, nullif(trim(released_year), '') as year_text,
       nullif(trim(certificate), '') as certificate_text, nullif(trim(runtime), '') as runtime_text,
       nullif(trim(genre), '') as genre_text, nullif(trim(imdb_rating), '') as rating_text,
       nullif(trim(overview), '') as overview, nullif(trim(meta_score), '') as meta_text,
       nullif(trim(director), '') as director, nullif(trim(star1), '') as star1,
       nullif(trim(star2), '') as star2, nullif(trim(star3), '') as star3, nullif(trim(star4), '') as star4,
       nullif(trim(no_of_votes), '') as votes_text, nullif(trim(gross), '') as gross_text,
       nullif(trim(poster_link), '') as poster_link
from raw_rows;

create or replace temporary view typed as
select t.*,
       case when regexp_matches(year_text, '^[0-9]{4}$') then try_cast(year_text as int) end as released_year,
       upper(regexp_replace(certificate_text, '[/\s]', '', 'g')) as certificate,
       case when regexp_matches(runtime_text, '(?i)^([0-9]+) *(min|mins|minutes)?$')
            then try_cast(regexp_extract(runtime_text, '^([0-9]+)', 1) as int) end as runtime_minutes,
       list_filter(list_transform(string_split(genre_text, ','), lambda g: trim(g)), lambda g: g <> '') as genre_list,
       case when regexp_matches(rating_text, '^[0-9]+([.][0-9])?$') then try_cast(rating_text as decimal(10, 1))
            end as imdb_rating,
       case when regexp_matches(meta_text, '^-?[0-9]+$') then try_cast(meta_text as int) end as meta_score,
       case when regexp_matches(votes_text, '^-?@GROUPED@$') then try_cast(replace(votes_text, ',', '') as bigint)
            end as no_of_votes,
       case when regexp_matches(gross_text, '^@GROUPED@$') then try_cast(replace(gross_text, ',', '') as bigint)
            end as gross_usd,
       md5(lower(regexp_replace(series_title, '\s+', ' ', 'g')) || '|' || released_year) as movie_id
from texts as t;

create or replace temporary view checked as
select ty.*,
       list_filter([
           case when series_title is null then 'missing_title' end,
           case when year_text is null then 'missing_year' end,
           case when year_text is not null and (released_year is null or released_year < 1888
                or released_year > @MAX_YEAR@) then 'invalid_year' end,
           case when rating_text is null then 'missing_rating' end,
           case when rating_text is not null and imdb_rating is null then 'unparseable_rating' end,
           case when imdb_rating < 1 or imdb_rating > 10 then 'rating_out_of_range' end,
           case when votes_text is null then 'missing_votes' end,
           case when votes_text is not null and no_of_votes is null then 'unparseable_votes' end,
           case when no_of_votes < 0 then 'negative_votes' end,
           case when runtime_text is not null and runtime_minutes is null then 'unparseable_runtime' end,
           case when gross_text is not null and gross_usd is null then 'unparseable_gross' end,
           case when meta_text is not null and meta_score is null then 'unparseable_meta_score' end,
           case when meta_score < 0 or meta_score > 100 then 'meta_score_out_of_range' end,
           case when len(genre_list) = 0 or genre_list is null then 'missing_genre' end,
           case when director is null then 'missing_director' end
       ], lambda code: code is not null) as row_reasons
from typed as ty;

create or replace temporary table validated as
select c.*,
       case when movie_id is not null and row_number() over (
                partition by movie_id order by len(row_reasons) > 0, line_number) > 1
            then list_append(row_reasons, 'duplicate_key') else row_reasons end as reasons
from checked as c;
"""

WRITE = """
copy (select movie_id, series_title, released_year, certificate, runtime_minutes,
             array_to_string(genre_list, ',') as genres, genre_list[1] as primary_genre,
             cast(imdb_rating as decimal(3, 1)) as imdb_rating, meta_score, no_of_votes, gross_usd, director,
             star1, star2, star3, star4, overview, poster_link,
             coalesce(imdb_rating > 8.0 and imdb_rating < 10.3, false) as is_quality_movie,
             'source' as source_object, line_number as source_line, 'bench' as batch_id,
             now() as ingested_at
      from validated where len(reasons) = 0)
to '{output}/processed.parquet' (format parquet);
copy (select 'bench' as batch_id, 'source' as source_object, line_number, reasons,
             struct_pack(series_title, year_text, rating_text, votes_text) as raw
      from validated where len(reasons) > 0)
to '{output}/quarantine.json' (format json);
"""

COUNTS = """
select len(reasons) = 0 as is_valid, coalesce(imdb_rating > 8.0 and imdb_rating < 10.3, false) as quality,
       reasons, count(*) as rows
from validated group by all
"""


def run_reference(source: Path, output: Path, max_year: int = 2027) -> dict:
    """Runs the reference on one file and returns its summary counts."""
    import duckdb

    output.mkdir(parents=True, exist_ok=True)
    connection = duckdb.connect()
    connection.execute(
        TRANSFORM.replace("@SOURCE@", str(source)).replace("@MAX_YEAR@", str(max_year)).replace("@GROUPED@", GROUPED)
    )
    connection.execute(WRITE.format(output=output))
    summary = {"rows_valid": 0, "rows_quarantined": 0, "reasons": {}}
    for is_valid, _quality, reasons, rows in connection.execute(COUNTS).fetchall():
        summary["rows_valid" if is_valid else "rows_quarantined"] += rows
        for code in reasons:
            summary["reasons"][code] = summary["reasons"].get(code, 0) + rows
    (output / "summary.json").write_text(json.dumps(summary))
    connection.close()
    return summary
