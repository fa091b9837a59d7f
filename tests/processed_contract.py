"""The processed-Parquet contract as a pyarrow schema, derived from its one declaration
(`movies_quality.columns.PROCESSED`): what the Glue job writes and what the warehouse tests
publish in its place."""

import pyarrow as pa
from movies_quality.columns import PROCESSED

_ARROW_TYPES = {
    "string": pa.string(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "decimal(3,1)": pa.decimal128(3, 1),
    "boolean": pa.bool_(),
    # Spark writes TIMESTAMP_MICROS in the session's zone (UTC), as the job sets it.
    "timestamp": pa.timestamp("us", tz="UTC"),
}

PROCESSED_SCHEMA = pa.schema([(column.name, _ARROW_TYPES[column.spark_type]) for column in PROCESSED])
