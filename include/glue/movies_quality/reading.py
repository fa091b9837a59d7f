"""Reading CSV files as numbered lines and parsing each line by its file's header.

Files are read with the splittable text source, so a large file is parsed by many tasks. A line's
number in its file comes from its split's start offset and its position in the split: a small
aggregate counts the lines of each split, and a running sum over the splits of a file gives the
lines before each split. Quoted fields may hold commas and doubled quotes, not line breaks.
"""

from collections.abc import Sequence
from functools import reduce

from movies_quality.columns import RAW_COLUMNS
from movies_quality.headers import FileLayout

LINES_SCHEMA = "file_index int, value string, block_start long, row_id long"
CSV_OPTIONS = {
    "mode": "PERMISSIVE",
    "columnNameOfCorruptRecord": "_corrupt_record",
    "escape": '"',
}


def scan_lines(spark, files: Sequence[FileLayout]):
    """Every line of the files, untouched: file_index, value, block_start and a row_id per line.

    row_id is consecutive within a split; cache the result before numbering so both sides of the
    numbering see the same ids from one read of the input.
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    if not files:
        return spark.createDataFrame([], LINES_SCHEMA)
    per_file = [
        spark.read.text(layout.input_uri).select(
            F.lit(layout.index).alias("file_index"),
            "value",
            F.col("_metadata.file_block_start").alias("block_start"),
        )
        for layout in files
    ]
    return reduce(DataFrame.unionByName, per_file).withColumn("row_id", F.monotonically_increasing_id())


def number_lines(lines):
    """Adds line_number: the 1-based line of each row in its file (the header is line 1)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    splits = lines.groupBy("file_index", "block_start").agg(
        F.count(F.lit(1)).alias("split_lines"), F.min("row_id").alias("split_first_row_id")
    )
    earlier_splits = Window.partitionBy("file_index").orderBy("block_start").rowsBetween(Window.unboundedPreceding, -1)
    splits = splits.withColumn("lines_before", F.coalesce(F.sum("split_lines").over(earlier_splits), F.lit(0)))
    return lines.join(F.broadcast(splits), ["file_index", "block_start"]).select(
        "file_index",
        (F.col("lines_before") + F.col("row_id") - F.col("split_first_row_id") + 1).cast("int").alias("line_number"),
        "value",
    )


def parse_records(numbered_lines, files: Sequence[FileLayout]):
    """Record lines parsed by their file's header into the raw seed columns.

    Returns file_index, line_number, value, source_object, one raw string column per seed column
    (lower-cased name), raw (map of the file's header names to the raw strings) and
    field_count_ok. The header line and blank lines are not records.
    """
    from pyspark.sql import DataFrame
    from pyspark.sql import functions as F

    records = numbered_lines.where((F.col("line_number") > 1) & F.col("value").rlike(r"\S"))
    if not files:
        return records.select(
            "file_index",
            "line_number",
            "value",
            F.lit(None).cast("string").alias("source_object"),
            *[F.lit(None).cast("string").alias(name) for name in RAW_COLUMNS],
            F.create_map().cast("map<string,string>").alias("raw"),
            F.lit(True).alias("field_count_ok"),
        )
    return reduce(DataFrame.unionByName, [_parse_file(records, layout) for layout in files])


def _parse_file(records, layout: FileLayout):
    """The records of one file parsed by its header (positions differ between files)."""
    from pyspark.sql import functions as F

    width = len(layout.header)
    schema = ", ".join(f"c{position} string" for position in range(width))
    fields = F.from_csv(F.col("value"), f"{schema}, _corrupt_record string", CSV_OPTIONS)
    # inline() is a generator: the optimiser cannot copy the parse into every use of a field,
    # so each line is parsed once instead of once per column.
    parsed = records.where(F.col("file_index") == layout.index).select(
        "file_index", "line_number", "value", F.inline(F.array(fields))
    )
    positions = layout.positions
    return parsed.select(
        "file_index",
        "line_number",
        "value",
        F.lit(layout.source_object).alias("source_object"),
        *[F.col(f"c{positions[name]}").alias(name) for name in RAW_COLUMNS],
        F.map_from_arrays(
            F.array(*[F.lit(name) for name in layout.header]),
            F.array(*[F.col(f"c{position}") for position in range(width)]),
        ).alias("raw"),
        F.col("_corrupt_record").isNull().alias("field_count_ok"),
    )
