"""Seed-shaped CSV rows for the Glue job tests, and a helper running them through the transforms."""

import csv
import io
from decimal import Decimal

from movies_quality.columns import SOURCE_COLUMNS
from movies_quality.headers import FileLayout

VALID_MOVIE = {
    "Poster_Link": "https://m.media-amazon.com/images/M/shawshank.jpg",
    "Series_Title": "The Shawshank Redemption",
    "Released_Year": "1994",
    "Certificate": "A",
    "Runtime": "142 min",
    "Genre": "Drama",
    "IMDB_Rating": "9.3",
    "Overview": "Two imprisoned men bond over a number of years.",
    "Meta_score": "80",
    "Director": "Frank Darabont",
    "Star1": "Tim Robbins",
    "Star2": "Morgan Freeman",
    "Star3": "Bob Gunton",
    "Star4": "William Sadler",
    "No_of_Votes": "2343110",
    "Gross": "28,341,469",
}


def movie(**changes: str) -> dict[str, str]:
    """A valid seed row with some fields changed."""
    return {**VALID_MOVIE, **changes}


def csv_text(rows: list[dict[str, str]], header=SOURCE_COLUMNS, line_end: str = "\r\n") -> str:
    """CSV text with a header, RFC 4180 quoting like the seed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=line_end)
    writer.writerow(header)
    for row in rows:
        writer.writerow([row.get(name, "") for name in SOURCE_COLUMNS])
    return buffer.getvalue()


def validated_movies(spark, rows: list[dict[str, str]], max_year: int = 2027):
    """The rows (one file, lines 2..n+1) through parsing, typing and validation, ordered by line."""
    from movies_quality.cleaning import type_movies
    from movies_quality.reading import parse_records
    from movies_quality.validation import check_movies, repeated_movies, validate_movies

    layout = FileLayout(0, "memory://rows.csv", "s3://bucket/raw/rows.csv", SOURCE_COLUMNS)
    lines = csv_text(rows, line_end="\n").splitlines()[1:]
    numbered = spark.createDataFrame(
        [(0, number, line, layout.source_object) for number, line in enumerate(lines, start=2)],
        "file_index int, line_number int, value string, source_object string",
    )
    checked = check_movies(type_movies(parse_records(numbered, [layout])), max_year=max_year)
    validated = validate_movies(
        checked, repeated_movies(checked), quality_min=Decimal("8.0"), quality_max=Decimal("10.3")
    )
    return [row.asDict(recursive=True) for row in validated.orderBy("line_number").collect()]
