"""Unit tests of the quality gate: data source config, verdict mapping, storage, JSON, contracts."""

import json
import os
from types import SimpleNamespace

import pytest
import sqlglot
import yaml
from imdb_pipeline import config, quality
from soda_core.contracts.contract_verification import Threshold
from sqlglot import exp

from tests.fixtures.fakes import RecordingConnection

# DDL type -> the type name the contracts use (one both Redshift and PostgreSQL report).
CONTRACT_TYPE_OF_DDL_TYPE = {
    "CHAR": "char",
    "VARCHAR": "varchar",
    "INT": "integer",
    "BIGINT": "bigint",
    "DECIMAL": "numeric",
    "BOOLEAN": "boolean",
    "TIMESTAMP": "timestamp",
}


def airflow_connection(**fields) -> SimpleNamespace:
    defaults = {
        "conn_id": "redshift_default",
        "conn_type": "postgres",
        "host": "db.example",
        "port": None,
        "login": "loader",
        "password": "s3cret",
        "schema": "warehouse",
        "extra": None,
    }
    return SimpleNamespace(**{**defaults, **fields})


def check_result(outcome="PASSED", check_type="missing", value=0, diagnostics=None, warn_threshold=None):
    """A stand-in for a Soda CheckResult with the attributes the gate reads."""
    check = SimpleNamespace(
        type=check_type,
        relative_path=f"columns.movie_id.checks.{check_type}",
        name=f"movie_id {check_type}",
        threshold=Threshold(level="fail", must_be=0),
        warn_threshold=warn_threshold,
    )
    return SimpleNamespace(
        outcome=SimpleNamespace(name=outcome),
        check=check,
        threshold_value=value,
        diagnostic_metric_values=diagnostics or {"missing_count": value},
    )


def outcome(check="checks.row_count", result="pass", contract="imdb_movies_staging") -> quality.CheckOutcome:
    return quality.CheckOutcome(
        contract=contract,
        check=check,
        name=f"name of {check}",
        value=3.0,
        threshold="fail unless value > 0",
        outcome=result,
        message="value 3",
    )


def test_postgres_data_source_from_connection():
    source = quality.soda_data_source(airflow_connection(extra=json.dumps({"sslmode": "require"})))

    assert source == {
        "name": quality.DATA_SOURCE_NAME,
        "type": "postgres",
        "connection": {
            "host": "db.example",
            "port": 5432,
            "database": "warehouse",
            "user": "loader",
            "password": "s3cret",
            "sslmode": "require",
        },
    }


def test_redshift_data_source_uses_the_redshift_port_and_extra_dejson():
    connection = airflow_connection(conn_type="redshift", extra_dejson={})

    source = quality.soda_data_source(connection)

    assert source["type"] == "redshift"
    assert source["connection"]["port"] == 5439
    assert source["connection"]["password"] == "s3cret"


def test_redshift_iam_connection_gets_temporary_credentials(monkeypatch):
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        import boto3

        boto3.client("redshift", region_name="eu-west-1").create_cluster(
            ClusterIdentifier="imdb",
            NodeType="ra3.large",
            MasterUsername="admin",
            MasterUserPassword="Password1",
        )
        connection = airflow_connection(
            conn_type="redshift",
            host="imdb.abc123.eu-west-1.redshift.amazonaws.com",
            password=None,
            extra=json.dumps({"iam": True, "region": "eu-west-1"}),
        )

        source = quality.soda_data_source(connection)

    assert source["connection"]["user"].endswith("loader")
    assert source["connection"]["password"]


@pytest.mark.parametrize(
    ("fields", "error"),
    [({"conn_type": "mysql"}, "type 'mysql'"), ({"schema": ""}, "names no database")],
)
def test_unusable_connections_are_refused_naming_the_connection(fields, error):
    with pytest.raises(ValueError, match=error) as raised:
        quality.soda_data_source(airflow_connection(**fields))
    assert "redshift_default" in str(raised.value)


@pytest.mark.parametrize(
    ("soda_outcome", "ours"),
    [("PASSED", "pass"), ("WARN", "warn"), ("FAILED", "fail"), ("NOT_EVALUATED", "fail")],
)
def test_soda_outcomes_map_to_pass_warn_fail(soda_outcome, ours):
    mapped = quality._check_outcome("imdb_movies_staging", check_result(outcome=soda_outcome))

    assert mapped.outcome == ours
    assert mapped.check == "columns.movie_id.checks.missing"
    assert mapped.contract == "imdb_movies_staging"


def test_excluded_checks_are_left_out():
    assert quality._check_outcome("imdb_movies_staging", check_result(outcome="EXCLUDED")) is None


def test_outcome_carries_value_thresholds_and_diagnostics():
    result = check_result(
        outcome="WARN",
        value=25.5,
        diagnostics={"missing_count": 51, "missing_percent": 25.5},
        warn_threshold=Threshold(level="warn", must_be_less_than_or_equal=21),
    )
    result.check.threshold = Threshold(level="fail", must_be_less_than_or_equal=32)

    mapped = quality._check_outcome("imdb_movies_staging", result)

    assert mapped.value == 25.5
    assert mapped.threshold == "fail unless value <= 32; warn unless value <= 21"
    assert "missing_percent 25.5" in mapped.message


def test_schema_message_names_each_difference():
    mismatch = SimpleNamespace(column="imdb_rating", get_actual=lambda: "varchar", get_expected=lambda: "numeric")
    result = check_result(outcome="FAILED", check_type="schema", value=3)
    result.expected_column_names_not_actual = ["gross_usd"]
    result.actual_column_names_not_expected = ["gross"]
    result.column_data_type_mismatches = [mismatch]
    result.are_columns_out_of_order = False

    message = quality._check_outcome("imdb_movies_staging", result).message

    assert message == (
        "missing columns gross_usd; unexpected columns gross; column imdb_rating is varchar, expected numeric"
    )


class RecordingS3:
    """A boto3 S3 client stand-in that keeps what is put."""

    def __init__(self):
        self.objects = {}

    def put_object(self, Bucket, Key, Body):  # noqa: N803 (boto3's argument names)
        self.objects[(Bucket, Key)] = Body


def test_gate_failure_names_every_failed_check():
    gate = quality.GateResult(
        batch_id="B1",
        contract="imdb_movies_staging",
        outcomes=(
            outcome("columns.movie_id.checks.duplicate", "fail"),
            outcome("columns.certificate.checks.invalid", "warn"),
            outcome("columns.imdb_rating.checks.invalid", "fail"),
        ),
    )
    connection, s3 = RecordingConnection(), RecordingS3()

    with pytest.raises(quality.QualityGateFailed) as raised:
        quality.record_verdicts(connection, s3, "s3://bkt/processed/batch_id=B1/", gate, "dq_results.json")

    message = str(raised.value)
    assert "2 check(s) failed" in message
    assert "columns.movie_id.checks.duplicate" in message
    assert "columns.imdb_rating.checks.invalid" in message
    assert "certificate" not in message
    # Every verdict, the warning included, is kept in S3 and dq_results before the gate fails.
    (key,) = s3.objects
    assert key == ("bkt", "processed/batch_id=B1/dq_results.json")
    assert [r["outcome"] for r in json.loads(s3.objects[key])] == ["fail", "warn", "fail"]
    assert any("update movies.load_ledger" in sql and "quality_failed" in sql for sql, _ in connection.statements)


def test_a_gate_with_only_warnings_passes():
    gate = quality.GateResult("B1", "imdb_movies_staging", (outcome(), outcome("x", "warn")))
    connection = RecordingConnection()

    verdicts = quality.record_verdicts(connection, RecordingS3(), "s3://bkt/p/batch_id=B1/", gate, "dq_results.json")

    assert [verdict["outcome"] for verdict in verdicts] == ["pass", "warn"]
    assert any("update movies.load_ledger" in sql and "'verified'" in sql for sql, _ in connection.statements)


def test_results_json_round_trips_and_feeds_the_notification_summary():
    from imdb_pipeline import notifications

    outcomes = [outcome(), outcome("columns.movie_id.checks.duplicate", "fail")]

    text = quality.results_json(outcomes)

    assert [quality.CheckOutcome(**record) for record in json.loads(text)] == outcomes
    summary = notifications.gate_summary(json.loads(text))
    assert "1 passed, 0 warned, 1 failed" in summary
    assert "columns.movie_id.checks.duplicate" in summary


def test_record_results_replaces_the_batch_rows_of_each_contract_with_parameters():
    connection = RecordingConnection()
    outcomes = [outcome(), outcome("checks.schema"), outcome("checks.row_count", contract="imdb_movies")]

    written = quality.record_results(connection, "B1", outcomes)

    assert written == 3
    deletes = [params for sql, params in connection.statements if "delete from movies.dq_results" in sql]
    assert deletes == [("B1", "imdb_movies"), ("B1", "imdb_movies_staging")]
    (insert_sql, rows), *_ = [(sql, params) for sql, params in connection.statements if "insert into" in sql]
    assert "B1" not in insert_sql
    assert [(row[0], row[1], row[2], row[4]) for row in rows] == [
        ("B1", "imdb_movies_staging", "checks.row_count", "pass"),
        ("B1", "imdb_movies_staging", "checks.schema", "pass"),
        ("B1", "imdb_movies", "checks.row_count", "pass"),
    ]
    assert connection.commits == 1


@pytest.mark.parametrize(("rows", "expected"), [([(1234.0,)], 1234), ([], 0)])
def test_previous_row_count_reads_the_last_accepted_count(rows, expected):
    connection = RecordingConnection(rows=rows)

    assert quality.previous_row_count(connection, "B2") == expected
    assert connection.statements[0][1] == ("imdb_movies", "B2")


@pytest.mark.parametrize(
    ("contract", "ddl"),
    [
        (quality.STAGING_CONTRACT, "create_imdb_movies_staging.sql"),
        (quality.TARGET_CONTRACT, "create_imdb_movies.sql"),
    ],
)
def test_contract_schema_matches_the_warehouse_ddl(contract, ddl):
    table = sqlglot.parse_one((config.include_dir() / "sql" / "movies" / ddl).read_text(), read="redshift")
    ddl_columns = [
        (column.name, CONTRACT_TYPE_OF_DDL_TYPE[column.args["kind"].this.name])
        for column in table.find_all(exp.ColumnDef)
    ]

    contract_yaml = yaml.safe_load(quality.contract_file(contract).read_text())

    assert [(column["name"], column["data_type"]) for column in contract_yaml["columns"]] == ddl_columns


@pytest.mark.parametrize("contract", [quality.STAGING_CONTRACT, quality.TARGET_CONTRACT])
def test_contracts_are_valid_soda_contracts(contract):
    os.environ["SODA_CORE_TELEMETRY_ENABLED"] = "false"
    from soda_core.contracts import test_contract

    result = test_contract(
        str(quality.contract_file(contract)),
        variables={"database": "dev", "batch_id": "B1", "next_year": 2027, "previous_row_count": 0},
    )

    assert not result.has_errors, result.get_errors_str()


def test_missing_contract_is_a_clear_error():
    with pytest.raises(FileNotFoundError, match="no_such_contract"):
        quality.verify("no_such_contract", {"connection": {"database": "dev"}}, "B1")


def test_a_failed_write_rolls_back_and_raises():
    class FailingConnection(RecordingConnection):
        def cursor(self):
            cursor = super().cursor()

            def executemany(sql, seq):
                raise RuntimeError("disk full")

            cursor.executemany = executemany
            return cursor

    connection = FailingConnection()

    with pytest.raises(RuntimeError, match="disk full"):
        quality.record_results(connection, "B1", [outcome()])

    assert (connection.commits, connection.rollbacks) == (0, 1)
