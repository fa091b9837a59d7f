"""The chaos suite's input and its independent expectation, in plain Python (no pipeline code).

`build_stream` turns a seeded random generator into the files a producer sends: new movies,
changed ratings, re-deliveries of the same bytes, an overwritten key, late files for old days and
files with bad rows, all cut from the seed CSV. `expected_movies` computes, from the files alone,
what movies.imdb_movies must hold afterwards.

The rule computed (issue 15): a row's time is the `dt=YYYY-MM-DD` day of its key (that day at
00:00 UTC) when the key has one, else the object's LastModified; the latest valid row of a movie
wins, ties by LastModified, within one file a later line wins. movie_id is
md5(lower(title with whitespace collapsed) || '|' || year).

LastModified is not stable under chaos: an emulator crash loses every object, and the producer
sends the files again (new LastModified). So the stream is built such that no expected value
depends on a LastModified order between different keys: movies of an undated key appear in no
other undated key (undated rows are newer than every dated row, dt days being in the past), files
of one day share no movie, and a key's later content always contains every movie of its earlier
content. `expected_movies` checks this itself and raises if two candidates would tie.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

HEADER = ["Poster_Link", "Series_Title", "Released_Year", "Certificate", "Runtime", "Genre", "IMDB_Rating",
          "Overview", "Meta_score", "Director", "Star1", "Star2", "Star3", "Star4", "No_of_Votes", "Gross"]
# Bad rows are made only of these kinds, so the validator below recognises them exactly.
BAD_KINDS = ("non_numeric_year", "empty_title", "rating_eleven")
FIRST_FILM_YEAR = 1888
DAY_KEY = re.compile(r"(?:^|/)dt=(\d{4}-\d{2}-\d{2})/")


@dataclass
class RawFile:
    """One content the producer puts under `key` (a later RawFile with the same key overwrites it)."""

    key: str
    rows: list[dict]
    kind: str
    number: int

    @property
    def body(self) -> bytes:
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=HEADER, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(self.rows)
        return buffer.getvalue().encode("utf-8")

    @property
    def etag(self) -> str:
        return hashlib.md5(self.body).hexdigest()  # noqa: S324 - S3's ETag of a single-part upload


@dataclass
class Upload:
    """A put the producer makes: a new content, or the same bytes again (`redelivery`)."""

    file: RawFile
    redelivery: bool = False


@dataclass
class Stream:
    uploads: list[Upload]
    backfill_day: date


def movie_id(title: str, year: str) -> str:
    collapsed = re.sub(r"[ \t\n\x0b\f\r]+", " ", title.strip()).lower()
    return hashlib.md5(f"{collapsed}|{int(year)}".encode()).hexdigest()  # noqa: S324 - the pipeline's key


def is_valid(row: dict, max_year: int) -> bool:
    """Whether the Glue job accepts the row, for rows that are seed-valid or broken by one BAD_KIND."""
    title, year, rating = row["Series_Title"].strip(), row["Released_Year"].strip(), row["IMDB_Rating"].strip()
    if not title or not re.fullmatch(r"[0-9]{4}", year) or not FIRST_FILM_YEAR <= int(year) <= max_year:
        return False
    return bool(re.fullmatch(r"[0-9]+([.][0-9])?", rating)) and 1 <= float(rating) <= 10


def seed_movies(seed_file: Path) -> list[dict]:
    """Seed rows with every measure present and a valid key, one per movie_id."""
    with seed_file.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    chosen, seen = [], set()
    for row in rows:
        if not (row["Meta_score"] and row["Gross"] and row["Released_Year"].isdigit()):
            continue
        key = movie_id(row["Series_Title"], row["Released_Year"])
        if key not in seen:
            seen.add(key)
            chosen.append(row)
    return chosen


def _changed(rng: random.Random, row: dict) -> dict:
    """New measures for a movie (rating, votes, meta score, gross), each a valid value."""
    rating = min(10.0, max(1.0, float(row["IMDB_Rating"]) + rng.choice([-0.7, -0.4, -0.2, 0.1, 0.3, 0.6])))
    gross = int(row["Gross"].replace(",", "")) + rng.randint(1_000, 900_000)
    return {
        **row,
        "IMDB_Rating": f"{rating:.1f}",
        "No_of_Votes": str(int(row["No_of_Votes"]) + rng.randint(1, 50_000)),
        "Meta_score": str(rng.randint(20, 100)),
        "Gross": f"{gross:,}",
    }


def _broken(rng: random.Random, row: dict) -> dict:
    kind = rng.choice(BAD_KINDS)
    if kind == "non_numeric_year":
        return {**row, "Released_Year": row["Released_Year"][:2] + "x" + row["Released_Year"][3:]}
    if kind == "empty_title":
        return {**row, "Series_Title": ""}
    return {**row, "IMDB_Rating": "11.0"}


class _Builder:
    """Keeps the stream's invariants (see the module docstring) while files are drawn at random."""

    def __init__(self, rng: random.Random, seed_rows: list[dict], today: date, raw_prefix: str):
        self.rng = rng
        self.fresh = list(seed_rows)
        rng.shuffle(self.fresh)
        self.raw_prefix = raw_prefix
        # dt= days: in the past (older than any undated row) and well inside a 14-day look-back window.
        self.days = [today - timedelta(days=offset) for offset in range(11, 0, -1)]
        self.current: dict[str, dict] = {}  # movie_id -> its latest row so far
        self.movie_days: dict[str, set[date]] = {}  # movie_id -> days of dated files that hold it
        self.undated_movies: set[str] = set()  # movies held by an undated key
        self.keys: dict[str, RawFile] = {}  # key -> its current content
        self.uploads: list[Upload] = []
        self.number = 0

    def _take_new(self, count: int) -> list[dict]:
        taken, self.fresh = self.fresh[:count], self.fresh[count:]
        return taken

    def _emit(self, key: str, rows: list[dict], kind: str, day: date | None) -> RawFile:
        self.number += 1
        raw = RawFile(key, rows, kind, self.number)
        for row in rows:
            if is_valid(row, max_year=9999):
                identity = movie_id(row["Series_Title"], row["Released_Year"])
                self.current.setdefault(identity, row)
                if day is None:
                    self.undated_movies.add(identity)
                else:
                    self.movie_days.setdefault(identity, set()).add(day)
        self.keys[key] = raw
        self.uploads.append(Upload(raw))
        return raw

    def _dated_key(self, day: date, name: str) -> str:
        return f"{self.raw_prefix}dt={day.isoformat()}/{name}_{self.number + 1:02d}.csv"

    def _free_day(self, movies: list[str], later_than_all: bool) -> date | None:
        """A day no dated file of these movies has; the newest such one, or (late) an older one."""
        used = set().union(*(self.movie_days.get(identity, set()) for identity in movies))
        latest = max(used, default=None)
        if later_than_all:
            candidates = [day for day in self.days if latest is None or day > latest]
            return candidates[0] if candidates else None
        candidates = [day for day in self.days if day not in used and (latest is None or day < latest)]
        return self.rng.choice(candidates) if candidates else None

    def new_movies(self, undated: bool) -> None:
        rows = self._take_new(self.rng.randint(3, 6))
        if undated:
            self._emit(f"{self.raw_prefix}new_movies_{self.number + 1:02d}.csv", rows, "new_undated", None)
        else:
            # New movies land on the newer days, so that older days stay free for late files.
            day = self.rng.choice(self.days[4:])
            self._emit(self._dated_key(day, "new_movies"), rows, "new", day)

    def _changeable(self) -> list[str]:
        return [identity for identity in self.current if identity not in self.undated_movies]

    def changed_ratings(self, late: bool) -> bool:
        candidates = self._changeable()
        self.rng.shuffle(candidates)
        chosen, rows, wanted = [], [], self.rng.randint(2, 5)
        for identity in candidates:
            if len(chosen) == wanted:
                break
            trial = chosen + [identity]
            if self._free_day(trial, later_than_all=not late) is not None:
                chosen = trial
        if not chosen:
            return False
        day = self._free_day(chosen, later_than_all=not late)
        for identity in chosen:
            row = _changed(self.rng, self.current[identity])
            rows.append(row)
            if not late:
                self.current[identity] = row
        if self.rng.random() < 0.4:
            # The same movie twice in one file: the later line must win.
            twice = self.rng.choice(range(len(rows)))
            rows.append(_changed(self.rng, rows[twice]))
        rows += self._take_new(self.rng.randint(0, 2))
        self._emit(self._dated_key(day, "late_ratings" if late else "ratings"), rows,
                   "late" if late else "changed", day)
        return True

    def with_bad_rows(self) -> None:
        rows = self._take_new(self.rng.randint(5, 8))
        bad = [_broken(self.rng, row) for row in self._take_new(self.rng.randint(1, 2))]
        for row in bad:
            rows.insert(self.rng.randrange(len(rows) + 1), row)
        day = self.rng.choice(self.days[4:])
        self._emit(self._dated_key(day, "with_bad_rows"), rows, "bad_rows", day)

    def overwrite(self) -> bool:
        """Same key, new content: every movie of the old content with new measures, plus new movies."""
        candidates = [raw for raw in self.keys.values() if raw.kind in ("new", "new_undated", "changed")]
        if not candidates:
            return False
        old = self.rng.choice(candidates)
        rows = [_changed(self.rng, row) for row in old.rows] + self._take_new(2)
        day_match = DAY_KEY.search(old.key)
        day = date.fromisoformat(day_match.group(1)) if day_match else None
        self._emit(old.key, rows, "overwrite", day)
        for row in rows:
            self.current[movie_id(row["Series_Title"], row["Released_Year"])] = row
        return True

    def redeliver(self) -> bool:
        """The same bytes to the same key again (the key's current content)."""
        if not self.keys:
            return False
        raw = self.rng.choice(list(self.keys.values()))
        self.uploads.append(Upload(raw, redelivery=True))
        return True


def build_stream(rng: random.Random, seed_rows: list[dict], files: int, today: date,
                 raw_prefix: str = "raw/") -> Stream:
    """`files` uploads (at least 8): every kind at least once, the rest drawn at random."""
    if files < 8:
        raise ValueError("a stream needs at least 8 uploads to hold every kind of file")
    builder = _Builder(rng, seed_rows, today, raw_prefix)
    builder.new_movies(undated=False)
    builder.new_movies(undated=True)
    builder.new_movies(undated=False)
    kinds = ["changed", "late", "redelivery", "overwrite", "bad_rows"]
    kinds += rng.choices(["new", "new_undated", "changed", "changed", "late", "redelivery", "bad_rows"],
                         k=files - 3 - len(kinds))
    rng.shuffle(kinds)
    for kind in kinds:
        made = {
            "new": lambda: builder.new_movies(undated=False) or True,
            "new_undated": lambda: builder.new_movies(undated=True) or True,
            "changed": lambda: builder.changed_ratings(late=False),
            "late": lambda: builder.changed_ratings(late=True),
            "redelivery": builder.redeliver,
            "overwrite": builder.overwrite,
            "bad_rows": lambda: builder.with_bad_rows() or True,
        }[kind]()
        if not made:
            builder.new_movies(undated=False)
    late_days = [day for upload in builder.uploads if upload.file.kind == "late"
                 for day in [date.fromisoformat(DAY_KEY.search(upload.file.key).group(1))]]
    backfill_day = (late_days or builder.days)[0] + timedelta(days=1)
    return Stream(builder.uploads, backfill_day)


def row_time(key: str, last_modified: datetime) -> datetime:
    """The data's time of a row from this object: its dt= day, else the object's LastModified."""
    match = DAY_KEY.search(key)
    if match:
        return datetime.fromisoformat(match.group(1)).replace(tzinfo=UTC)
    return last_modified


def expected_movies(puts: list[tuple[RawFile, datetime]], max_year: int) -> dict[str, dict]:
    """movie_id -> the winning valid row, from every content put (with its first LastModified).

    Raises AssertionError if two candidates of a movie tie on (time, LastModified) without being
    the same key: then the answer would depend on the order of events, which the stream must avoid.
    """
    candidates: dict[str, list[tuple]] = {}
    for raw, last_modified in puts:
        time = row_time(raw.key, last_modified)
        for line, row in enumerate(raw.rows, start=1):
            if is_valid(row, max_year):
                identity = movie_id(row["Series_Title"], row["Released_Year"])
                candidates.setdefault(identity, []).append((time, last_modified, raw.key, line, row))
    expected = {}
    for identity, rows in candidates.items():
        rows.sort(key=lambda candidate: candidate[:2] + candidate[3:4])
        winner = rows[-1]
        rivals = [row for row in rows[:-1] if row[0] == winner[0] and row[2] != winner[2]]
        if rivals:
            raise AssertionError(f"movie {identity}: {winner[2]} and {rivals[-1][2]} have the same data time "
                                 "(the stream broke its own rule)")
        expected[identity] = winner[4]
    return expected
