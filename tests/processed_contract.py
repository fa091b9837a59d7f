"""The processed-Parquet contract (docs/interfaces.md) as a pyarrow schema: what the Glue job writes
and what the warehouse tests publish in its place."""

import pyarrow as pa

PROCESSED_SCHEMA = pa.schema(
    [
        ("movie_id", pa.string()),
        ("series_title", pa.string()),
        ("released_year", pa.int32()),
        ("certificate", pa.string()),
        ("runtime_minutes", pa.int32()),
        ("genres", pa.string()),
        ("primary_genre", pa.string()),
        ("imdb_rating", pa.decimal128(3, 1)),
        ("meta_score", pa.int32()),
        ("no_of_votes", pa.int64()),
        ("gross_usd", pa.int64()),
        ("director", pa.string()),
        ("star1", pa.string()),
        ("star2", pa.string()),
        ("star3", pa.string()),
        ("star4", pa.string()),
        ("overview", pa.string()),
        ("poster_link", pa.string()),
        ("is_quality_movie", pa.bool_()),
        ("source_object", pa.string()),
        ("source_line", pa.int32()),
        ("batch_id", pa.string()),
        ("ingested_at", pa.timestamp("us", tz="UTC")),
    ]
)
