"""The configuration table and check: every problem found, in one message; no silent defaults."""

from __future__ import annotations

import json

import pytest
from imdb_pipeline import config

GOOD_VARIABLES = {
    "imdb_bucket": "imdb-quality-prod",
    "imdb_queue_url": "https://sqs.eu-west-1.amazonaws.com/123456789012/imdb-raw-object-created",
    "imdb_sns_topic_arn": "arn:aws:sns:eu-west-1:123456789012:imdb-pipeline-notifications",
    "imdb_glue_assets_bucket": "imdb-artifacts-prod",
}
POSTGRES = {"conn_type": "postgres", "host": "127.0.0.1", "extra": {}}
AWS = {"conn_type": "aws", "host": None, "extra": {"region_name": "eu-west-1"}}
GOOD_CONNECTIONS = {"aws_default": AWS, "redshift_default": POSTGRES}


def problems(variables=None, connections=None, **overrides):
    return config.problems({**(GOOD_VARIABLES if variables is None else variables), **overrides},
                           GOOD_CONNECTIONS if connections is None else connections)


def test_a_complete_configuration_has_no_problems():
    assert problems() == []
    config.check(GOOD_VARIABLES, GOOD_CONNECTIONS)


def test_required_settings_have_no_silent_default():
    required = {setting.name for setting in config.SETTINGS if setting.required}
    assert {"imdb_bucket", "imdb_queue_url", "imdb_sns_topic_arn"} <= required
    found = problems(variables={})
    for name in ("imdb_bucket", "imdb_queue_url", "imdb_sns_topic_arn"):
        assert any(line.startswith(f"{name} is not set") for line in found), found


def test_one_message_lists_every_problem():
    variables = {**GOOD_VARIABLES, "imdb_queue_url": None, "imdb_raw_prefix": "raw",
                 "imdb_quality_min": "high", "imdb_sns_topic_arn": "imdb-notifications"}
    with pytest.raises(config.ConfigurationError) as raised:
        config.check(variables, {"aws_default": None, "redshift_default": {"conn_type": "mysql", "host": "db"}})
    message = str(raised.value)
    assert message.startswith("The pipeline's configuration has 6 problem(s):")
    for fragment in ("imdb_queue_url is not set", "imdb_raw_prefix='raw': expected a key prefix",
                     "imdb_quality_min='high': expected a number", "imdb_sns_topic_arn='imdb-notifications'",
                     "connection aws_default is not defined", "connection redshift_default has type 'mysql'"):
        assert fragment in message, fragment


@pytest.mark.parametrize(("name", "value"), [
    ("imdb_bucket", "Imdb_Bucket"), ("imdb_bucket", "ab"), ("imdb_bucket", "10.0.0.1"),
    ("imdb_queue_url", "sqs://queue"), ("imdb_queue_url", "https://sqs.eu-west-1.amazonaws.com/imdb"),
    ("imdb_sns_topic_arn", "arn:aws:sqs:eu-west-1:123456789012:queue"),
    ("imdb_processed_prefix", "/processed/"), ("imdb_glue_assets_prefix", ""),
    ("imdb_glue_role", "arn:aws:iam::123:role/x"), ("imdb_redshift_iam_role", "my-role"),
    ("imdb_athena_output", "https://bucket/results/"),
    ("imdb_max_quarantine_share", "1.5"), ("imdb_max_quarantine_share", "half"),
])
def test_malformed_values_are_named(name, value):
    (problem,) = problems(**{name: value})
    assert problem.startswith(f"{name}={value!r}: expected") or problem.startswith(f"{name}={value!r}: an S3")


@pytest.mark.parametrize(("name", "value"), [
    ("imdb_queue_url", "http://127.0.0.1:5055/123456789012/imdb-raw-object-created"),
    ("imdb_glue_role", "arn:aws:iam::123456789012:role/service-role/imdb-glue"),
    ("imdb_bucket", "imdb.quality-2026"),
    ("imdb_quality_max", "10"),
    ("imdb_max_quarantine_share", "1"),
])
def test_other_valid_forms_pass(name, value):
    assert problems(**{name: value}) == []


def test_quality_bounds_must_be_ordered():
    assert problems(imdb_quality_min="9", imdb_quality_max="8.5") == [
        "imdb_quality_min='9' must be below imdb_quality_max='8.5'"]


def test_a_redshift_warehouse_needs_the_copy_role():
    redshift = {**GOOD_CONNECTIONS, "redshift_default": {"conn_type": "redshift", "host": "cluster.example"}}
    (problem,) = problems(connections=redshift)
    assert problem.startswith("imdb_redshift_iam_role is not set")
    role = "arn:aws:iam::123456789012:role/imdb-redshift-copy"
    assert problems(connections=redshift, imdb_redshift_iam_role=role) == []


def test_the_warehouse_needs_a_host_or_a_redshift_cluster():
    no_host = {**GOOD_CONNECTIONS, "redshift_default": {"conn_type": "postgres", "host": None}}
    assert problems(connections=no_host) == [
        "connection redshift_default names no host (nor a Redshift cluster or workgroup)"]
    serverless = {"conn_type": "redshift", "host": None, "extra": {"workgroup_name": "imdb"}}
    assert problems(connections={**GOOD_CONNECTIONS, "redshift_default": serverless},
                    imdb_redshift_iam_role="arn:aws:iam::123456789012:role/copy") == []


def test_athena_needs_an_output_location():
    assert problems(imdb_athena_database="imdb") == [
        "imdb_athena_output is not set: Athena needs it when imdb_athena_database is set"]
    assert problems(imdb_athena_database="imdb", imdb_athena_output="s3://imdb-athena/results/") == []


def test_settings_are_read_from_the_environment_as_airflow_would():
    environ = {
        **{f"AIRFLOW_VAR_{name.upper()}": value for name, value in GOOD_VARIABLES.items()},
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({"conn_type": "aws", "extra": {"region_name": "eu-west-1"}}),
        "AIRFLOW_CONN_REDSHIFT_DEFAULT": "postgresql://user:secret@db.internal:5432/warehouse",
    }
    variables, connections = config.settings_in_environment(environ)
    assert variables["imdb_bucket"] == "imdb-quality-prod"
    assert variables["imdb_raw_prefix"] is None
    assert connections["redshift_default"]["conn_type"] == "postgres"
    assert connections["redshift_default"]["host"] == "db.internal"
    config.check(variables, connections)


def test_templates_and_parse_time_values_do_not_invent_required_settings(monkeypatch):
    monkeypatch.delenv("AIRFLOW_VAR_IMDB_QUEUE_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_VAR_IMDB_RAW_PREFIX", "landing/")
    assert config.from_environment("imdb_queue_url") == config.NOT_SET
    assert config.from_environment("imdb_raw_prefix") == "landing/"
    assert config.template("imdb_sns_topic_arn") == "{{ var.value.get('imdb_sns_topic_arn') }}"
    assert config.template("imdb_raw_prefix") == "{{ var.value.get('imdb_raw_prefix', 'raw/') }}"
    # The placeholder is itself reported, not taken for a real value.
    assert problems(imdb_bucket=config.NOT_SET, imdb_queue_url=config.NOT_SET)[-1].startswith(
        f"imdb_queue_url={config.NOT_SET!r}")


@pytest.mark.parametrize(("given", "seconds"), [("2", 2), (None, 10), ("soon", 10), ("0", 10)])
def test_the_glue_poll_interval_is_read_at_parse_time_and_an_invalid_one_parses_as_the_default(
    monkeypatch, given, seconds
):
    monkeypatch.delenv("AIRFLOW_VAR_IMDB_GLUE_POLL_SECONDS", raising=False)
    if given is not None:
        monkeypatch.setenv("AIRFLOW_VAR_IMDB_GLUE_POLL_SECONDS", given)
    assert config.seconds_from_environment("imdb_glue_poll_seconds") == seconds
    if given == "soon":
        (problem,) = problems(imdb_glue_poll_seconds="soon")
        assert problem.startswith("imdb_glue_poll_seconds='soon': expected a whole number of seconds from 1 to 999")
