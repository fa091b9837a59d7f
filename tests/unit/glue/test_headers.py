"""Whole-file checks on the header probe: no Spark needed."""

import gzip

import pytest
from movies_quality.columns import SOURCE_COLUMNS
from movies_quality.headers import FileLayout, FileRejected, decompress_probe, parse_header

SEED_HEADER = ",".join(SOURCE_COLUMNS)


def header_of(data: bytes, size: int | None = None):
    return parse_header(data, len(data) if size is None else size, "s3://b/raw/x.csv")


def test_seed_header_with_bom_and_crlf():
    assert header_of(("\ufeff" + SEED_HEADER + "\r\nrow\r\n").encode()) == SOURCE_COLUMNS


def test_lower_cased_header_maps_by_name_in_any_order():
    names = [name.lower() for name in reversed(SOURCE_COLUMNS)] + ["extra"]
    header = header_of((",".join(names) + "\n").encode())
    layout = FileLayout(0, "file:///x.csv", "x.csv", header)
    assert layout.positions["series_title"] == names.index("series_title")
    assert layout.positions["gross"] == 0


@pytest.mark.parametrize(
    ("data", "size", "expected"),
    [
        (b"", 0, "file is empty"),
        (b"  \r\n", None, "file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", None, "binary NUL byte at offset 8"),
        (SEED_HEADER.encode() + b"\nThe caf\xe9,1994\n", None, "not UTF-8 text (byte 0xe9"),
        (b"x" * 100, 10_000_000, "no line break in the first 100 bytes"),
        (b"\nPoster_Link\n", None, "line 1 is blank"),
        ((SEED_HEADER.replace(",Gross", "") + "\n").encode(), None, "lacks required columns: Gross"),
        ((SEED_HEADER + ",series_title\n").encode(), None, "repeats columns: Series_Title, series_title"),
        (b'{"json": "not csv"}\n', None, "lacks required columns: Poster_Link, Series_Title"),
    ],
    ids=["empty", "blank", "binary", "latin1", "no-newline", "blank-line-1", "missing-column", "repeat", "json"],
)
def test_rejections_name_the_file_and_the_reason(data, size, expected):
    with pytest.raises(FileRejected) as rejection:
        header_of(data, size)
    assert str(rejection.value).startswith("s3://b/raw/x.csv: ")
    assert expected in str(rejection.value)


def test_multibyte_character_cut_by_the_probe_is_accepted():
    data = (SEED_HEADER + "\nAmélie").encode()
    assert header_of(data[:-4], size=len(data)) == SOURCE_COLUMNS


def test_header_of_a_file_with_cr_only_line_ends():
    assert header_of((SEED_HEADER + "\rrow one\rrow two\r").encode()) == SOURCE_COLUMNS


def test_header_line_that_is_not_csv_is_a_rejection_not_a_csv_error():
    with pytest.raises(FileRejected, match="header line 1 is not CSV"):
        header_of(b'Poster_Link,"' + b"x" * 200_000 + b'"\n')


def test_gzip_probe_is_decompressed_before_the_header_is_read():
    data = gzip.compress((SEED_HEADER + "\r\n" + "x" * 100 + "\r\n").encode())
    probe, size = decompress_probe(data, len(data), "s3://b/raw/x.csv.gz")
    assert header_of(probe, size) == SOURCE_COLUMNS
    assert size == len(probe)


def test_gzip_probe_cut_short_still_gives_the_header():
    rows = "".join(f"{line * 7919 % 100_003},{line}\n" for line in range(100_000))
    data = gzip.compress((SEED_HEADER + "\n" + rows).encode())
    probe, size = decompress_probe(data[:2000], len(data), "s3://b/raw/x.csv.gz")
    assert size > len(probe)
    assert header_of(probe, size) == SOURCE_COLUMNS


def test_a_gz_name_without_gzip_data_is_rejected():
    with pytest.raises(FileRejected, match="not gzip data"):
        decompress_probe(SEED_HEADER.encode(), len(SEED_HEADER), "s3://b/raw/x.csv.gz")
