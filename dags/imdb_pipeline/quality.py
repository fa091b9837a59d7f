"""The Soda quality gate: verify a batch against the data contracts in include/soda/, keep every verdict.

Plain functions, testable without Airflow; the DAG wraps them in tasks. For a batch:
`verify_staging` (the gate, before the merge) -> `record_verdicts`: the verdicts go to S3 next to
the batch and to movies.dq_results, the ledger rows become `verified` or `quality_failed`, and a
failed check raises `QualityGateFailed`, so the merge does not run. After the merge,
`verify_target` checks movies.imdb_movies (no duplicates, row count never shrinks); its verdicts
are kept the same way.

Soda Core is imported inside the functions: it is heavy and the DAG folder must parse fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from imdb_pipeline import config, db, ledger, redshift_credentials
from imdb_pipeline.batch import split_s3_uri
from imdb_pipeline.failures import PermanentFailure

# The data source name every contract's `dataset` starts with.
DATA_SOURCE_NAME = "imdb_warehouse"
STAGING_CONTRACT = "imdb_movies_staging"
TARGET_CONTRACT = "imdb_movies"
# The pseudo-check recorded when Soda reports errors outside any check (unknown table, bad SQL).
VERIFICATION_CHECK = "verification"

_SODA_OUTCOMES = {"PASSED": "pass", "WARN": "warn", "FAILED": "fail", "NOT_EVALUATED": "fail"}
_COMPARISONS = (
    ("must_be", "="),
    ("must_not_be", "!="),
    ("must_be_greater_than", ">"),
    ("must_be_greater_than_or_equal", ">="),
    ("must_be_less_than", "<"),
    ("must_be_less_than_or_equal", "<="),
)


@dataclass(frozen=True)
class CheckOutcome:
    """One check's verdict: `check` is the contract path of the check, `name` its display name."""

    contract: str
    check: str
    name: str
    value: float | None
    threshold: str
    outcome: str
    message: str

    def describe(self) -> str:
        return f"{self.contract}: {self.check} ({self.name}): {self.message}"

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class GateResult:
    """The outcome of verifying one contract for one batch."""

    batch_id: str
    contract: str
    outcomes: tuple[CheckOutcome, ...]

    def __iter__(self):
        return iter(self.outcomes)

    @property
    def failed(self) -> list[CheckOutcome]:
        return [outcome for outcome in self.outcomes if outcome.outcome == "fail"]



class QualityGateFailed(PermanentFailure):
    """At least one fail-level check broke; the message names every one of them."""

    def __init__(self, failed: Iterable[CheckOutcome]):
        self.failed = list(failed)
        checks = "\n".join(f"  - {outcome.describe()}" for outcome in self.failed)
        super().__init__(f"Quality gate failed: {len(self.failed)} check(s) failed:\n{checks}")


def verify_staging(conn_id: str, batch_id: str) -> GateResult:
    """The gate: verify the staged batch against the staging contract, over Airflow connection `conn_id`."""
    from airflow.sdk import BaseHook

    return verify(STAGING_CONTRACT, soda_data_source(BaseHook.get_connection(conn_id)), batch_id)


def verify_target(dbapi_conn: Any, conn_id: str, batch_id: str) -> GateResult:
    """Verify movies.imdb_movies after the merge; its row count may not fall below the last accepted one."""
    from airflow.sdk import BaseHook

    floor = previous_row_count(dbapi_conn, batch_id)
    return verify(
        TARGET_CONTRACT,
        soda_data_source(BaseHook.get_connection(conn_id)),
        batch_id,
        variables={"previous_row_count": floor},
    )


def soda_data_source(conn: Any) -> dict:
    """Soda data source configuration built from an Airflow connection (postgres or redshift).

    Nothing is read from files: credentials stay in the connection. A Redshift connection with
    `iam: true` in its extra gets temporary database credentials from the Redshift API (the
    MWAA execution role), serverless or provisioned, as Airflow's Redshift hook does.
    """
    extra = _extra(conn)
    if not conn.schema:
        raise ValueError(f"Connection {conn.conn_id!r} names no database (its 'schema' field)")
    connection = {
        "host": conn.host,
        "database": conn.schema,
        "user": conn.login,
        "password": conn.password or "",
    }
    if conn.conn_type == "postgres":
        connection["port"] = conn.port or 5432
        if extra.get("sslmode"):
            connection["sslmode"] = extra["sslmode"]
    elif conn.conn_type == "redshift":
        connection["port"] = conn.port or 5439
        if extra.get("iam"):
            connection["user"], connection["password"] = redshift_credentials.temporary_credentials(conn, extra)
    else:
        raise ValueError(
            f"Connection {conn.conn_id!r} has type {conn.conn_type!r}; the gate supports postgres, redshift"
        )
    return {"name": DATA_SOURCE_NAME, "type": conn.conn_type, "connection": connection}


def verify(
    contract_name: str,
    data_source: Mapping,
    batch_id: str,
    variables: Mapping[str, Any] | None = None,
) -> GateResult:
    """Verify one contract (include/soda/<contract_name>.yml) and return every check's verdict.

    The gate's own variables (database, batch_id, next_year) are filled in here; `variables`
    adds contract-specific ones such as the target's `previous_row_count`. Never raises for a
    broken check: call `raise_if_failed` on the result once it is recorded.
    """
    os.environ["SODA_CORE_TELEMETRY_ENABLED"] = "false"
    import yaml
    from soda_core.common.yaml import ContractYamlSource, DataSourceYamlSource
    from soda_core.contracts.contract_verification import ContractVerificationSession

    contract_path = contract_file(contract_name)
    if not contract_path.is_file():
        raise FileNotFoundError(f"No Soda contract {contract_name!r} at {contract_path}")
    all_variables = {
        "database": data_source["connection"]["database"],
        "batch_id": batch_id,
        "next_year": datetime.now(UTC).year + 1,
        **(variables or {}),
    }
    session = ContractVerificationSession.execute(
        contract_yaml_sources=[ContractYamlSource.from_file_path(str(contract_path))],
        data_source_yaml_sources=[DataSourceYamlSource.from_str(yaml.safe_dump(dict(data_source)))],
        variables=all_variables,
    )
    outcomes = [
        outcome
        for verification in session.contract_verification_results
        for check_result in verification.check_results
        if (outcome := _check_outcome(contract_name, check_result)) is not None
    ]
    if session.has_errors:
        outcomes.append(
            CheckOutcome(
                contract=contract_name,
                check=VERIFICATION_CHECK,
                name="the contract could be verified",
                value=None,
                threshold="no errors",
                outcome="fail",
                message=f"Soda reported errors: {session.get_errors_str()}",
            )
        )
    return GateResult(batch_id=batch_id, contract=contract_name, outcomes=tuple(outcomes))


def contract_file(contract_name: str) -> Path:
    """Path of a contract: one YAML file per dataset in include/soda/."""
    return config.include_dir() / "soda" / f"{contract_name}.yml"


def record_results(dbapi_conn: Any, batch_id: str, results: Iterable[CheckOutcome]) -> int:
    """Store the verdicts in movies.dq_results; a re-run replaces the batch's rows per contract.

    Commits (rolls back on error). Returns the number of rows written.
    """
    outcomes = list(results)
    checked_at = datetime.now(UTC).replace(tzinfo=None)
    contracts = sorted({outcome.contract for outcome in outcomes})
    with db.transaction(dbapi_conn) as cursor:
        for contract in contracts:
            parameters = {"batch_id": batch_id, "contract": contract}
            db.execute(cursor, db.sql_text("quality/delete_dq_results.sql"), parameters)
        cursor.executemany(
            db.sql_text("quality/insert_dq_results.sql"),
            [
                (
                    batch_id,
                    outcome.contract,
                    outcome.check,
                    outcome.name,
                    outcome.outcome,
                    outcome.value,
                    outcome.threshold,
                    ledger.clip(outcome.message),
                    checked_at,
                )
                for outcome in outcomes
            ],
        )
    return len(outcomes)


def previous_row_count(dbapi_conn: Any, batch_id: str) -> int:
    """Row count of movies.imdb_movies last accepted by the gate for another batch (0 if none).

    It is the floor for the target contract's "row count never shrinks" check. Other batches
    only, so that re-running a batch compares against the batch before it, not against itself.
    """
    with db.transaction(dbapi_conn) as cursor:
        db.execute(
            cursor,
            db.sql_text("quality/select_previous_row_count.sql"),
            {"contract": TARGET_CONTRACT, "batch_id": batch_id},
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def record_verdicts(
    dbapi_conn: Any, s3_client: Any, output_uri: str, results: GateResult, results_file: str
) -> list[dict]:
    """Keep a verification's verdicts beside the batch in S3 and in dq_results; settle the ledger for
    the staging contract; raise QualityGateFailed naming every failed check. Returns the verdicts."""
    bucket, prefix = split_s3_uri(output_uri)
    s3_client.put_object(Bucket=bucket, Key=f"{prefix}{results_file}", Body=results_json(results).encode())
    record_results(dbapi_conn, results.batch_id, results)
    if results.contract == STAGING_CONTRACT:
        if results.failed:
            ledger.mark_quality_failed(dbapi_conn, results.batch_id, results.failed)
        else:
            ledger.mark_verified(dbapi_conn, results.batch_id)
    if results.failed:
        raise QualityGateFailed(results.failed)
    return [outcome.as_dict() for outcome in results]


def results_json(results: Iterable[CheckOutcome]) -> str:
    """The verdicts as a JSON list of objects (the dq_results.json written next to the batch)."""
    return json.dumps([outcome.as_dict() for outcome in results], indent=2)


def _check_outcome(contract_name: str, check_result: Any) -> CheckOutcome | None:
    """Our verdict for one Soda check result; None for checks a selector excluded."""
    soda_outcome = check_result.outcome.name
    if soda_outcome == "EXCLUDED":
        return None
    check = check_result.check
    value = check_result.threshold_value
    threshold = _threshold_text(check)
    if soda_outcome == "NOT_EVALUATED":
        message = "not evaluated (the query for this check failed; see the verification errors)"
    elif check.type == "schema":
        message = _schema_message(check_result)
    else:
        diagnostics = ", ".join(f"{key} {val}" for key, val in (check_result.diagnostic_metric_values or {}).items())
        message = f"value {value} ({diagnostics}); threshold: {threshold}"
    return CheckOutcome(
        contract=contract_name,
        check=check.relative_path,
        name=check.name or check.relative_path,
        value=float(value) if isinstance(value, int | float) else None,
        threshold=threshold,
        outcome=_SODA_OUTCOMES[soda_outcome],
        message=message,
    )


def _schema_message(check_result: Any) -> str:
    """What the schema check found: missing, unexpected, retyped and reordered columns."""
    problems = []
    if check_result.expected_column_names_not_actual:
        problems.append("missing columns " + ", ".join(check_result.expected_column_names_not_actual))
    if check_result.actual_column_names_not_expected:
        problems.append("unexpected columns " + ", ".join(check_result.actual_column_names_not_expected))
    for mismatch in check_result.column_data_type_mismatches:
        problems.append(f"column {mismatch.column} is {mismatch.get_actual()}, expected {mismatch.get_expected()}")
    if check_result.are_columns_out_of_order:
        problems.append("columns out of order")
    return "; ".join(problems) if problems else "columns and types as expected"


def _threshold_text(check: Any) -> str:
    """A check's thresholds as text, e.g. `fail unless value <= 32; warn unless value <= 21`."""
    parts = []
    for threshold in (check.threshold, check.warn_threshold):
        if threshold is None:
            continue
        comparisons = [
            f"value {symbol} {getattr(threshold, field)}"
            for field, symbol in _COMPARISONS
            if getattr(threshold, field) is not None
        ]
        parts.append(f"{threshold.level} unless {' and '.join(comparisons)}")
    return "; ".join(parts)


def _extra(conn: Any) -> dict:
    extra = getattr(conn, "extra_dejson", None)
    if extra is not None:
        return dict(extra)
    return json.loads(conn.extra) if conn.extra else {}
