"""Typing and cleaning of the raw string columns, with built-in Spark functions only.

`type_movies` first trims every raw column (blank becomes null); each parser then takes the name
of such a trimmed column and returns a Column that is null when the text does not match its pattern
(validation tells "empty" from "unparseable"). Casts are try_cast, so that Spark 3.5 and Spark 4
(ANSI mode) behave alike.
"""

from movies_quality.columns import RAW_COLUMNS

# Digits, plain or grouped by commas in threes ("28,341,469") or Indian style ("2,83,41,469").
GROUPED_DIGITS = r"([0-9]+|[0-9]{1,3}(,[0-9]{2,3})+)"
VOTES_PATTERN = rf"^-?{GROUPED_DIGITS}$"
GROSS_PATTERN = rf"^{GROUPED_DIGITS}$"
YEAR_PATTERN = r"^[0-9]{4}$"
RATING_PATTERN = r"^[0-9]+([.][0-9])?$"
RUNTIME_PATTERN = r"(?i)^([0-9]+) *(min|mins|minutes)?$"
META_SCORE_PATTERN = r"^-?[0-9]+$"


def _try_cast(sql_text: str, sql_type: str):
    from pyspark.sql import functions as F

    return F.expr(f"try_cast({sql_text} as {sql_type})")


# What the regular expression `\s` matches (Java, without Unicode classes): trimmed without a regex.
WHITESPACE = " \t\n\x0b\f\r"


def stripped_text(name: str):
    """The column trimmed of surrounding whitespace; null when nothing is left."""
    from pyspark.sql import functions as F

    text = F.btrim(F.col(name), F.lit(WHITESPACE))
    return F.when(text != "", text)


def parse_year(name: str):
    """A 4-digit year as int."""
    from pyspark.sql import functions as F

    return F.when(F.col(name).rlike(YEAR_PATTERN), _try_cast(f"`{name}`", "int"))


def parse_runtime_minutes(name: str):
    """Minutes as int from '142 min' (or plain '142')."""
    from pyspark.sql import functions as F

    digits = f"regexp_extract(`{name}`, '{RUNTIME_PATTERN}', 1)"
    return F.when(F.col(name).rlike(RUNTIME_PATTERN), _try_cast(digits, "int"))


def parse_grouped_number(name: str, pattern: str):
    """A bigint from digits grouped by commas in either grouping; null if the pattern fails."""
    from pyspark.sql import functions as F

    return F.when(F.col(name).rlike(pattern), _try_cast(f"replace(`{name}`, ',', '')", "bigint"))


def parse_rating(name: str):
    """A rating with at most one decimal as decimal(10,1); range checks come later."""
    from pyspark.sql import functions as F

    return F.when(F.col(name).rlike(RATING_PATTERN), _try_cast(f"`{name}`", "decimal(10,1)"))


def parse_meta_score(name: str):
    """A whole number as int; range checks come later."""
    from pyspark.sql import functions as F

    return F.when(F.col(name).rlike(META_SCORE_PATTERN), _try_cast(f"`{name}`", "int"))


def normalise_certificate(name: str):
    """Upper case without slashes or spaces, so 'U/A' and 'ua' are 'UA'."""
    from pyspark.sql import functions as F

    return F.upper(F.regexp_replace(F.col(name), r"[/\s]", ""))


def genre_list(name: str):
    """Genre names split on commas, whitespace collapsed, blanks and repeats removed, order kept.

    Takes a trimmed column: once whitespace runs are single spaces, the separator ` ?, ?` also
    trims every name (no per-name lambda, which Spark would interpret row by row).
    """
    from pyspark.sql import functions as F

    names = F.split(F.regexp_replace(F.col(name), r"\s+", " "), " ?, ?")
    return F.array_distinct(F.array_remove(names, ""))


def movie_key(title_name: str, year_column):
    """md5 of the lower-cased, whitespace-collapsed title, '|' and the year; null without both."""
    from pyspark.sql import functions as F

    title = F.lower(F.regexp_replace(F.col(title_name), r"\s+", " "))
    return F.md5(F.concat(title, F.lit("|"), year_column.cast("string")))


def type_movies(records):
    """Raw records to typed columns; the trimmed texts stay as `<name>_text` for messages."""
    from pyspark.sql import functions as F

    texts = records.select(
        *[stripped_text(name).alias(f"{name}_text") if name in RAW_COLUMNS else name for name in records.columns]
    )
    # Its own column, used three times below: Spark keeps it computed once rather than inlined.
    texts = texts.withColumn("genre_names", genre_list("genre_text"))
    genre_names = F.col("genre_names")
    primary_genre = F.get(genre_names, 0)
    released_year = parse_year("released_year_text")
    return texts.select(
        *[name for name in texts.columns if name != "genre_names"],
        movie_key("series_title_text", released_year).alias("movie_id"),
        F.col("series_title_text").alias("series_title"),
        released_year.alias("released_year"),
        normalise_certificate("certificate_text").alias("certificate"),
        parse_runtime_minutes("runtime_text").alias("runtime_minutes"),
        F.when(primary_genre.isNotNull(), F.array_join(genre_names, ",")).alias("genres"),
        primary_genre.alias("primary_genre"),
        parse_rating("imdb_rating_text").alias("imdb_rating"),
        parse_meta_score("meta_score_text").alias("meta_score"),
        parse_grouped_number("no_of_votes_text", VOTES_PATTERN).alias("no_of_votes"),
        parse_grouped_number("gross_text", GROSS_PATTERN).alias("gross_usd"),
        *[
            F.col(f"{name}_text").alias(name)
            for name in ("director", "star1", "star2", "star3", "star4", "overview", "poster_link")
        ],
    )
