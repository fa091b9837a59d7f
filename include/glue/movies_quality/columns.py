"""Column names of the seed CSV layout, and the declaration of the processed Parquet output."""

import re
from dataclasses import dataclass

# Header of the seed file, in its order; headers match these case-insensitively.
SOURCE_COLUMNS = (
    "Poster_Link",
    "Series_Title",
    "Released_Year",
    "Certificate",
    "Runtime",
    "Genre",
    "IMDB_Rating",
    "Overview",
    "Meta_score",
    "Director",
    "Star1",
    "Star2",
    "Star3",
    "Star4",
    "No_of_Votes",
    "Gross",
)

# Inside the job each source column is carried as its lower-cased name, holding the raw string.
RAW_COLUMNS = tuple(name.lower() for name in SOURCE_COLUMNS)


@dataclass(frozen=True)
class ProcessedColumn:
    """One column of the processed Parquet and of the warehouse's staging table.

    `spark_type` is what the job writes (Spark SQL type name); `warehouse_type` the Redshift
    column type, whose width (characters for CHAR/VARCHAR as declared, bytes as Redshift counts)
    bounds the text the warehouse accepts.
    """

    name: str
    spark_type: str
    warehouse_type: str
    nullable: bool

    @property
    def max_bytes(self) -> int | None:
        """The byte width of a CHAR/VARCHAR column (Redshift counts bytes, not characters); else None."""
        match = _TEXT_WIDTH.match(self.warehouse_type)
        return int(match.group(1)) if match else None


_TEXT_WIDTH = re.compile(r"^(?:var)?char\((\d+)\)$")

# The one declaration of the processed Parquet: names, order (Redshift COPY ... PARQUET maps by
# position), types and widths. The staging DDL, the Soda staging contract, the merge, the Athena
# table and docs/interfaces.md are compared against it by tests/unit/test_processed_columns.py.
PROCESSED = (
    ProcessedColumn("movie_id", "string", "char(32)", False),
    ProcessedColumn("series_title", "string", "varchar(512)", False),
    ProcessedColumn("released_year", "int", "integer", False),
    ProcessedColumn("certificate", "string", "varchar(16)", True),
    ProcessedColumn("runtime_minutes", "int", "integer", True),
    ProcessedColumn("genres", "string", "varchar(256)", False),
    ProcessedColumn("primary_genre", "string", "varchar(64)", False),
    ProcessedColumn("imdb_rating", "decimal(3,1)", "decimal(3,1)", False),
    ProcessedColumn("meta_score", "int", "integer", True),
    ProcessedColumn("no_of_votes", "bigint", "bigint", False),
    ProcessedColumn("gross_usd", "bigint", "bigint", True),
    ProcessedColumn("director", "string", "varchar(256)", False),
    ProcessedColumn("star1", "string", "varchar(256)", True),
    ProcessedColumn("star2", "string", "varchar(256)", True),
    ProcessedColumn("star3", "string", "varchar(256)", True),
    ProcessedColumn("star4", "string", "varchar(256)", True),
    ProcessedColumn("overview", "string", "varchar(4096)", True),
    ProcessedColumn("poster_link", "string", "varchar(1024)", True),
    ProcessedColumn("is_quality_movie", "boolean", "boolean", False),
    ProcessedColumn("source_object", "string", "varchar(1024)", False),
    ProcessedColumn("source_line", "int", "integer", False),
    ProcessedColumn("batch_id", "string", "varchar(64)", False),
    ProcessedColumn("ingested_at", "timestamp", "timestamp", False),
)
PROCESSED_COLUMNS = tuple(column.name for column in PROCESSED)

QUARANTINE_COLUMNS = ("batch_id", "source_object", "line_number", "reasons", "errors", "raw")
