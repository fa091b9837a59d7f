"""End to end on the real local stack: the OpenLineage events of one pipeline run (the file transport
that `make up` configures) chain raw objects → processed → staging → imdb_movies → marts, each link a
dataset one task's COMPLETE event writes and the next one's reads, named identically."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from imdb_pipeline.config import DAG_ID

from local_stack.demo import SEED_FILE, upload_file
from local_stack.environment import openlineage_events_file

pytestmark = [pytest.mark.airflow, pytest.mark.emulator, pytest.mark.postgres, pytest.mark.spark]

CHAIN_TASKS = ("resolve_batch", "clean_validate_quarantine", "load_staging", "merge_imdb_movies", "refresh_marts")


def read_events(events_file: Path) -> list[dict]:
    lines = events_file.read_text(encoding="utf-8").splitlines() if events_file.exists() else []
    return [json.loads(line) for line in lines]


def run_id_of(event: dict) -> str | None:
    return event["run"]["facets"].get("airflow", {}).get("dagRun", {}).get("run_id")


def chain_events_of_the_run_that_took(events_file: Path, raw_object: tuple[str, str],
                                      timeout: float = 900) -> dict[str, dict]:
    """The COMPLETE event of each chain task of the run whose resolve_batch took the raw object, by task
    id. That run is found through the events, not the API: the upload's asset event may start a run,
    or a run already going may take the file first and start a follow-up (which the asset-triggered
    run then finds loaded). Waits until the run's last chain task completed (the listener writes
    after the task's state is final)."""
    deadline = time.monotonic() + timeout
    found: dict[str, dict] = {}
    while time.monotonic() < deadline:
        events = read_events(events_file)
        taking = [run_id_of(event) for event in events if event["eventType"] == "COMPLETE"
                  and event["job"]["name"] == f"{DAG_ID}.resolve_batch"
                  and raw_object in datasets(event, "inputs")]  # fmt: skip
        if taking:
            found = {event["job"]["name"].removeprefix(f"{DAG_ID}."): event for event in events
                     if event["eventType"] == "COMPLETE" and run_id_of(event) == taking[0]}  # fmt: skip
            if all(task_id in found for task_id in CHAIN_TASKS):
                return found
        time.sleep(5)
    failed = sorted({event["job"]["name"] for event in read_events(events_file) if event["eventType"] == "FAIL"})
    raise AssertionError(f"no run completed {CHAIN_TASKS} for {raw_object} within {timeout:.0f} s; "
                         f"completed: {sorted(found)}; failed tasks of any run: {failed}")


def datasets(event: dict, side: str) -> set[tuple[str, str]]:
    return {(dataset["namespace"], dataset["name"]) for dataset in event[side]}


def test_one_run_emits_lineage_from_raw_objects_to_the_marts(stack):
    upload = upload_file(stack, SEED_FILE)
    bucket = f"s3://{stack['bucket']}"
    raw_object = (bucket, upload["key"])

    events = chain_events_of_the_run_that_took(openlineage_events_file(Path(stack["airflow_home"])), raw_object)

    # raw → Glue job → processed (+ quarantine)
    glue = events["clean_validate_quarantine"]
    assert raw_object in datasets(glue, "inputs")
    processed = {dataset for dataset in datasets(glue, "outputs") if dataset[1].endswith("/processed")}
    quarantine = {dataset for dataset in datasets(glue, "outputs") if dataset[1].endswith("/quarantine")}
    assert len(processed) == 1 and len(quarantine) == 1
    # Named as the objects' keys are: `<processed prefix>batch_id=<id>/processed/part-....parquet`.
    ((namespace, name),) = processed
    assert namespace == bucket and name.startswith(stack["processed_prefix"]) and "//" not in name

    # The warehouse's names are the SQL extractor's: take them from the merge's parsed outputs.
    merge = events["merge_imdb_movies"]
    (imdb_movies,) = [dataset for dataset in datasets(merge, "outputs") if dataset[1].endswith(".movies.imdb_movies")]
    warehouse, database = imdb_movies[0], imdb_movies[1].split(".")[0]
    assert warehouse == f"postgres://127.0.0.1:{stack['warehouse_dsn'].rsplit(':', 1)[1].split('/')[0]}"
    staging = (warehouse, f"{database}.movies.imdb_movies_staging")
    rating_history = (warehouse, f"{database}.movies.rating_history")

    # processed → load_staging → staging → merge → imdb_movies (+ rating_history) → refresh_marts → marts
    assert processed <= datasets(events["load_staging"], "inputs")
    assert staging in datasets(events["load_staging"], "outputs")
    assert staging in datasets(merge, "inputs")
    assert rating_history in datasets(merge, "outputs")
    marts = events["refresh_marts"]
    assert imdb_movies in datasets(marts, "inputs")
    assert any(name.startswith(f"{database}.marts.") for ns, name in datasets(marts, "outputs") if ns == warehouse)
