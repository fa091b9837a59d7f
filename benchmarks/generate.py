"""Seed-shaped, messy CSV files for benchmarks and output tests (never committed: generated on demand).

    python -m benchmarks.generate OUT.csv --rows 1000000 [--seed 13]

Rows are the seed's rows with unique titles (`<title> #<n>`), varied ratings and votes, and about
one row in a hundred broken in one of the ways of `BAD_ROWS` (as the seed is: unparseable years,
empty fields, odd formats). `write_every_kind` writes a small file with every kind of bad row once,
plus duplicates, quoting and blank lines, for the outputs-do-not-change test.
"""

from __future__ import annotations

import argparse
import csv
import io
import random
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = REPO / "data" / "imdb_movies_rating.csv"


def seed_rows() -> tuple[list[str], list[dict[str, str]]]:
    """The seed's header and its rows as dicts by header name."""
    with SEED.open(newline="", encoding="utf-8") as seed_file:
        header, *rows = list(csv.reader(seed_file))
    return header, [dict(zip(header, row, strict=True)) for row in rows]


def _set(**changes: str) -> Callable[[dict[str, str]], dict[str, str]]:
    return lambda row: {**row, **changes}


# Kind -> how a valid row is broken (a dict change; whole-line kinds are in `_line`).
BAD_ROWS: dict[str, Callable[[dict[str, str]], dict[str, str]]] = {
    "missing_title": _set(Series_Title="  "),
    "missing_year": _set(Released_Year=""),
    "year_not_digits": _set(Released_Year="PG"),
    "year_too_early": _set(Released_Year="1887"),
    "year_in_future": _set(Released_Year="2999"),
    "missing_rating": _set(IMDB_Rating=""),
    "rating_two_decimals": _set(IMDB_Rating="8.25"),
    "rating_text": _set(IMDB_Rating="eight"),
    "rating_too_high": _set(IMDB_Rating="11"),
    "rating_too_low": _set(IMDB_Rating="0.5"),
    "missing_votes": _set(No_of_Votes=""),
    "votes_text": _set(No_of_Votes="many"),
    "votes_bad_grouping": _set(No_of_Votes="1,2345"),
    "votes_negative": _set(No_of_Votes="-12"),
    "runtime_text": _set(Runtime="two hours"),
    "gross_text": _set(Gross="$1M"),
    "meta_score_text": _set(Meta_score="great"),
    "meta_score_too_high": _set(Meta_score="101"),
    "missing_genre": _set(Genre=" , ,"),
    "missing_director": _set(Director=""),
    "several_faults": _set(Series_Title="", IMDB_Rating="x", No_of_Votes="-1", Director=""),
}
# Messy but valid values, as the seed has them.
ODD_VALID_ROWS: dict[str, Callable[[dict[str, str]], dict[str, str]]] = {
    "indian_grouping": _set(Gross="2,83,41,469"),
    "runtime_plain": _set(Runtime="142"),
    "runtime_minutes_word": _set(Runtime="95 Minutes"),
    "padded_fields": lambda row: {name: f"  {value}  " for name, value in row.items()},
    "certificate_slash": _set(Certificate="U/A"),
    "genre_repeats": _set(Genre="Drama,  drama , Drama,,Crime"),
    "empty_optionals": _set(Certificate="", Runtime="", Meta_score="", Gross="", Star4=""),
    "quotes_and_commas": lambda row: {**row, "Overview": 'He said "no, never", then left.'},
    "non_ascii": lambda row: {**row, "Overview": "Amélie découvre 東京 — naïve café"},
}
LINE_FAULTS = ("extra_field", "missing_field", "unterminated_quote", "line_break_in_quotes")


def _line(header: list[str], row: dict[str, str], fault: str | None = None) -> str:
    """One CSV line of the row (no line end); a fault breaks the line itself."""
    buffer = io.StringIO()
    values = [row[name] for name in header]
    if fault == "extra_field":
        values.append("surplus")
    elif fault == "missing_field":
        values.pop()
    elif fault == "line_break_in_quotes":
        values[header.index("Overview")] = "first line\nsecond line"
    csv.writer(buffer, lineterminator="").writerow(values)
    text = buffer.getvalue()
    if fault == "unterminated_quote":
        text = text.replace(f",{row['Director']},", f',"{row["Director"]},', 1)
    return text


def _varied(row: dict[str, str], number: int, rng: random.Random) -> dict[str, str]:
    """A seed row made unique by its title and given a plausible random rating and vote count."""
    rating = min(9.9, max(1.0, rng.gauss(7.6, 0.9)))
    return {
        **row,
        "Series_Title": f"{row['Series_Title']} #{number}",
        "IMDB_Rating": f"{rating:.1f}",
        "No_of_Votes": str(int(rng.lognormvariate(11, 1.5)) + 25),
    }


def movie_lines(rows: int, seed: int = 13, bad_share: float = 0.01) -> Iterator[str]:
    """The header line then `rows` record lines, seed-shaped, about `bad_share` of them broken."""
    header, source = seed_rows()
    rng = random.Random(seed)
    breakers = [(kind, None) for kind in BAD_ROWS] + [(None, fault) for fault in LINE_FAULTS]
    yield ",".join(header)
    for number in range(rows):
        row = _varied(source[number % len(source)], number, rng)
        fault = None
        draw = rng.random()
        if draw < bad_share:
            kind, fault = rng.choice(breakers)
            if kind:
                row = BAD_ROWS[kind](row)
        elif draw < 2 * bad_share:
            row = rng.choice(list(ODD_VALID_ROWS.values()))(row)
        yield _line(header, row, fault)


def write_movies(path: Path, rows: int, seed: int = 13) -> int:
    """Writes a seed-shaped file of `rows` records (CRLF like the seed); returns its size in bytes."""
    with path.open("w", encoding="utf-8", newline="") as output:
        for line in movie_lines(rows, seed):
            output.write(line + "\r\n")
    return path.stat().st_size


def write_every_kind(folder: Path) -> list[Path]:
    """Input files with every kind of bad row, odd valid row, duplicate and rejected file, deterministic.

    `a.csv` (CRLF, BOM) holds one row per kind, duplicates within the file, blank lines and a
    non-UTF-8 line after the header probe's first MiB; `b.csv` has its columns in another order,
    lower-case names, LF endings and duplicates of `a.csv` rows; the rest are rejected whole.
    """
    header, source = seed_rows()
    rows = [_varied(row, number, random.Random(number)) for number, row in enumerate(source[:120])]
    lines = [",".join(header)]
    for number, (_kind, breaker) in enumerate([*BAD_ROWS.items(), *ODD_VALID_ROWS.items()]):
        lines.append(_line(header, breaker(rows[number])))
    for number, fault in enumerate(LINE_FAULTS, start=60):
        lines.append(_line(header, rows[number], fault))
    lines += ["", "   ", _line(header, rows[70]), _line(header, rows[70])]  # blank lines, a same-file duplicate
    lines.append(_line(header, BAD_ROWS["missing_director"](rows[71])))  # invalid first ...
    lines.append(_line(header, rows[71]))  # ... so this later valid one is kept
    padding = [_line(header, _varied(source[number % len(source)], 1000 + number, random.Random(number)))
               for number in range(2600)]  # past the 1 MiB header probe
    a_bytes = ("\ufeff" + "\r\n".join(lines + padding) + "\r\n").encode("utf-8")
    a_bytes += _line(header, rows[80]).replace(" #80", " #80 caf\xe9").encode("latin-1") + b"\r\n"
    a_bytes += (_line(header, rows[81]) + "\r\n").encode("utf-8")
    files = {"a.csv": a_bytes}

    order = list(reversed(header))
    swapped = [",".join(name.lower() for name in order)]
    for number in (90, 91, 70, 0, 100):  # rows[70] and rows[0] repeat a.csv's movies
        swapped.append(_line(order, rows[number]))
    swapped.append(_line(order, BAD_ROWS["year_not_digits"](rows[92])))
    files["b.csv"] = ("\n".join(swapped) + "\n").encode("utf-8")

    files["c_missing_column.csv"] = ("\n".join(lines[:3]).replace(",Gross", "", 1) + "\n").encode("utf-8")
    files["d_empty.csv"] = b""
    files["e_binary.csv"] = b"PK\x03\x04\x00\x00" + bytes(range(256))
    files["f_latin1.csv"] = ("\n".join(lines[:3]) + "\n").replace("Drama", "Dráma").encode("latin-1")
    files["g_repeated_column.csv"] = (lines[0] + ",Gross\n" + lines[1] + ",1\n").encode("utf-8")
    files["h_blank_header.csv"] = ("\n" + "\n".join(lines[1:3]) + "\n").encode("utf-8")
    paths = []
    for name, content in files.items():
        path = folder / name
        path.write_bytes(content)
        paths.append(path)
    return paths


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", type=Path)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=13)
    options = parser.parse_args(argv)
    size = write_movies(options.output, options.rows, options.seed)
    print(f"{options.output}: {options.rows} rows, {size / 1e6:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
