"""Column names of the seed CSV layout and of the processed Parquet output."""

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

# Processed Parquet columns in the order of docs/interfaces.md (Redshift COPY maps by position).
PROCESSED_COLUMNS = (
    "movie_id",
    "series_title",
    "released_year",
    "certificate",
    "runtime_minutes",
    "genres",
    "primary_genre",
    "imdb_rating",
    "meta_score",
    "no_of_votes",
    "gross_usd",
    "director",
    "star1",
    "star2",
    "star3",
    "star4",
    "overview",
    "poster_link",
    "is_quality_movie",
    "source_object",
    "source_line",
    "batch_id",
    "ingested_at",
)

QUARANTINE_COLUMNS = ("batch_id", "source_object", "line_number", "reasons", "errors", "raw")
