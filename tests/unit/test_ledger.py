"""The load ledger module: its transition table, the docs rendered from it, and its writes' SQL."""

from pathlib import Path

from imdb_pipeline import ledger, quality

from tests.fixtures.fakes import RecordingConnection

DOCS = Path(__file__).resolve().parents[2] / "docs" / "interfaces.md"


def failed_check(index: int) -> quality.CheckOutcome:
    return quality.CheckOutcome(
        contract="imdb_movies_staging", check=f"columns.c{index}.checks.invalid", name=f"check {index}",
        value=1.0, threshold="fail unless value = 0", outcome="fail", message="value 1",
    )  # fmt: skip


def test_ledger_reason_names_the_failed_checks_and_fits_the_column():
    connection = RecordingConnection(rowcount=2)
    failed = [failed_check(index) for index in range(200)]

    changed = ledger.mark_quality_failed(connection, "B1", failed)

    assert changed == 2
    (sql, (reason, _updated_at, batch_id)), *_ = connection.statements
    assert "update movies.load_ledger" in sql
    assert batch_id == "B1"
    assert reason.startswith("quality gate failed: imdb_movies_staging: columns.c0.checks.invalid")
    assert len(reason) == 4096
    assert connection.commits == 1


def test_every_state_is_reachable_and_every_transition_names_known_states():
    targets = {transition.target for transition in ledger.TRANSITIONS}
    sources = {source for transition in ledger.TRANSITIONS for source in transition.source if source}
    assert targets == set(ledger.STATES)
    assert sources <= set(ledger.STATES)


def test_only_verified_rows_can_be_loaded():
    assert ledger.allowed(ledger.VERIFIED, ledger.LOADED)
    for state in (None, *ledger.STATES):
        if state != ledger.VERIFIED:
            assert not ledger.allowed(state, ledger.LOADED), state
    assert not ledger.allowed(ledger.LOADED, ledger.STAGED)


def test_docs_show_the_transition_table_of_the_code():
    assert ledger.transitions_markdown() in DOCS.read_text()


def test_every_ledger_sql_file_is_used_by_the_ledger_module():
    source = Path(ledger.__file__).read_text()
    sql_dir = Path(__file__).resolve().parents[2] / "include" / "sql" / "ledger"
    for path in sql_dir.glob("*.sql"):
        assert f'"ledger/{path.name}"' in source, path.name
