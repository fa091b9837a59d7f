"""Reason codes of the Glue job's row validation, each on real Spark."""

import pytest
from movies_quality import reasons as R

from tests.unit.glue.movie_rows import movie, validated_movies

pytestmark = pytest.mark.spark

CASES = [
    (R.MISSING_TITLE, {"Series_Title": " "}, "Series_Title"),
    (R.MISSING_YEAR, {"Released_Year": ""}, "Released_Year"),
    (R.INVALID_YEAR, {"Released_Year": "PG"}, '"PG"'),
    (R.INVALID_YEAR, {"Released_Year": "1887"}, '"1887"'),
    (R.INVALID_YEAR, {"Released_Year": "2028"}, '"2028"'),
    (R.MISSING_RATING, {"IMDB_Rating": ""}, "IMDB_Rating"),
    (R.UNPARSEABLE_RATING, {"IMDB_Rating": "nine"}, '"nine"'),
    (R.RATING_OUT_OF_RANGE, {"IMDB_Rating": "10.5"}, '"10.5"'),
    (R.RATING_OUT_OF_RANGE, {"IMDB_Rating": "0.9"}, '"0.9"'),
    (R.MISSING_VOTES, {"No_of_Votes": ""}, "No_of_Votes"),
    (R.UNPARSEABLE_VOTES, {"No_of_Votes": "many"}, '"many"'),
    (R.NEGATIVE_VOTES, {"No_of_Votes": "-3"}, '"-3"'),
    (R.UNPARSEABLE_RUNTIME, {"Runtime": "two hours"}, '"two hours"'),
    (R.UNPARSEABLE_GROSS, {"Gross": "$28M"}, '"$28M"'),
    (R.UNPARSEABLE_META_SCORE, {"Meta_score": "high"}, '"high"'),
    (R.META_SCORE_OUT_OF_RANGE, {"Meta_score": "101"}, '"101"'),
    (R.MISSING_GENRE, {"Genre": ","}, "Genre"),
    (R.MISSING_DIRECTOR, {"Director": ""}, "Director"),
    (R.INVALID_ENCODING, {"Overview": "caf\ufffd"}, "UTF-8"),
    (R.VALUE_TOO_LONG, {"Certificate": "ABCDEFGHIJKLMNOPQ"}, "certificate has 17 bytes, over 16"),
    # 2,100 characters fit varchar(4096) as PostgreSQL counts; 4,200 bytes do not, as Redshift counts.
    (R.VALUE_TOO_LONG, {"Overview": "é" * 2100}, "overview has 4200 bytes, over 4096"),
    (R.VALUE_TOO_LONG, {"Star1": "星" * 86}, "star1 has 258 bytes, over 256"),
]


@pytest.fixture(scope="module")
def case_rows(spark):
    """All cases in one Spark job (distinct titles, so no duplicate keys), then the valid row."""
    rows = [movie(**{"Series_Title": f"Film {index}", **changes}) for index, (_, changes, _) in enumerate(CASES)]
    return validated_movies(spark, [*rows, movie()], max_year=2027)


@pytest.mark.parametrize("index", range(len(CASES)), ids=[f"{code}-{i}" for i, (code, _, _) in enumerate(CASES)])
def test_reason_code_and_message(case_rows, index):
    code, _, named = CASES[index]
    row = case_rows[index]
    assert row["reasons"] == [code]
    assert not row["is_valid"]
    [message] = row["errors"]
    assert message.startswith(f"{code}: ") and named in message


def test_valid_row_has_no_reason(case_rows):
    assert case_rows[-1]["reasons"] == [] and case_rows[-1]["is_valid"]


def test_every_reason_code_is_covered():
    covered = {code for code, _, _ in CASES} | {R.WRONG_FIELD_COUNT, R.DUPLICATE_KEY}
    assert covered == set(R.ALL_REASONS)


def test_all_reasons_that_apply_are_listed(spark):
    [row] = validated_movies(spark, [movie(Released_Year="PG", IMDB_Rating="11", No_of_Votes="-1", Gross="x")])
    assert row["reasons"] == [R.INVALID_YEAR, R.RATING_OUT_OF_RANGE, R.NEGATIVE_VOTES, R.UNPARSEABLE_GROSS]
    assert len(row["errors"]) == 4


def test_wrong_field_count_keeps_the_raw_line_in_the_message(spark):
    from movies_quality.cleaning import type_movies
    from movies_quality.columns import SOURCE_COLUMNS
    from movies_quality.headers import FileLayout
    from movies_quality.reading import parse_records, with_raw_values
    from movies_quality.validation import check_movies, repeated_movies, validate_movies

    layout = FileLayout(0, "memory://x.csv", "s3://b/raw/x.csv", SOURCE_COLUMNS)
    numbered = spark.createDataFrame(
        [(0, 2, "a,Heat,1995,R", layout.source_object)],
        "file_index int, line_number int, value string, source_object string",
    )
    checked = check_movies(type_movies(parse_records(numbered, [layout])), max_year=2027)
    validated = validate_movies(checked, repeated_movies(checked), quality_min=8, quality_max=10.3)
    [row] = with_raw_values(validated, [layout]).collect()
    assert R.WRONG_FIELD_COUNT in row["reasons"]
    assert any(message.startswith(R.WRONG_FIELD_COUNT) and "a,Heat,1995,R" in message for message in row["errors"])
    assert row["raw"]["Series_Title"] == "Heat" and row["raw"]["Gross"] is None


def test_duplicate_key_keeps_the_latest_valid_row(spark):
    """The latest valid row wins (a batch lists its files oldest data first), as in the warehouse merge."""
    rows = validated_movies(
        spark,
        [
            movie(Series_Title="Drishyam", Released_Year="2015", IMDB_Rating="11"),
            movie(Series_Title="Drishyam", Released_Year="2015"),
            movie(Series_Title="drishyam", Released_Year="2015"),
            movie(Series_Title="Drishyam", Released_Year="2013"),
        ],
    )
    assert [row["reasons"] for row in rows] == [
        [R.RATING_OUT_OF_RANGE, R.DUPLICATE_KEY],
        [R.DUPLICATE_KEY],
        [],
        [],
    ]
    assert "line 4 of s3://bucket/raw/rows.csv" in rows[1]["errors"][0]


def test_quality_flag_is_a_classification_not_a_validity_rule(spark):
    rows = validated_movies(
        spark,
        [movie(Series_Title=f"F{rating}", IMDB_Rating=rating) for rating in ("8.0", "8.1", "10.0", "7.6")],
    )
    assert [row["is_quality_movie"] for row in rows] == [False, True, True, False]
    assert all(row["is_valid"] for row in rows)


def test_values_at_their_byte_width_pass(spark):
    [row] = validated_movies(spark, [movie(Certificate="ABCDEFGHIJKLMNOP", Overview="é" * 2048, Star1="星" * 85)])
    assert row["is_valid"], row["errors"]
