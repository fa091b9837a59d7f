"""The closed set of reason codes a row can be quarantined for."""

WRONG_FIELD_COUNT = "wrong_field_count"
INVALID_ENCODING = "invalid_encoding"
MISSING_TITLE = "missing_title"
MISSING_YEAR = "missing_year"
INVALID_YEAR = "invalid_year"
MISSING_RATING = "missing_rating"
UNPARSEABLE_RATING = "unparseable_rating"
RATING_OUT_OF_RANGE = "rating_out_of_range"
MISSING_VOTES = "missing_votes"
UNPARSEABLE_VOTES = "unparseable_votes"
NEGATIVE_VOTES = "negative_votes"
UNPARSEABLE_RUNTIME = "unparseable_runtime"
UNPARSEABLE_GROSS = "unparseable_gross"
UNPARSEABLE_META_SCORE = "unparseable_meta_score"
META_SCORE_OUT_OF_RANGE = "meta_score_out_of_range"
MISSING_GENRE = "missing_genre"
MISSING_DIRECTOR = "missing_director"
VALUE_TOO_LONG = "value_too_long"
DUPLICATE_KEY = "duplicate_key"

# Code -> the rule it enforces (documentation; the messages in quarantine name the raw value).
RULES = {
    WRONG_FIELD_COUNT: "the line has a different number of fields than the header",
    INVALID_ENCODING: "the line is not valid UTF-8",
    MISSING_TITLE: "Series_Title is empty",
    MISSING_YEAR: "Released_Year is empty",
    INVALID_YEAR: "Released_Year is not a 4-digit year from 1888 to the year after ingestion",
    MISSING_RATING: "IMDB_Rating is empty",
    UNPARSEABLE_RATING: "IMDB_Rating is not a number with at most one decimal",
    RATING_OUT_OF_RANGE: "IMDB_Rating is outside 1.0 to 10.0",
    MISSING_VOTES: "No_of_Votes is empty",
    UNPARSEABLE_VOTES: "No_of_Votes is not a whole number",
    NEGATIVE_VOTES: "No_of_Votes is negative",
    UNPARSEABLE_RUNTIME: "Runtime is not minutes like '142 min'",
    UNPARSEABLE_GROSS: "Gross is not digits, optionally grouped by commas ('28,341,469' or '2,83,41,469')",
    UNPARSEABLE_META_SCORE: "Meta_score is not a whole number",
    META_SCORE_OUT_OF_RANGE: "Meta_score is outside 0 to 100",
    MISSING_GENRE: "Genre names no genre",
    MISSING_DIRECTOR: "Director is empty",
    VALUE_TOO_LONG: "a text value has more UTF-8 bytes than its warehouse column holds",
    DUPLICATE_KEY: "another row of the batch has the same movie_id (the latest valid one is kept: last file, line)",
}

ALL_REASONS = tuple(RULES)
