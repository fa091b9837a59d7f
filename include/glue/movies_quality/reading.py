"""Reading CSV files as lines and parsing each line by its file's header.

The files sharing a header are read by one splittable text scan, so a large file is parsed by many
tasks and the query plan grows with the number of distinct headers, not of files. That scan is the
job's only pass over its input: a line carries its position (its split's start offset and an id
consecutive within the split) rather than its number. Once the job has cached its checked lines,
`split_offsets` counts the lines of each split from that cache and a running sum over a file's
splits gives the lines before each split; `number_records` turns positions into line numbers.
Quoted fields may hold commas and doubled quotes, not line breaks.
"""

import json
import re
from collections.abc import Sequence
from functools import reduce

from movies_quality.columns import RAW_COLUMNS
from movies_quality.headers import FileLayout

# The columns of scan_lines.
LINES_COLUMNS = (
    ("file_index", "int"),
    ("block_start", "bigint"),
    ("row_id", "bigint"),
    ("value", "string"),
    ("source_object", "string"),
    ("layout_index", "int"),
)
# Where a line is: its split (file and start offset) and its id, consecutive within the split.
POSITION_KEYS = ("block_start", "row_id")
SPLIT_KEYS = ("file_index", "block_start")
LISTING_TYPE = "array<struct<listed_path: string, file_index: int, source_object: string>>"
EMPTY_AUTHORITY = "^([A-Za-z][A-Za-z0-9+.-]*):///"
# Spark globs every path it is given (a key `raw/*.csv` would read the whole prefix); Hadoop's
# glob syntax takes a backslash before a character as that character, so escaped paths are exact.
HADOOP_GLOB_CHARACTERS = re.compile(r"([\\*?\[\]{}])")
CSV_OPTIONS = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": "_corrupt_record",
    "escape": '"',
}


def header_layouts(files: Sequence[FileLayout]) -> list[tuple[str, ...]]:
    """The distinct headers of the files, in first-seen order; a file's layout_index points here."""
    return list(dict.fromkeys(layout.header for layout in files))


def exact_path(uri: str) -> str:
    """The uri as a Hadoop glob that matches only itself."""
    return HADOOP_GLOB_CHARACTERS.sub(r"\\\1", uri)


def scan_lines(spark, files: Sequence[FileLayout]):
    """Every line of the files, the header and blank ones included, with file_index, its position
    (POSITION_KEYS), value, source_object and layout_index.

    One text scan per distinct header, over that header's files only: each file is read once, and
    parse_records' split by layout_index leaves each parse its own scan. A file listed twice is
    read once and its lines are given to both listings, as two files.
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    if not files:
        return spark.range(0).select(*[F.lit(None).cast(kind).alias(name) for name, kind in LINES_COLUMNS])
    scans = [
        _scan_layout(spark, [layout for layout in files if layout.header == header], layout_index)
        for layout_index, header in enumerate(header_layouts(files))
    ]
    return reduce(DataFrame.unionByName, scans)


def _scan_layout(spark, files: Sequence[FileLayout], layout_index: int):
    """scan_lines of files sharing one header."""
    from pyspark.sql import functions as F

    lines = spark.read.text(list(dict.fromkeys(exact_path(layout.input_uri) for layout in files))).select(
        F.col("_metadata.file_path").alias("scan_path"),
        F.col("_metadata.file_block_start").alias("block_start"),
        "value",
        F.monotonically_increasing_id().alias("row_id"),
        # A constant of the scan, not a listing column: the optimiser prunes the other headers'
        # scans from each parse, and the join below stays an outer join.
        F.lit(layout_index).alias("layout_index"),
    )
    listing = _listing(spark, files)
    # Each line gets its file's listing (two when the file is listed twice) by the path without
    # an empty authority: Spark says `file:/a`, Hadoop's FileStatus `file:///a`.
    scan_path = F.regexp_replace("scan_path", EMPTY_AUTHORITY, "$1:/")
    listed = lines.join(F.broadcast(listing), scan_path == listing["listed_path"], "left")
    # A path Spark names differently from the probe would lose its lines: fail loudly instead.
    unmatched = F.assert_true(F.col("file_index").isNotNull(), F.concat(F.lit("unmatched scan path "), "scan_path"))
    return listed.select(
        F.coalesce(unmatched, F.col("file_index")).alias("file_index"),
        *POSITION_KEYS,
        "value",
        "source_object",
        "layout_index",
    )


def _listing(spark, files: Sequence[FileLayout]):
    """The files as a table of listed_path (the scan path without an empty authority), file_index and
    source_object.

    Built in the JVM from one JSON literal, not by createDataFrame: PySpark 3.5 sends local rows
    through Python workers, which costs a cold job the start of a Python daemon.
    """
    from pyspark.sql import functions as F

    rows = [
        {"listed_path": re.sub(EMPTY_AUTHORITY, r"\1:/", layout.scan_path), "file_index": layout.index,
         "source_object": layout.source_object}
        for layout in files
    ]  # fmt: skip
    return spark.range(1).select(F.inline(F.from_json(F.lit(json.dumps(rows)), LISTING_TYPE)))


def split_offsets(lines):
    """Per split (SPLIT_KEYS): the id of its first line and the lines of its file before it.

    Takes every line of the scan (header and blank lines too): their ids are consecutive within a
    split, so a split's first id and line count locate all of its lines. Parsing, typing and
    checking therefore keep exactly one row per line: no filter or generator may drop one before.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    splits = lines.groupBy(*SPLIT_KEYS).agg(
        F.count(F.lit(1)).alias("split_lines"), F.min("row_id").alias("split_first_row_id")
    )
    earlier_splits = Window.partitionBy("file_index").orderBy("block_start").rowsBetween(Window.unboundedPreceding, -1)
    return splits.select(
        *SPLIT_KEYS,
        "split_first_row_id",
        F.coalesce(F.sum("split_lines").over(earlier_splits), F.lit(0)).alias("lines_before"),
    )


def number_records(lines, offsets):
    """The record lines with line_number (the header is line 1) in place of their position.

    The header line and blank lines are not records and are dropped here, after the job's one
    pass has counted them; offsets come from split_offsets over the same lines.
    """
    from pyspark.sql import functions as F

    line_number = F.col("lines_before") + F.col("row_id") - F.col("split_first_row_id") + 1
    numbered = lines.join(F.broadcast(offsets), list(SPLIT_KEYS)).withColumn("line_number", line_number.cast("int"))
    records = numbered.where((F.col("line_number") > 1) & F.col("value").rlike(r"\S"))
    return records.select(
        *[F.col("line_number") if name == "row_id" else name for name in lines.columns if name != "block_start"]
    )


def parse_records(lines, files: Sequence[FileLayout]):
    """Lines parsed by their file's header into the raw seed columns.

    Takes file_index, value, source_object, a line_number or position (POSITION_KEYS), and
    layout_index when the files have more than one header; returns those with one raw string column
    per seed column (lower-cased name) and field_count_ok. Every line given is parsed: the job
    drops the header and blank lines after numbering them. The plan has one parse per distinct
    header, not per file.
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    kept = list(lines.columns)
    if not files:
        return lines.select(
            *kept,
            *[F.lit(None).cast("string").alias(name) for name in RAW_COLUMNS],
            F.lit(True).alias("field_count_ok"),
        )
    layouts = header_layouts(files)
    if len(layouts) == 1:
        return _parse_layout(lines, layouts[0], kept)
    parts = [
        _parse_layout(lines.where(F.col("layout_index") == index), header, kept) for index, header in enumerate(layouts)
    ]
    return reduce(DataFrame.unionByName, parts)


def _fields(header: tuple[str, ...]):
    """The line parsed as CSV by the header's width: a struct c0..c<n-1>, _corrupt_record."""
    from pyspark.sql import functions as F

    schema = ", ".join(f"c{position} string" for position in range(len(header)))
    return F.from_csv(F.col("value"), f"{schema}, _corrupt_record string", CSV_OPTIONS)


def _parse_layout(records, header: tuple[str, ...], kept: list[str]):
    """Records of files sharing one header, parsed by it (positions differ between headers)."""
    from pyspark.sql import functions as F

    # inline() is a generator: the optimiser cannot copy the parse into every use of a field,
    # so each line is parsed once instead of once per column.
    parsed = records.select(*kept, F.inline(F.array(_fields(header))))
    by_name = {name.lower(): position for position, name in enumerate(header)}
    return parsed.select(
        *kept,
        *[F.col(f"c{by_name[name]}").alias(name) for name in RAW_COLUMNS],
        F.col("_corrupt_record").isNull().alias("field_count_ok"),
    )


def with_raw_values(rows, files: Sequence[FileLayout]):
    """Adds raw: the file's header names mapped to the line's raw field strings.

    For the few quarantined rows only: the line (value) is parsed again rather than carrying a
    map for every row. Rows carry value, and layout_index when the files have several headers.
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    layouts = header_layouts(files)
    if not layouts:
        return rows.withColumn("raw", F.create_map().cast("map<string,string>"))
    parts = []
    for index, header in enumerate(layouts):
        part = rows if len(layouts) == 1 else rows.where(F.col("layout_index") == index)
        width = len(header)
        parsed = part.select("*", F.inline(F.array(_fields(header))))
        raw = F.map_from_arrays(
            F.array(*[F.lit(name) for name in header]), F.array(*[F.col(f"c{position}") for position in range(width)])
        )
        parts.append(parsed.select(*rows.columns, raw.alias("raw")))
    return reduce(DataFrame.unionByName, parts)
