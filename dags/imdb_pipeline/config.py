"""The pipeline's settings: one table that names them, their formats and defaults, on MWAA and locally.

Settings are Airflow Variables (`imdb_*`) plus two connections. Locally the stack sets them as
`AIRFLOW_VAR_IMDB_*` / `AIRFLOW_CONN_*` environment variables; on MWAA they come from the secrets
backend or the environment. Operators read them through templates (`template`), task code through
`get` at run time; `check` validates them all at once and lists every problem in one message
(the DAG's first task, `python -m local_stack doctor` and `make up` run it). Nothing here touches
the metadata database or the network at import.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from imdb_pipeline.failures import PermanentFailure

DAG_ID = "imdb_quality_ingest"
AWS_CONN_ID = "aws_default"
WAREHOUSE_CONN_ID = "redshift_default"
WAREHOUSE_CONN_TYPES = ("postgres", "redshift")
# What `from_environment` gives for a required setting the environment lacks: the DAG still parses,
# the watcher polls nothing real, and the configuration check names the missing setting.
NOT_SET = "imdb-setting-not-set"

# A validator returns None for a good value, else what is wrong with it (a phrase).
Validator = Callable[[str], "str | None"]


def _pattern(regex: str, expected: str) -> Validator:
    # Compiled on first use (and cached by `re`), not when the DAG file is parsed.
    return lambda value: None if re.fullmatch(regex, value) else f"expected {expected}"


def _bucket_name(value: str) -> str | None:
    if not re.fullmatch(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", value) or ".." in value:
        return "expected an S3 bucket name (3-63 lower-case letters, digits, '.', '-')"
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return None
    return "an S3 bucket name cannot be an IP address"


def _prefix(value: str) -> str | None:
    if not value.endswith("/") or value.startswith("/") or value == "/":
        return "expected a key prefix such as 'raw/' (ending in '/', not starting with '/')"
    return None


def _queue_url(value: str) -> str | None:
    url = urlparse(value)
    if url.scheme not in ("http", "https") or not url.netloc or not re.fullmatch(r"/\d{12}/[\w-]{1,80}", url.path):
        return "expected an SQS queue URL, https://sqs.<region>.amazonaws.com/<account id>/<queue name>"
    return None


def _number(value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return "expected a number"
    return None if math.isfinite(number) else "expected a finite number"


def _share(value: str) -> str | None:
    try:
        share = float(value)
    except ValueError:
        share = math.nan
    return None if 0 <= share <= 1 else "expected a share from 0 to 1 (e.g. 0.5)"


def _s3_uri(value: str) -> str | None:
    url = urlparse(value)
    if url.scheme != "s3" or _bucket_name(url.netloc) or not value.endswith("/"):
        return "expected an S3 folder URI, s3://<bucket>/<prefix>/"
    return None


_ROLE_ARN = r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}"


@dataclass(frozen=True)
class Setting:
    """One Airflow Variable: `default` None means required (no silent default)."""

    name: str
    meaning: str
    validate: Validator
    default: str | None = None

    @property
    def required(self) -> bool:
        return self.default is None


SETTINGS: tuple[Setting, ...] = (
    Setting("imdb_bucket", "the data bucket", _bucket_name),
    Setting("imdb_raw_prefix", "the landing prefix watched for *.csv", _prefix, "raw/"),
    Setting("imdb_processed_prefix", "where the Glue job writes, one folder per batch", _prefix, "processed/"),
    Setting("imdb_queue_url", "the SQS queue the EventBridge rule fills", _queue_url),
    Setting("imdb_sns_topic_arn", "the SNS topic for pipeline notifications",
            _pattern(r"arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}", "an SNS topic ARN, "
                     "arn:aws:sns:<region>:<account id>:<topic>")),
    Setting("imdb_glue_job_name", "the Glue job", _pattern(r"[\w.-]{1,255}", "a Glue job name"),
            "imdb-movies-quality-ingestion"),
    Setting("imdb_glue_role", "the Glue job's IAM role",
            _pattern(rf"[\w+=,.@-]{{1,64}}|{_ROLE_ARN}", "an IAM role name or role ARN"), "imdb-glue-job-role"),
    Setting("imdb_glue_assets_bucket", "the artifacts bucket the Glue job's code is published to and run from",
            _bucket_name),
    Setting("imdb_glue_assets_prefix", "where the DAG uploads the Glue script and package", _prefix, "glue/"),
    Setting("imdb_glue_poll_seconds", "seconds between the Glue task's checks of its run, read when the DAG is parsed",
            _pattern(r"[1-9][0-9]{0,2}", "a whole number of seconds from 1 to 999"), "10"),
    Setting("imdb_quality_min", "the quality rule's lower bound (exclusive)", _number, "8.0"),
    Setting("imdb_quality_max", "the quality rule's upper bound (exclusive)", _number, "10.3"),
    Setting("imdb_max_quarantine_share", "a file quarantining more than this share of its rows is rejected whole",
            _share, "0.5"),
    Setting("imdb_lookback_days", "days every run looks back for raw files the ledger has not settled",
            _pattern(r"[1-9][0-9]{0,2}", "a whole number of days from 1 to 999"), "14"),
    Setting("imdb_redshift_iam_role", "the IAM role Redshift's COPY assumes (Redshift only)",
            _pattern(_ROLE_ARN, "an IAM role ARN, arn:aws:iam::<account id>:role/<name>"), ""),
    Setting("imdb_athena_database", "the Athena database for processed partitions (optional)",
            _pattern(r"[a-z0-9_]{1,255}", "an Athena database name (lower-case letters, digits, '_')"), ""),
    Setting("imdb_athena_workgroup", "the Athena workgroup the partition DDL runs in",
            _pattern(r"[\w.-]{1,128}", "an Athena workgroup name"), "primary"),
    Setting("imdb_athena_output", "where Athena writes query results", _s3_uri, ""),
    Setting("imdb_quicksight_dataset_id", "the QuickSight dataset refreshed after the marts (optional)",
            _pattern(r"[\w-]{1,128}", "a QuickSight dataset id"), ""),
)
_BY_NAME = {setting.name: setting for setting in SETTINGS}


@dataclass(frozen=True)
class ConnectionSetting:
    conn_id: str
    meaning: str
    conn_types: tuple[str, ...]


CONNECTIONS: tuple[ConnectionSetting, ...] = (
    ConnectionSetting(AWS_CONN_ID, "AWS (S3, SQS, SNS, Glue, Athena)", ("aws",)),
    ConnectionSetting(WAREHOUSE_CONN_ID, "the warehouse (Redshift on AWS, PostgreSQL locally)", WAREHOUSE_CONN_TYPES),
)


class ConfigurationError(PermanentFailure):
    """The settings are incomplete or malformed; the message lists every problem."""


def problems(variables: Mapping[str, str | None], connections: Mapping[str, Mapping | None]) -> list[str]:
    """Every problem with the given variables (None: unset) and connections (None: undefined; else a
    dict with `conn_type`, `host`, `extra`), one line each; empty when all is well."""
    found = []
    values = {}
    for setting in SETTINGS:
        value = variables.get(setting.name)
        if value is None:
            if setting.required:
                found.append(f"{setting.name} is not set: {setting.meaning} (Airflow variable {setting.name}, "
                             f"or environment variable AIRFLOW_VAR_{setting.name.upper()})")
                continue
            value = setting.default
        values[setting.name] = value
        # Only settings whose default is empty may be left empty (their feature is then off).
        error = setting.validate(value) if value or setting.default != "" else None
        if error:
            found.append(f"{setting.name}={value!r}: {error} ({setting.meaning})")
    if all(not _BY_NAME[name].validate(values.get(name, "")) for name in ("imdb_quality_min", "imdb_quality_max")):
        if float(values["imdb_quality_min"]) >= float(values["imdb_quality_max"]):
            found.append(f"imdb_quality_min={values['imdb_quality_min']!r} must be below "
                         f"imdb_quality_max={values['imdb_quality_max']!r}")
    if values.get("imdb_athena_database") and not values.get("imdb_athena_output"):
        found.append("imdb_athena_output is not set: Athena needs it when imdb_athena_database is set")
    for requirement in CONNECTIONS:
        connection = connections.get(requirement.conn_id)
        if connection is None:
            found.append(f"connection {requirement.conn_id} is not defined: {requirement.meaning} "
                         f"(Airflow connection, or environment variable AIRFLOW_CONN_{requirement.conn_id.upper()})")
            continue
        conn_type = connection.get("conn_type")
        if conn_type not in requirement.conn_types:
            found.append(f"connection {requirement.conn_id} has type {conn_type!r}: expected "
                         f"{' or '.join(requirement.conn_types)} ({requirement.meaning})")
    warehouse = connections.get(WAREHOUSE_CONN_ID) or {}
    if warehouse.get("conn_type") in WAREHOUSE_CONN_TYPES:
        extra = warehouse.get("extra") or {}
        if not (warehouse.get("host") or extra.get("cluster_identifier") or extra.get("workgroup_name")):
            found.append(f"connection {WAREHOUSE_CONN_ID} names no host (nor a Redshift cluster or workgroup)")
    if warehouse.get("conn_type") == "redshift" and not values.get("imdb_redshift_iam_role"):
        found.append(f"imdb_redshift_iam_role is not set: Redshift's COPY from S3 needs it when connection "
                     f"{WAREHOUSE_CONN_ID} is of type redshift")
    return found


def check(variables: Mapping[str, str | None], connections: Mapping[str, Mapping | None]) -> None:
    """Raise ConfigurationError listing every problem, if there is any."""
    found = problems(variables, connections)
    if found:
        listing = "\n".join(f"- {problem}" for problem in found)
        raise ConfigurationError(f"The pipeline's configuration has {len(found)} problem(s):\n{listing}")


def check_airflow() -> None:
    """`check` with the variables and connections Airflow gives a task (call in a task, not at import)."""
    from airflow.sdk import Connection, Variable
    from airflow.sdk.exceptions import AirflowNotFoundException

    variables = {setting.name: Variable.get(setting.name, default=None) for setting in SETTINGS}
    connections: dict[str, dict | None] = {}
    for requirement in CONNECTIONS:
        try:
            found = Connection.get(requirement.conn_id)
        except AirflowNotFoundException:
            connections[requirement.conn_id] = None
            continue
        connections[requirement.conn_id] = {"conn_type": found.conn_type, "host": found.host,
                                            "extra": found.extra_dejson}
    check(variables, connections)


def settings_in_environment(environ: Mapping[str, str]) -> tuple[dict[str, str | None], dict[str, dict | None]]:
    """The variables and connections an environment (`AIRFLOW_VAR_*`, `AIRFLOW_CONN_*`) gives Airflow."""
    variables = {setting.name: environ.get(f"AIRFLOW_VAR_{setting.name.upper()}") for setting in SETTINGS}
    connections = {requirement.conn_id: _connection(environ.get(f"AIRFLOW_CONN_{requirement.conn_id.upper()}"))
                   for requirement in CONNECTIONS}
    return variables, connections


def _connection(raw: str | None) -> dict | None:
    """An AIRFLOW_CONN_* value (JSON or URI form) as conn_type, host and extra."""
    if raw is None:
        return None
    if raw.lstrip().startswith("{"):
        parsed = json.loads(raw)
        extra = parsed.get("extra") or {}
        return {"conn_type": parsed.get("conn_type"), "host": parsed.get("host"),
                "extra": json.loads(extra) if isinstance(extra, str) else extra}
    url = urlparse(raw)
    # Airflow's own URI rules: `postgresql://` means postgres, '-' in a scheme stands for '_'.
    conn_type = "postgres" if url.scheme == "postgresql" else url.scheme.replace("-", "_")
    return {"conn_type": conn_type, "host": url.hostname, "extra": {}}


def default(name: str) -> str | None:
    """A setting's default; None for a required one."""
    return _BY_NAME[name].default


def template(name: str) -> str:
    """A Jinja template that renders the setting when the operator runs (an unset required one fails)."""
    default = _BY_NAME[name].default
    if default is None:
        return f"{{{{ var.value.get('{name}') }}}}"
    return f"{{{{ var.value.get('{name}', '{default}') }}}}"


def get(name: str) -> str:
    """The setting's value, for task code (never call at import); an unset required one raises."""
    from airflow.sdk import Variable

    default = _BY_NAME[name].default
    return Variable.get(name) if default is None else Variable.get(name, default=default)


def from_environment(name: str) -> str:
    """The setting as the environment gives it, for the few values needed when the DAG is parsed.

    The asset watcher's queue URL and the landing asset's URI are fixed when the DAG file is
    parsed, before any task runs, so they cannot come from a template. An unset required setting
    gives NOT_SET, so the DAG still parses and the configuration check reports it.
    """
    default = _BY_NAME[name].default
    return os.environ.get(f"AIRFLOW_VAR_{name.upper()}", NOT_SET if default is None else default)


def seconds_from_environment(name: str) -> int:
    """A whole-seconds setting as `from_environment` gives it; its default when the value is invalid,
    so the DAG still parses and the configuration check reports the value."""
    value = from_environment(name)
    return int(value if _BY_NAME[name].validate(value) is None else _BY_NAME[name].default)


def include_dir() -> Path:
    """`include/` beside the dags folder (the repository layout, and MWAA's when deployed with it)."""
    return Path(os.environ.get("IMDB_INCLUDE_DIR", Path(__file__).resolve().parents[2] / "include"))
