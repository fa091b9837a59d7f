"""Typing and cleaning rules of the Glue job, each on real Spark."""

from decimal import Decimal

import pytest

from tests.unit.glue.movie_rows import movie, validated_movies

pytestmark = pytest.mark.spark


def typed_values(spark, column: str, field: str, raw_values: list[str]) -> list:
    """The typed value of `field` for each raw value of `column`, in order."""
    rows = validated_movies(spark, [movie(**{column: raw}) for raw in raw_values])
    return [row[field] for row in rows]


def test_runtime_minutes_from_text(spark):
    values = typed_values(spark, "Runtime", "runtime_minutes", ["142 min", " 95 MIN ", "88", "", "2 h"])
    assert values == [142, 95, 88, None, None]


def test_gross_accepts_both_digit_groupings(spark):
    raw = ["28,341,469", "2,83,41,469", "28341469", "", "28.341.469", "$28,341,469", "1,2345"]
    values = typed_values(spark, "Gross", "gross_usd", raw)
    assert values == [28341469, 28341469, 28341469, None, None, None, None]


def test_released_year_int_and_pg_is_not_a_year(spark):
    assert typed_values(spark, "Released_Year", "released_year", ["1994", " 2013 ", "PG", "94"]) == [
        1994,
        2013,
        None,
        None,
    ]


def test_rating_as_one_decimal(spark):
    values = typed_values(spark, "IMDB_Rating", "imdb_rating", ["9.3", "8", "8.25", "x"])
    assert values == [Decimal("9.3"), Decimal("8.0"), None, None]


def test_meta_score_and_votes(spark):
    assert typed_values(spark, "Meta_score", "meta_score", ["80", "", "eighty"]) == [80, None, None]
    votes = typed_values(spark, "No_of_Votes", "no_of_votes", ["2343110", "2,343,110", "-5", "99999999999999999999"])
    assert votes == [2343110, 2343110, -5, None]


def test_certificate_normalised(spark):
    values = typed_values(spark, "Certificate", "certificate", ["U/A", "UA", "ua", " PG-13 ", ""])
    assert values == ["UA", "UA", "UA", "PG-13", None]


def test_genres_normalised_list_and_primary_genre(spark):
    rows = validated_movies(
        spark, [movie(Genre="Crime, Drama"), movie(Genre=" Action ,  Sci-Fi,,Action "), movie(Genre=" , ")]
    )
    assert [(row["genres"], row["primary_genre"]) for row in rows] == [
        ("Crime,Drama", "Crime"),
        ("Action,Sci-Fi", "Action"),
        (None, None),
    ]


def test_text_is_trimmed_and_blank_is_null(spark):
    [row] = validated_movies(spark, [movie(Series_Title="  Heat  ", Star4="   ", Director=" Michael Mann ")])
    assert (row["series_title"], row["star4"], row["director"]) == ("Heat", None, "Michael Mann")


def test_titles_with_quotes_and_commas_survive_parsing(spark):
    titles = ["Lock, Stock and Two Smoking Barrels", 'The "Great" Escape, Part 2', "Monsters, Inc."]
    rows = validated_movies(spark, [movie(Series_Title=title) for title in titles])
    assert [row["series_title"] for row in rows] == titles
    assert all(row["is_valid"] for row in rows)


def test_movie_id_is_md5_of_normalised_title_and_year(spark):
    rows = validated_movies(
        spark,
        [
            movie(Series_Title="Drishyam", Released_Year="2013"),
            movie(Series_Title="Drishyam", Released_Year="2015"),
            movie(Series_Title="  drishyam ", Released_Year="2015"),
        ],
    )
    import hashlib

    assert rows[0]["movie_id"] == hashlib.md5(b"drishyam|2013").hexdigest()
    assert rows[1]["movie_id"] == hashlib.md5(b"drishyam|2015").hexdigest()
    assert rows[2]["movie_id"] == rows[1]["movie_id"]


def test_whitespace_runs_inside_values_count_as_one_space(spark):
    """Tabs and runs of spaces inside a title, a genre name or a certificate."""
    import hashlib

    rows = validated_movies(
        spark,
        [
            movie(
                Series_Title="The  Dark\tKnight", Released_Year="2008", Genre="Sci\t \tFi ,\tDrama", Certificate="U/\tA"
            ),
            movie(Series_Title="The Dark Knight Rises", Released_Year="2012", Genre="Sci Fi,Drama", Certificate="u a"),
        ],
    )
    assert rows[0]["movie_id"] == hashlib.md5(b"the dark knight|2008").hexdigest()
    assert rows[1]["movie_id"] == hashlib.md5(b"the dark knight rises|2012").hexdigest()
    assert [(row["genres"], row["primary_genre"], row["certificate"]) for row in rows] == [
        ("Sci Fi,Drama", "Sci Fi", "UA"),
        ("Sci Fi,Drama", "Sci Fi", "UA"),
    ]
