"""AWS Glue entry of the IMDb movies quality ingestion (Glue 5.0, PySpark 3.5).

On Glue: GlueContext, Job.init/commit and getResolvedOptions. Locally, plain PySpark with the same
arguments:

    python include/glue/movies_quality_ingestion.py --JOB_NAME local \
        --input_manifest file:///abs/input_manifest.json --output_uri file:///abs/out --batch_id B \
        [--quality_min 8.0] [--quality_max 10.3] [--max_quarantine_share 0.5]

The input manifest (JSON, read through Hadoop FileSystem, so s3:// on Glue) lists the inputs in
batch order: {"inputs": [{"uri": "s3://b/raw/a.csv", "source_object": "s3://b/raw/a.csv"}]}.
`uri` is where the job reads the file, `source_object` its name in the outputs (they differ when
a runner staged the object to disk). Keys are data here: any character, commas included.
"""

import argparse
import json
import os
import re
import sys

REQUIRED_ARGUMENTS = ("JOB_NAME", "input_manifest", "output_uri", "batch_id")
OPTIONAL_ARGUMENTS = {"quality_min": "8.0", "quality_max": "10.3", "max_quarantine_share": "0.5"}
BATCH_ID_PATTERN = re.compile(r"^[0-9A-Za-z_-]{1,64}$")


def resolve_arguments(argv: list[str]) -> dict[str, str]:
    """Job arguments by name, through getResolvedOptions on Glue and argparse elsewhere."""
    try:
        from awsglue.utils import getResolvedOptions
    except ImportError:
        parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
        for name in REQUIRED_ARGUMENTS:
            parser.add_argument(f"--{name}", required=True)
        for name, default in OPTIONAL_ARGUMENTS.items():
            parser.add_argument(f"--{name}", default=default)
        # Like getResolvedOptions, ignore arguments not asked for (Airflow's GlueJobOperator adds
        # --airflow_task_uuid to every run).
        return vars(parser.parse_known_args(argv[1:])[0])
    # getResolvedOptions fails on an absent name: ask only for the optional ones given.
    given = [name for name in OPTIONAL_ARGUMENTS if f"--{name}" in argv]
    arguments = getResolvedOptions(argv, [*REQUIRED_ARGUMENTS, *given])
    return {**OPTIONAL_ARGUMENTS, **arguments}


def check_arguments(arguments: dict[str, str]) -> None:
    """The arguments that need no file read; ValueError names the argument at fault."""
    if not BATCH_ID_PATTERN.match(arguments["batch_id"]):
        raise ValueError(f"--batch_id {arguments['batch_id']!r} does not match {BATCH_ID_PATTERN.pattern}")
    quality_min, quality_max = _number(arguments, "quality_min"), _number(arguments, "quality_max")
    if quality_min >= quality_max:
        raise ValueError(f"--quality_min {quality_min} is not below --quality_max {quality_max}")
    if not 0 <= _number(arguments, "max_quarantine_share") <= 1:
        raise ValueError(f"--max_quarantine_share {arguments['max_quarantine_share']} is not from 0 to 1")


def job_settings(arguments: dict[str, str], manifest_text: str):
    """Checked JobSettings from the raw arguments and the input manifest's text; ValueError names the fault."""
    from movies_quality.job import JobSettings

    check_arguments(arguments)
    input_uris, source_objects = manifest_inputs(manifest_text)
    return JobSettings(
        input_uris=input_uris,
        source_objects=source_objects,
        output_uri=arguments["output_uri"],
        batch_id=arguments["batch_id"],
        quality_min=_number(arguments, "quality_min"),
        quality_max=_number(arguments, "quality_max"),
        max_quarantine_share=_number(arguments, "max_quarantine_share"),
    )


def manifest_inputs(text: str) -> tuple[list[str], list[str]]:
    """(uris, source objects) of an input manifest, in its order."""
    try:
        inputs = json.loads(text)["inputs"]
        pairs = [(entry["uri"], entry["source_object"]) for entry in inputs]
    except (ValueError, KeyError, TypeError) as error:
        raise ValueError(f"--input_manifest is not a list of inputs with uri and source_object: {error!r}") from None
    if not pairs:
        raise ValueError("--input_manifest names no file")
    if not all(isinstance(value, str) and value for pair in pairs for value in pair):
        raise ValueError("--input_manifest has an empty or non-text uri or source_object")
    return [uri for uri, _ in pairs], [source for _, source in pairs]


def _number(arguments: dict[str, str], name: str) -> float:
    try:
        return float(arguments[name])
    except ValueError:
        raise ValueError(f"--{name} {arguments[name]!r} is not a number") from None


def main(argv: list[str]) -> None:
    # The package sits next to this script in a checkout; on Glue it comes with --extra-py-files.
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from movies_quality.job import run_job

    arguments = resolve_arguments(argv)
    try:
        # Checked before a session starts; the manifest is read through it.
        check_arguments(arguments)
    except ValueError as error:
        sys.exit(f"movies_quality_ingestion: {error}")
    try:
        from awsglue.context import GlueContext
        from awsglue.job import Job
    except ImportError:
        spark = _local_session(arguments["JOB_NAME"])
        run_job(spark, _settings(spark, arguments))
        spark.stop()
        return
    from pyspark.context import SparkContext

    glue_context = GlueContext(SparkContext.getOrCreate())
    job = Job(glue_context)
    job.init(arguments["JOB_NAME"], arguments)
    run_job(glue_context.spark_session, _settings(glue_context.spark_session, arguments))
    job.commit()


def _settings(spark, arguments: dict[str, str]):
    from movies_quality.outputs import read_text

    try:
        return job_settings(arguments, read_text(spark, arguments["input_manifest"]))
    except ValueError as error:
        sys.exit(f"movies_quality_ingestion: {error}")


def _local_session(app_name: str):
    """A plain local SparkSession in UTC, as Glue's is.

    The driver is the only executor here: it gets room to cache a 1M-row batch as a Glue
    G.1X worker has (SPARK_DRIVER_MEMORY overrides), or the cache spills to disk.
    """
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.appName(app_name)
        .master(os.environ.get("SPARK_MASTER", "local[*]"))
        .config("spark.driver.memory", os.environ.get("SPARK_DRIVER_MEMORY", "3g"))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("WARN")
    return spark


if __name__ == "__main__":
    import logging

    # On stdout, which Glue sends to the /aws-glue/jobs/output log group (stderr, with Spark's own
    # log, goes to /error).
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stdout
    )
    main(sys.argv)
