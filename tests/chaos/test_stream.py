"""The chaos suite's generator and its independent expectation (no services)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest

from local_stack.demo import SEED_FILE
from tests.chaos.stream import RawFile, build_stream, expected_movies, is_valid, movie_id, seed_movies

TODAY = date(2026, 11, 26)


@pytest.fixture(scope="module")
def seed_rows():
    return seed_movies(SEED_FILE)


def puts_of(stream) -> list[tuple[RawFile, datetime]]:
    start = datetime(2026, 11, 26, 8, tzinfo=UTC)
    return [(upload.file, start + timedelta(seconds=number)) for number, upload in enumerate(stream.uploads)]


def test_same_seed_same_stream(seed_rows):
    first = build_stream(random.Random(7), seed_rows, 24, TODAY)
    second = build_stream(random.Random(7), seed_rows, 24, TODAY)
    assert [(u.file.key, u.file.etag) for u in first.uploads] == [(u.file.key, u.file.etag) for u in second.uploads]


@pytest.mark.parametrize("seed", range(40))
def test_every_kind_present_and_expectation_unambiguous(seed_rows, seed):
    stream = build_stream(random.Random(seed), seed_rows, 24, TODAY)
    kinds = Counter(upload.file.kind for upload in stream.uploads if not upload.redelivery)
    assert len(stream.uploads) == 24
    assert {"new", "new_undated", "changed", "late", "overwrite", "bad_rows"} <= set(kinds)
    assert any(upload.redelivery for upload in stream.uploads)
    assert all(len(upload.file.rows) <= 20 for upload in stream.uploads)
    expected = expected_movies(puts_of(stream), max_year=TODAY.year + 1)  # raises on a tie
    assert expected
    assert TODAY - timedelta(days=12) < stream.backfill_day <= TODAY


def test_bad_rows_are_the_known_kinds_only(seed_rows):
    stream = build_stream(random.Random(3), seed_rows, 24, TODAY)
    bad = [row for upload in stream.uploads for row in upload.file.rows if not is_valid(row, TODAY.year + 1)]
    assert bad
    for row in bad:
        assert (row["Series_Title"] == "" or "x" in row["Released_Year"] or row["IMDB_Rating"] == "11.0"), row


def raw(key: str, *rows: tuple[str, str, str]) -> RawFile:
    template = {name: "" for name in ("Poster_Link", "Certificate", "Runtime", "Genre", "Overview", "Director",
                                      "Star1", "Star2", "Star3", "Star4", "No_of_Votes", "Meta_score", "Gross")}
    return RawFile(key, [{**template, "Series_Title": t, "Released_Year": y, "IMDB_Rating": r} for t, y, r in rows],
                   "test", 0)


def test_latest_by_data_time_then_line():
    t0 = datetime(2026, 11, 26, 8, tzinfo=UTC)
    puts = [
        (raw("raw/dt=2026-11-20/a.csv", ("Heat", "1995", "8.0")), t0),
        # Arrives later but is for an older day: older data.
        (raw("raw/dt=2026-11-18/late.csv", ("Heat", "1995", "7.0")), t0 + timedelta(minutes=1)),
        # Same movie twice (whitespace and case differ): the later line wins.
        (raw("raw/dt=2026-11-21/b.csv", ("Up", "2009", "8.1"), ("  up ", "2009", "8.3"), ("Up", "2009", "11.0")),
         t0),
    ]
    expected = expected_movies(puts, max_year=2027)
    assert expected[movie_id("Heat", "1995")]["IMDB_Rating"] == "8.0"
    assert expected[movie_id("Up", "2009")]["IMDB_Rating"] == "8.3"


def test_undated_key_is_newer_than_dated_and_same_key_overwrite_wins():
    t0 = datetime(2026, 11, 26, 8, tzinfo=UTC)
    puts = [
        (raw("raw/new.csv", ("Heat", "1995", "8.0")), t0),
        (raw("raw/dt=2026-11-25/x.csv", ("Heat", "1995", "6.0")), t0 + timedelta(minutes=5)),
        (raw("raw/dt=2026-11-25/x.csv", ("Heat", "1995", "6.5")), t0 + timedelta(minutes=6)),
    ]
    assert expected_movies(puts, max_year=2027)[movie_id("Heat", "1995")]["IMDB_Rating"] == "8.0"
    assert expected_movies(puts[1:], max_year=2027)[movie_id("Heat", "1995")]["IMDB_Rating"] == "6.5"


def test_a_tie_between_keys_is_refused():
    t0 = datetime(2026, 11, 26, 8, tzinfo=UTC)
    puts = [(raw("raw/dt=2026-11-20/a.csv", ("Heat", "1995", "8.0")), t0),
            (raw("raw/dt=2026-11-20/b.csv", ("Heat", "1995", "7.0")), t0)]
    with pytest.raises(AssertionError, match="same data time"):
        expected_movies(puts, max_year=2027)


def test_the_ledger_check_reads_the_superseded_rows_the_merge_records():
    import re

    from local_stack.settings import REPO_ROOT
    from tests.chaos.test_chaos import _superseded

    sql = (REPO_ROOT / "include" / "sql" / "ledger" / "update_loaded_rows.sql").read_text()
    (phrase,) = re.findall(r"\) \|\| '( valid rows superseded[^']*)'", sql)
    assert _superseded("3" + phrase) == 3
    assert _superseded(None) == 0 and _superseded("loaded by batch b1") == 0
