"""End to end on the real local stack: one batch holding a good file beside poison files of every kind.

The good rows load; each poison file is rejected in the ledger, or its rows quarantined, with its
reason; the SNS summary names them; the next run still succeeds.
"""

from __future__ import annotations

import gzip
import time
import urllib.parse
import uuid

import pytest
from imdb_pipeline.config import DAG_ID

from local_stack.airflow_api import AirflowApi
from local_stack.demo import ledger_rows, movies_in_warehouse, read_notifications, upload_file
from local_stack.provision import aws_client
from tests.e2e.test_pipeline import complete_rows, seed_rows, write_csv
from tests.fixtures.stack import quarantine_rows

pytestmark = [pytest.mark.airflow, pytest.mark.emulator, pytest.mark.postgres, pytest.mark.spark]


def renamed(rows: list[dict], suffix: str, **changes: str) -> list[dict]:
    return [{**row, "Series_Title": f"{row['Series_Title']} {suffix}", **changes} for row in rows]


def trigger_sweep(api: AirflowApi) -> dict:
    """A manual run that takes every unsettled file of the look-back window, then its end state."""
    run_id = f"poison-sweep-{uuid.uuid4().hex[:12]}"
    run = api.post(f"/api/v2/dags/{DAG_ID}/dagRuns",
                   {"dag_run_id": run_id, "logical_date": None, "conf": {"sweep": True}})  # fmt: skip
    path = f"/api/v2/dags/{DAG_ID}/dagRuns/{urllib.parse.quote(run['dag_run_id'], safe='')}"
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        run = api.get(path)
        if run["state"] in ("success", "failed"):
            return run
        time.sleep(3)
    raise AssertionError(f"run {run['dag_run_id']} did not finish")


@pytest.fixture(scope="module")
def poisoned_batch(stack, api, tmp_path_factory):
    """Every file lands while notifications are off, then one sweep run takes them as one batch."""
    folder = tmp_path_factory.mktemp("poison")
    header, rows = seed_rows()
    good = complete_rows(rows)
    raw = stack["raw_prefix"]
    files = {}
    files["good.csv"] = write_csv(
        folder / "good.csv", header,
        [*renamed(good[:8], "Poison Good"),
         *renamed(good[8:9], "Poison Wordy", Overview="é" * 2100)],  # 2,100 characters, 4,200 bytes
    )  # fmt: skip
    mac = write_csv(folder / "mac.csv", header, renamed(good[9:13], "Poison Mac"))
    mac.write_bytes(mac.read_bytes().replace(b"\r\n", b"\r"))
    files["mac.csv"] = mac
    files["odd, *[x].csv"] = write_csv(folder / "odd.csv", header, renamed(good[13:17], "Poison Odd"))
    packed = write_csv(folder / "packed.csv", header, renamed(good[17:21], "Poison Packed"))
    files["packed.csv.gz"] = folder / "packed.csv.gz"
    files["packed.csv.gz"].write_bytes(gzip.compress(packed.read_bytes()))
    swapped = ["IMDB_Rating" if n == "Released_Year" else "Released_Year" if n == "IMDB_Rating" else n for n in header]
    shifted = write_csv(folder / "shifted.csv", header, renamed(good[21:31], "Poison Shifted"))
    shifted.write_bytes(",".join(swapped).encode() + b"\r\n" + shifted.read_bytes().split(b"\r\n", 1)[1])
    files["shifted.csv"] = shifted
    files["binary.csv"] = folder / "binary.csv"
    files["binary.csv"].write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))

    s3 = aws_client("s3", stack["aws_endpoint_url"], stack["aws_region"])
    s3.put_bucket_notification_configuration(Bucket=stack["bucket"], NotificationConfiguration={})
    try:
        uploads = {name: upload_file(stack, path, key=raw + name) for name, path in files.items()}
    finally:
        s3.put_bucket_notification_configuration(
            Bucket=stack["bucket"], NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
    before = movies_in_warehouse(stack)
    read_notifications(stack)  # drop what earlier tests left
    run = trigger_sweep(api)
    ledger = {name: ledger_rows(stack, stack["bucket"], upload["key"])[0] for name, upload in uploads.items()}
    return run, ledger, before


def test_the_good_rows_of_every_loadable_file_load(stack, poisoned_batch):
    run, ledger, before = poisoned_batch
    assert run["state"] == "success", run
    assert {name: row["status"] for name, row in ledger.items()} == {
        "good.csv": "loaded", "mac.csv": "loaded", "odd, *[x].csv": "loaded", "packed.csv.gz": "loaded",
        "shifted.csv": "rejected", "binary.csv": "rejected",
    }  # fmt: skip
    assert len({row["batch_id"] for row in ledger.values()}) == 1, "one batch"
    assert movies_in_warehouse(stack) == before + 8 + 4 + 4 + 4
    assert (ledger["good.csv"]["rows_loaded"], ledger["good.csv"]["rows_quarantined"]) == (8, 1)


def test_each_poison_file_has_its_reason_in_the_ledger(poisoned_batch):
    _, ledger, _ = poisoned_batch
    assert "rows would be quarantined" in ledger["shifted.csv"]["reason"]
    assert "binary NUL byte" in ledger["binary.csv"]["reason"]


def test_the_too_long_value_is_quarantined_with_its_reason(stack, poisoned_batch):
    _, ledger, _ = poisoned_batch
    quarantined = quarantine_rows(stack, ledger["good.csv"]["batch_id"])
    assert [row["reasons"] for row in quarantined] == [["value_too_long"]]
    assert "overview has 4200 bytes, over 4096" in quarantined[0]["errors"][0]


def test_the_notification_names_each_rejected_file(stack, poisoned_batch):
    _, ledger, _ = poisoned_batch
    batch_id = ledger["good.csv"]["batch_id"]
    deadline, messages = time.monotonic() + 30, []
    while not messages and time.monotonic() < deadline:
        messages = [n["message"] for n in read_notifications(stack) if batch_id in (n["subject"] or "") + n["message"]]
    (message,) = messages
    assert "shifted.csv" in message and "binary.csv" in message


def test_the_next_run_still_succeeds(api, poisoned_batch):
    assert trigger_sweep(api)["state"] == "success"
