"""Reading CSV files as numbered lines and parsing each line by its file's header.

All files are read by one splittable text scan, so a large file is parsed by many tasks and the
query plan does not grow with the number of files. A line's number in its file comes from its
split's start offset and its position in the split: a small aggregate counts the lines of each
split (a second, cheap scan that reads no column), and a running sum over the splits of a file
gives the lines before each split. Quoted fields may hold commas and doubled quotes, not line
breaks.
"""

import re
from collections.abc import Sequence
from functools import reduce

from movies_quality.columns import RAW_COLUMNS
from movies_quality.headers import FileLayout

LINES_SCHEMA = "file_index int, line_number int, value string, source_object string, layout_index int"
RECORD_KEYS = ("file_index", "line_number", "value", "source_object")
FILES_SCHEMA = "listed_path string, file_index int, source_object string, layout_index int"
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
    """Every line of the files with file_index, line_number (the header is line 1), value and source_object.

    A file listed twice is read once and its lines are given to both listings, as two files.
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    if not files:
        return spark.createDataFrame([], LINES_SCHEMA)
    layouts = header_layouts(files)
    listing = spark.createDataFrame(
        [
            (re.sub(EMPTY_AUTHORITY, r"\1:/", layout.scan_path), layout.index, layout.source_object,
             layouts.index(layout.header))
            for layout in files
        ],
        FILES_SCHEMA,
    )  # fmt: skip
    lines = spark.read.text(list(dict.fromkeys(exact_path(layout.input_uri) for layout in files))).select(
        F.col("_metadata.file_path").alias("scan_path"),
        F.col("_metadata.file_block_start").alias("block_start"),
        "value",
        # Consecutive within a split; both scans below split the files alike, so ids agree.
        F.monotonically_increasing_id().alias("row_id"),
    )
    splits = lines.groupBy("scan_path", "block_start").agg(
        F.count(F.lit(1)).alias("split_lines"), F.min("row_id").alias("split_first_row_id")
    )
    earlier_splits = Window.partitionBy("scan_path").orderBy("block_start").rowsBetween(Window.unboundedPreceding, -1)
    splits = splits.withColumn("lines_before", F.coalesce(F.sum("split_lines").over(earlier_splits), F.lit(0)))
    # Each split gets its file's listing (two when the file is listed twice) by the path without
    # an empty authority: Spark says `file:/a`, Hadoop's FileStatus `file:///a`.
    listed = splits.join(
        listing, F.regexp_replace("scan_path", EMPTY_AUTHORITY, "$1:/") == listing["listed_path"], "left"
    )
    # A path Spark names differently from the probe would lose its lines: fail loudly instead.
    unmatched = F.assert_true(F.col("file_index").isNotNull(), F.concat(F.lit("unmatched scan path "), "scan_path"))
    listed = listed.select(
        "scan_path",
        "block_start",
        "lines_before",
        "split_first_row_id",
        F.coalesce(unmatched, F.col("file_index")).alias("file_index"),
        "source_object",
        "layout_index",
    )
    return lines.join(F.broadcast(listed), ["scan_path", "block_start"]).select(
        "file_index",
        (F.col("lines_before") + F.col("row_id") - F.col("split_first_row_id") + 1).cast("int").alias("line_number"),
        "value",
        "source_object",
        "layout_index",
    )


def parse_records(numbered_lines, files: Sequence[FileLayout]):
    """Record lines parsed by their file's header into the raw seed columns.

    Takes RECORD_KEYS (and layout_index, needed when the files have more than one header);
    returns those with one raw string column per seed column (lower-cased
    name) and field_count_ok. The header line and blank lines are not records. The plan has one
    parse per distinct header, not per file.
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    records = numbered_lines.where((F.col("line_number") > 1) & F.col("value").rlike(r"\S"))
    kept = [name for name in (*RECORD_KEYS, "layout_index") if name in numbered_lines.columns]
    if not files:
        return records.select(
            *kept,
            *[F.lit(None).cast("string").alias(name) for name in RAW_COLUMNS],
            F.lit(True).alias("field_count_ok"),
        )
    layouts = header_layouts(files)
    if len(layouts) == 1:
        return _parse_layout(records, layouts[0], kept)
    parts = [
        _parse_layout(records.where(F.col("layout_index") == index), header, kept)
        for index, header in enumerate(layouts)
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
