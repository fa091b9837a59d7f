"""Row validation: every reason code that applies to a row, with a message naming column and value."""

import operator
from functools import reduce

from movies_quality import reasons as R
from movies_quality.columns import PROCESSED

FIRST_FILM_YEAR = 1888
RATING_MIN, RATING_MAX = 1, 10
META_SCORE_MIN, META_SCORE_MAX = 0, 100
# Text columns the job fills itself (an md5, the object's name, the checked batch id), not from the line.
JOB_SET_COLUMNS = ("movie_id", "source_object", "batch_id")


def _checks(max_year: int):
    """(reason code, condition that fails the row, the text shown in its message or None)."""
    from pyspark.sql import functions as F

    def text(name):
        return F.col(f"{name}_text")

    def unparseable(name, typed):
        return text(name).isNotNull() & F.col(typed).isNull()

    year, rating, votes, meta_score = (F.col(n) for n in ("released_year", "imdb_rating", "no_of_votes", "meta_score"))
    return [
        (R.WRONG_FIELD_COUNT, ~F.col("field_count_ok"), F.col("value")),
        (R.INVALID_ENCODING, F.col("value").contains("\ufffd"), None),
        (R.MISSING_TITLE, text("series_title").isNull(), None),
        (R.MISSING_YEAR, text("released_year").isNull(), None),
        (
            R.INVALID_YEAR,
            text("released_year").isNotNull() & (year.isNull() | (year < FIRST_FILM_YEAR) | (year > max_year)),
            text("released_year"),
        ),
        (R.MISSING_RATING, text("imdb_rating").isNull(), None),
        (R.UNPARSEABLE_RATING, unparseable("imdb_rating", "imdb_rating"), text("imdb_rating")),
        (R.RATING_OUT_OF_RANGE, (rating < RATING_MIN) | (rating > RATING_MAX), text("imdb_rating")),
        (R.MISSING_VOTES, text("no_of_votes").isNull(), None),
        (R.UNPARSEABLE_VOTES, unparseable("no_of_votes", "no_of_votes"), text("no_of_votes")),
        (R.NEGATIVE_VOTES, votes < 0, text("no_of_votes")),
        (R.UNPARSEABLE_RUNTIME, unparseable("runtime", "runtime_minutes"), text("runtime")),
        (R.UNPARSEABLE_GROSS, unparseable("gross", "gross_usd"), text("gross")),
        (R.UNPARSEABLE_META_SCORE, unparseable("meta_score", "meta_score"), text("meta_score")),
        (
            R.META_SCORE_OUT_OF_RANGE,
            (meta_score < META_SCORE_MIN) | (meta_score > META_SCORE_MAX),
            text("meta_score"),
        ),
        (R.MISSING_GENRE, F.col("primary_genre").isNull(), text("genre")),
        (R.MISSING_DIRECTOR, text("director").isNull(), None),
        (R.VALUE_TOO_LONG, *_too_long()),
    ]


def _too_long():
    """(condition, shown) of value_too_long over every text column taken from the line.

    Widths come from PROCESSED; Redshift's VARCHAR(n) holds n bytes of UTF-8 (Spark's
    octet_length), not n characters. The text shown names each column over its width.
    """
    from pyspark.sql import functions as F

    over = [
        (column.name, column.max_bytes, F.octet_length(column.name) > column.max_bytes)
        for column in PROCESSED
        if column.max_bytes is not None and column.name not in JOB_SET_COLUMNS
    ]
    shown = F.concat_ws(
        ", ",
        *[
            F.when(failed, F.format_string(f"{name} has %d bytes, over {width}", F.octet_length(name)))
            for name, width, failed in over
        ],
    )
    return reduce(operator.or_, [failed for _, _, failed in over]), shown


def _message(code: str, shown):
    """The rule of the code, and the offending value when there is one."""
    from pyspark.sql import functions as F

    rule = F.lit(f"{code}: {R.RULES[code]}")
    if shown is None:
        return rule
    return F.concat(rule, F.lit(' (value: "'), F.coalesce(shown, F.lit("")), F.lit('")'))


def check_movies(typed, *, max_year: int):
    """Typed movies with row_reasons and row_errors: every rule of a row on its own (not duplicates).

    The trimmed texts served the messages and are dropped; value stays for the raw map of
    quarantined rows.
    """
    from pyspark.sql import functions as F

    checks = _checks(max_year)
    row_reasons = F.filter(F.array(*[F.when(failed, F.lit(code)) for code, failed, _ in checks]), _present)
    row_errors = F.filter(F.array(*[F.when(failed, _message(code, shown)) for code, failed, shown in checks]), _present)
    return typed.select(
        *[name for name in typed.columns if not name.endswith("_text") and name != "field_count_ok"],
        row_reasons.alias("row_reasons"),
        row_errors.alias("row_errors"),
    )


def repeated_movies(checked):
    """movie_id of every key shared by several rows, with the row kept: the latest valid one, by file
    (a batch lists its files oldest data first) then line, as the warehouse merge keeps it.

    One aggregate over a few columns instead of a window over whole rows: only repeated keys
    come out, usually few, so joining them back is a broadcast.
    """
    from pyspark.sql import functions as F

    # min() of this struct picks a valid row over an invalid one, then the last file, then the last line.
    order = F.struct(
        (F.size("row_reasons") > 0).alias("has_reasons"),
        (-F.col("file_index")).alias("later_file"),
        (-F.col("line_number")).alias("later_line"),
        "file_index",
        "line_number",
        "source_object",
    )
    return (
        checked.where(F.col("movie_id").isNotNull())
        .groupBy("movie_id")
        .agg(F.count(F.lit(1)).alias("rows"), F.min(order).alias("kept"))
        .where(F.col("rows") > 1)
        .select("movie_id", "kept")
    )


def validate_movies(checked, repeats, *, quality_min, quality_max):
    """Checked movies with reasons, errors, is_valid and is_quality_movie.

    Of the rows sharing a movie_id (`repeats`), the latest valid one by file then line is kept;
    every other one gets duplicate_key. quality_min/quality_max bound imdb_rating exclusively
    (Decimals).
    """
    from pyspark.sql import functions as F

    kept = F.col("kept")
    is_duplicate = kept.isNotNull() & (
        (kept["file_index"] != F.col("file_index")) | (kept["line_number"] != F.col("line_number"))
    )
    duplicate_error = F.concat(
        F.lit(f"{R.DUPLICATE_KEY}: {R.RULES[R.DUPLICATE_KEY]} (movie_id "),
        F.col("movie_id"),
        F.lit(" is also line "),
        kept["line_number"].cast("string"),
        F.lit(" of "),
        kept["source_object"],
        F.lit(")"),
    )
    validated = checked.join(repeats, "movie_id", "left").select(
        *checked.columns,
        F.when(is_duplicate, F.array_append("row_reasons", F.lit(R.DUPLICATE_KEY)))
        .otherwise(F.col("row_reasons"))
        .alias("reasons"),
        F.when(is_duplicate, F.array_append("row_errors", duplicate_error))
        .otherwise(F.col("row_errors"))
        .alias("errors"),
    )
    rating = F.col("imdb_rating")
    return validated.drop("row_reasons", "row_errors").select(
        "*",
        (F.size("reasons") == 0).alias("is_valid"),
        F.coalesce(
            rating.isNotNull() & (rating > F.lit(quality_min)) & (rating < F.lit(quality_max)), F.lit(False)
        ).alias("is_quality_movie"),
    )


def _present(value):
    return value.isNotNull()
