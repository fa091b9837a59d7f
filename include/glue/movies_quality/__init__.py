"""Pure PySpark transforms of the IMDb movies Glue job: DataFrame in, DataFrame out.

The entry script `movies_quality_ingestion.py` wires them together; on AWS Glue this package is
shipped with `--extra-py-files`.
"""
