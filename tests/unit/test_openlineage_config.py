"""The local stack's OpenLineage setting: the provider is on, with a file transport the client can build."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from local_stack.environment import OPENLINEAGE_NAMESPACE, airflow_env, openlineage_events_file
from tests.fixtures.stack import EXAMPLE_DESCRIPTION

STACK = EXAMPLE_DESCRIPTION


def test_the_transport_writes_events_as_json_lines_where_the_stack_says(tmp_path):
    from openlineage.client import OpenLineageClient
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState
    from openlineage.client.transport import get_default_factory
    from openlineage.client.uuid import generate_new_uuid

    env = airflow_env({**STACK, "airflow_home": str(tmp_path)})
    transport = get_default_factory().create(json.loads(env["AIRFLOW__OPENLINEAGE__TRANSPORT"]))
    client = OpenLineageClient(transport=transport)
    for state in (RunState.START, RunState.COMPLETE):
        client.emit(RunEvent(eventType=state, eventTime=datetime.now(UTC).isoformat(), run=Run(runId=str(
            generate_new_uuid())), job=Job(namespace=OPENLINEAGE_NAMESPACE, name="imdb_quality_ingest.resolve_batch"),
            producer="tests"))

    lines = openlineage_events_file(tmp_path).read_text().splitlines()
    assert [json.loads(line)["eventType"] for line in lines] == ["START", "COMPLETE"]
    assert env["AIRFLOW__OPENLINEAGE__NAMESPACE"] == OPENLINEAGE_NAMESPACE


def test_the_provider_is_on_with_the_stack_settings_and_off_without(tmp_path, monkeypatch):
    from airflow.providers.openlineage import conf

    for variable in ("OPENLINEAGE_URL", "OPENLINEAGE_CONFIG", "OPENLINEAGE_DISABLED", "AIRFLOW__OPENLINEAGE__DISABLED",
                     "AIRFLOW__OPENLINEAGE__CONFIG_PATH", "AIRFLOW__OPENLINEAGE__TRANSPORT"):
        monkeypatch.delenv(variable, raising=False)
    env = airflow_env({**STACK, "airflow_home": str(tmp_path)})

    # (The provider caches its settings, except under pytest, so each call reads the environment.)
    assert conf.is_disabled()
    monkeypatch.setenv("AIRFLOW__OPENLINEAGE__TRANSPORT", env["AIRFLOW__OPENLINEAGE__TRANSPORT"])
    assert not conf.is_disabled()
    assert conf.transport()["type"] == "file"
