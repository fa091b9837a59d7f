"""The "IMDb quality" view's endpoints on a real Airflow API server (the plugin loaded from
plugins/, Airflow's simple auth manager) reading a real PostgreSQL warehouse and a moto server.

The warehouse is filled by the real load path with known batches: the seed (999 loaded, Apollo 13
quarantined for invalid_year, a rejected file), an update of 40 ratings plus 5 new movies, a
batch the quality gate failed and a skipped re-delivery, each recorded on a day of its own. Every
figure an endpoint returns is compared with an independent computation: Python over the rows the
test loaded, or a plain query on the warehouse tables.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import psycopg2
import pytest
from imdb_pipeline import ledger, warehouse

from local_stack.environment import project_airflow_env
from local_stack.processes import free_port, http_ok, spawn, stop_process_group, wait_until
from tests.fixtures.postgres import _run_autocommit
from tests.fixtures.warehouse import BUCKET, pass_gate_and_merge, processed_rows, publish_batch, seed_records

pytestmark = [pytest.mark.postgres, pytest.mark.airflow]

REPO = Path(__file__).resolve().parents[2]
AIRFLOW = Path(sys.executable).with_name("airflow")
USER, PASSWORD = "admin", "view-test-password"
TODAY = datetime.now(UTC).date()
DAYS = {name: TODAY - timedelta(days=offset) for name, offset in (("seed", 6), ("update", 5), ("failed", 4))}
SEED, UPDATE, FAILED, SKIPPED = (
    f"{DAYS['seed']:%Y%m%d}T080000Z-0000seed",
    f"{DAYS['update']:%Y%m%d}T080000Z-00update",
    f"{DAYS['failed']:%Y%m%d}T080000Z-00failed",
    f"{DAYS['failed']:%Y%m%d}T090000Z-0skipped",
)
ENDPOINTS = [
    "/imdb-quality/api/batches",
    f"/imdb-quality/api/batches/{SEED}/quarantine",
    "/imdb-quality/api/trends",
    "/imdb-quality/api/ratings",
    "/imdb-quality/api/runs/imdb_quality_ingest/manual__x",
    "/imdb-quality/batches",
    "/imdb-quality/quarantine",
    "/imdb-quality/trends",
    "/imdb-quality/ratings",
    "/imdb-quality/runs/imdb_quality_ingest/manual__x",
]


# --- the warehouse ------------------------------------------------------------------------------


def uploaded(batch: str) -> datetime:
    """When a batch's files landed (their LastModified): the data's time, which history observes."""
    return datetime.combine(DAYS[batch], datetime.min.time(), tzinfo=UTC)


def record_checks(conn, batch_id: str, outcomes: list[tuple[str, str, str]], day) -> None:
    with conn.cursor() as cursor:
        cursor.executemany(
            "insert into movies.dq_results (batch_id, contract, check_path, check_name, outcome, message, checked_at)"
            " values (%s, 'imdb_movies_staging', %s, %s, %s, %s, %s)",
            [(batch_id, path, path, outcome, message, day) for path, outcome, message in outcomes],
        )
    conn.commit()


def put_quarantine(s3, batch_id: str, rows: list[dict]) -> None:
    key = f"processed/batch_id={batch_id}/quarantine/part-00000.json"
    s3.put_object(Bucket=BUCKET, Key=key, Body="\n".join(json.dumps(row) for row in rows).encode())
    summary_key = f"processed/batch_id={batch_id}/summary.json"
    summary = json.loads(s3.get_object(Bucket=BUCKET, Key=summary_key)["Body"].read())
    summary["reasons"] = {"invalid_year": 1}
    s3.put_object(Bucket=BUCKET, Key=summary_key, Body=json.dumps(summary).encode())


@pytest.fixture(scope="module")
def moto_endpoint():
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(scope="module")
def loaded(pg_dsn: str, moto_endpoint: str):
    """The warehouse DSN after the known batches, and what was loaded (for expected figures)."""
    import boto3

    name = f"view_{os.getpid()}"
    _run_autocommit(pg_dsn, f"create database {name}")
    dsn = pg_dsn.rsplit("/", 1)[0] + f"/{name}"
    s3 = boto3.client("s3", endpoint_url=moto_endpoint, region_name="us-east-1",
                      aws_access_key_id="testing", aws_secret_access_key="testing")  # fmt: skip
    s3.create_bucket(Bucket=BUCKET)
    conn = psycopg2.connect(dsn)
    warehouse.apply_ddl(conn)
    records = seed_records()
    seed_uri = f"s3://{BUCKET}/raw/seed.csv"
    seed_rows = processed_rows(records, source_object=seed_uri, batch_id=SEED,
                               ingested_at=datetime.combine(DAYS["seed"], datetime.min.time()))  # fmt: skip
    output_uri, summary = publish_batch(s3, SEED, {seed_uri: (len(records), seed_rows)},
                                        rejected={f"s3://{BUCKET}/raw/bad.csv": "no header row"})  # fmt: skip
    warehouse.load_staging(conn, s3, batch_id=SEED, output_uri=output_uri, summary=summary,
                           objects=[(BUCKET, "raw/seed.csv", "e1", uploaded("seed")),
                                    (BUCKET, "raw/bad.csv", "e2", uploaded("seed"))])  # fmt: skip
    pass_gate_and_merge(conn, SEED)
    apollo = next(record for record in records if record["Series_Title"] == "Apollo 13")
    put_quarantine(s3, SEED, [{
        "batch_id": SEED, "source_object": seed_uri, "line_number": apollo["line"], "reasons": ["invalid_year"],
        "errors": ["Released_Year 'PG' is not a 4-digit year"],
        "raw": {key: value for key, value in apollo.items() if key != "line"},
    }])  # fmt: skip
    record_checks(conn, SEED, [("checks.rows", "pass", "ok"), ("checks.meta", "warn", "12% missing")], DAYS["seed"])

    changed = [dict(record) for record in records[300:340]]
    for number, record in enumerate(changed):
        record["IMDB_Rating"] = str(Decimal(record["IMDB_Rating"]) + Decimal("0.1") * (number % 3 - 1))
        record["No_of_Votes"] = str(int(record["No_of_Votes"]) + 17 * number)
    new = [{**record, "Series_Title": f"{record['Series_Title']} Returns"} for record in records[500:505]]
    update_uri = f"s3://{BUCKET}/raw/update.csv"
    update_rows = processed_rows(changed + new, source_object=update_uri, batch_id=UPDATE,
                                 ingested_at=datetime.combine(DAYS["update"], datetime.min.time()))  # fmt: skip
    output_uri, summary = publish_batch(s3, UPDATE, {update_uri: (len(update_rows), update_rows)})
    warehouse.load_staging(conn, s3, batch_id=UPDATE, output_uri=output_uri, summary=summary,
                           objects=[(BUCKET, "raw/update.csv", "e3", uploaded("update"))])  # fmt: skip
    pass_gate_and_merge(conn, UPDATE)
    record_checks(conn, UPDATE, [("checks.rows", "pass", "ok")], DAYS["update"])

    failed_uri = f"s3://{BUCKET}/raw/no_meta.csv"
    failed_rows = processed_rows(records[:20], source_object=failed_uri, batch_id=FAILED,
                                 ingested_at=datetime.combine(DAYS["failed"], datetime.min.time()))  # fmt: skip
    output_uri, summary = publish_batch(s3, FAILED, {failed_uri: (20, failed_rows)})
    warehouse.load_staging(conn, s3, batch_id=FAILED, output_uri=output_uri, summary=summary,
                           objects=[(BUCKET, "raw/no_meta.csv", "e4", uploaded("failed"))])  # fmt: skip
    record_checks(conn, FAILED, [("checks.rows", "pass", "ok"), ("checks.meta", "fail", "100% missing")],
                  DAYS["failed"])  # fmt: skip
    ledger.record_skipped(conn, SKIPPED, [(BUCKET, "raw/seed.csv", "e1", uploaded("seed"))])
    with conn.cursor() as cursor:
        cursor.execute("update movies.load_ledger set status = 'quality_failed' where batch_id = %s", (FAILED,))
        recorded = {SEED: (DAYS["seed"], 8), UPDATE: (DAYS["update"], 8), FAILED: (DAYS["failed"], 8),
                    SKIPPED: (DAYS["failed"], 9)}  # fmt: skip
        for batch_id, (day, hour) in recorded.items():
            at = datetime.combine(day, datetime.min.time()) + timedelta(hours=hour)
            cursor.execute("update movies.load_ledger set created_at = %s, updated_at = %s where batch_id = %s",
                           (at, at, batch_id))  # fmt: skip
    conn.commit()
    conn.close()
    yield {"dsn": dsn, "records": records, "seed_rows": seed_rows, "update_rows": update_rows,
           "changed": changed, "new": new, "apollo": apollo}  # fmt: skip
    _run_autocommit(pg_dsn, f"drop database {name} with (force)")


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(dsn) as conn, conn.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


# --- the Airflow API server ---------------------------------------------------------------------


class Client:
    def __init__(self, url: str, token: str | None):
        self.url, self.token = url, token

    def request(self, path: str, **params) -> tuple[int, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        query_string = f"?{urllib.parse.urlencode(params)}" if params else ""
        request = urllib.request.Request(self.url + path + query_string, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def json(self, path: str, **params) -> dict:
        status, body = self.request(path, **params)
        assert status == 200, body
        return json.loads(body)

    def html(self, path: str, **params) -> str:
        status, body = self.request(path, **params)
        assert status == 200, body
        return body


@pytest.fixture(scope="module")
def airflow_url(loaded, moto_endpoint, tmp_path_factory):
    """`airflow api-server` on a fresh metadata database, with the repository's plugins folder
    (its log stays in pytest's temporary directory)."""
    home = Path(tempfile.mkdtemp(prefix="imdb-view-airflow-"))
    port = free_port()
    passwords = home / "passwords.json"
    passwords.write_text(json.dumps({USER: PASSWORD}))
    warehouse_uri = loaded["dsn"].replace("postgresql://", "postgres://", 1)
    env = {
        **os.environ,
        **project_airflow_env(home, USER, passwords, f"http://127.0.0.1:{port}"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "AIRFLOW_CONN_REDSHIFT_DEFAULT": warehouse_uri,
        "AIRFLOW_CONN_AWS_DEFAULT": json.dumps({
            "conn_type": "aws", "login": "testing", "password": "testing",
            "extra": {"endpoint_url": moto_endpoint, "region_name": "us-east-1"}}),
        "AIRFLOW_VAR_IMDB_BUCKET": BUCKET,
        "AIRFLOW_VAR_IMDB_PROCESSED_PREFIX": "processed/",
        "IMDB_INCLUDE_DIR": str(REPO / "include"),
    }  # fmt: skip
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, check=True, capture_output=True, timeout=300)
    log_path = tmp_path_factory.mktemp("quality-view") / "api-server.log"
    process = spawn([str(AIRFLOW), "api-server", "--host", "127.0.0.1", "--port", str(port)], log_path, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: http_ok(f"{url}/api/v2/monitor/health"), 180, "the Airflow API server", log_path, process)
        yield url
    finally:
        stop_process_group(process.pid)
        process.wait(timeout=30)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="module")
def client(airflow_url) -> Client:
    body = json.dumps({"username": USER, "password": PASSWORD}).encode()
    request = urllib.request.Request(f"{airflow_url}/auth/token", data=body,
                                     headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return Client(airflow_url, json.load(response)["access_token"])


# --- tests --------------------------------------------------------------------------------------


def test_airflow_registers_the_view_and_the_run_tab(client):
    (plugin,) = [p for p in client.json("/api/v2/plugins")["plugins"] if p["name"] == "imdb_quality_view"]
    assert [app["url_prefix"] for app in plugin["fastapi_apps"]] == ["/imdb-quality"]
    views = {view["destination"]: view for view in plugin["external_views"]}
    assert views["nav"]["href"] == "/imdb-quality/batches"
    assert views["dag_run"]["href"] == "/imdb-quality/runs/{DAG_ID}/{RUN_ID}"
    assert client.json("/api/v2/importErrors")["import_errors"] == []


@pytest.mark.parametrize("path", ENDPOINTS)
def test_anonymous_and_forged_requests_are_refused(client, path):
    assert Client(client.url, None).request(path)[0] == 401
    forged = client.token[:-4] + ("AAAA" if not client.token.endswith("AAAA") else "BBBB")
    assert Client(client.url, forged).request(path)[0] in (401, 403)


def _ledger_figures(dsn: str, batch_id: str) -> dict:
    ((rows_in, rows_loaded, rows_quarantined, files),) = query(
        dsn, "select sum(rows_in), sum(rows_loaded), sum(rows_quarantined), count(*) from movies.load_ledger"
        " where batch_id = %s", (batch_id,))  # fmt: skip
    history = dict(query(dsn, "select change_type, count(*) from movies.rating_history where batch_id = %s"
                              " group by change_type", (batch_id,)))  # fmt: skip
    return {"rows_in": rows_in, "rows_loaded": rows_loaded, "rows_quarantined": rows_quarantined, "files": files,
            "rows_new": history.get("new", 0), "rows_changed": history.get("changed", 0)}  # fmt: skip


def test_batches_show_every_batch_with_figures_equal_to_the_ledger_and_history(client, loaded):
    batches = client.json("/imdb-quality/api/batches")["batches"]

    assert [batch["batch_id"] for batch in batches] == [SKIPPED, FAILED, UPDATE, SEED]
    for batch in batches:
        expected = _ledger_figures(loaded["dsn"], batch["batch_id"])
        assert {key: batch[key] for key in expected} == expected, batch["batch_id"]
        assert batch["rows_unchanged"] == expected["rows_loaded"] - expected["rows_new"] - expected["rows_changed"]
        assert batch["run_id"] is None  # no DAG run in this metadata database
    by_id = {batch["batch_id"]: batch for batch in batches}
    seed = by_id[SEED]
    assert (seed["rows_in"], seed["rows_loaded"], seed["rows_new"], seed["rows_quarantined"]) == (1000, 999, 999, 1)
    assert {(f["object_key"], f["status"]) for f in seed["files_list"]} == {("raw/seed.csv", "loaded"),
                                                                            ("raw/bad.csv", "rejected")}
    assert [f["reason"] for f in seed["files_list"] if f["status"] == "rejected"] == ["no header row"]
    assert seed["gate_verdict"] == "warned"
    assert {(c["check_path"], c["outcome"], c["message"]) for c in seed["checks"]} == {
        ("checks.rows", "pass", "ok"), ("checks.meta", "warn", "12% missing")}
    update = by_id[UPDATE]
    assert (update["rows_new"], update["rows_changed"], update["gate_verdict"]) == (5, 40, "passed")
    assert by_id[FAILED]["gate_verdict"] == "failed" and by_id[FAILED]["statuses"] == ["quality_failed"]
    assert by_id[SKIPPED]["statuses"] == ["skipped"] and by_id[SKIPPED]["gate_verdict"] == "not checked"


def test_batches_filter_by_status_and_day(client):
    def ids(**params) -> list[str]:
        return [batch["batch_id"] for batch in client.json("/imdb-quality/api/batches", **params)["batches"]]

    assert ids(status="quality_failed") == [FAILED]
    assert ids(status="rejected") == [SEED]
    assert ids(status="loaded") == [UPDATE, SEED]
    assert ids(day=DAYS["failed"].isoformat()) == [SKIPPED, FAILED]
    assert ids(day=DAYS["seed"].isoformat(), status="loaded") == [SEED]
    assert ids(day=(TODAY + timedelta(days=1)).isoformat()) == []
    assert client.request("/imdb-quality/api/batches", status="nonsense")[0] == 422


def test_quarantine_explorer_reads_the_glue_quarantine_output(client, loaded):
    found = client.json(f"/imdb-quality/api/batches/{SEED}/quarantine")

    apollo = loaded["apollo"]
    assert found["rows_total"] == 1 and found["totals_by_reason"] == {"invalid_year": 1}
    (row,) = found["rows"]
    assert (row["raw"]["Series_Title"], row["reasons"], row["line_number"]) == ("Apollo 13", ["invalid_year"],
                                                                               apollo["line"])
    assert row["source_object"] == f"s3://{BUCKET}/raw/seed.csv" and row["raw"]["Released_Year"] == "PG"
    assert client.json(f"/imdb-quality/api/batches/{UPDATE}/quarantine")["rows_total"] == 0
    assert client.request("/imdb-quality/api/batches/not.a.batch/quarantine")[0] == 404


def _quality_share(rows: list[dict]) -> float:
    return round(sum(Decimal("8.0") < row["imdb_rating"] < Decimal("10.3") for row in rows) / len(rows), 4)


def test_trends_per_day_equal_the_loaded_batches(client, loaded):
    days = {day["day"]: day for day in client.json("/imdb-quality/api/trends", days=30)["days"]}

    assert sorted(days) == sorted(day.isoformat() for day in DAYS.values())
    seed, update, failed = (days[DAYS[name].isoformat()] for name in ("seed", "update", "failed"))
    assert (seed["rows_loaded"], seed["rows_quarantined"], seed["quarantined_by_reason"]) == (999, 1,
                                                                                             {"invalid_year": 1})
    assert (seed["checks_failed"], seed["batches_failed_gate"]) == (0, 0)
    assert seed["quality_share"] == _quality_share(loaded["seed_rows"])
    assert (update["rows_loaded"], update["rows_recorded"]) == (45, 45)
    assert update["quality_share"] == _quality_share(loaded["update_rows"])
    assert (failed["batches"], failed["checks_failed"], failed["batches_failed_gate"]) == (2, 1, 1)
    assert (failed["rows_loaded"], failed["quality_share"]) == (0, None)
    recent = client.json("/imdb-quality/api/trends", days=5)["days"]
    assert [day["day"] for day in recent] == [DAYS["failed"].isoformat()]


def _rounded(total: Decimal, count: int) -> float:
    return float((total / count).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def test_ratings_equal_an_independent_computation(client, loaded):
    found = client.json("/imdb-quality/api/ratings", start=DAYS["update"].isoformat(), end=TODAY.isoformat())

    movies = {row["movie_id"]: row for row in loaded["seed_rows"]} | {row["movie_id"]: row
                                                                      for row in loaded["update_rows"]}
    ranked = sorted(movies.values(), key=lambda row: (-row["imdb_rating"], -row["no_of_votes"], row["movie_id"]))
    assert [(m["series_title"], Decimal(str(m["imdb_rating"]))) for m in found["top_movies"]] == [
        (row["series_title"], row["imdb_rating"]) for row in ranked[:10]]
    assert found["top_movies"][0]["series_title"] == "The Shawshank Redemption"

    directors: dict[str, list] = {}
    for row in movies.values():
        directors.setdefault(row["director"], []).append(row)
    averages = {name: _rounded(sum(r["imdb_rating"] for r in rows), len(rows))
                for name, rows in directors.items() if len(rows) >= 3}  # fmt: skip
    best = max(averages.values())
    assert found["top_directors"][0]["avg_rating"] == best
    assert all(averages[d["director"]] == d["avg_rating"] for d in found["top_directors"])
    assert [d["avg_rating"] for d in found["top_directors"]] == sorted(averages.values(), reverse=True)[:10]

    genres: dict[str, tuple[int, int]] = {}
    for row in movies.values():
        for genre in row["genres"].split(","):
            quality, count = genres.get(genre, (0, 0))
            genres[genre] = (quality + int(row["is_quality_movie"]), count + 1)
    expected_genres = sorted(genres.items(), key=lambda item: (-item[1][0], -item[1][1], item[0]))[:10]
    assert [(g["genre"], g["quality_movies"], g["movies"]) for g in found["top_genres"]] == [
        (genre, quality, count) for genre, (quality, count) in expected_genres]

    before = {row["movie_id"]: row for row in loaded["seed_rows"]}
    moves = [(row, row["imdb_rating"] - before[row["movie_id"]]["imdb_rating"],
              row["no_of_votes"] - before[row["movie_id"]]["no_of_votes"])
             for row in loaded["update_rows"] if row["movie_id"] in before]  # fmt: skip
    by_rating = sorted((m for m in moves if m[1]), key=lambda m: (-abs(m[1]), -m[0]["no_of_votes"], m[0]["movie_id"]))
    by_votes = sorted((m for m in moves if m[2]), key=lambda m: (-abs(m[2]), -m[0]["no_of_votes"], m[0]["movie_id"]))
    assert [(m["series_title"], Decimal(str(m["rating_change"]))) for m in found["rating_changes"]] == [
        (row["series_title"], change) for row, change, _ in by_rating[:10]]
    assert [(m["series_title"], m["votes_change"]) for m in found["vote_changes"]] == [
        (row["series_title"], change) for row, _, change in by_votes[:10]]
    # A period before any change: nothing moved.
    quiet = client.json("/imdb-quality/api/ratings", start=DAYS["seed"].isoformat(), end=DAYS["seed"].isoformat())
    assert quiet["rating_changes"] == [] and quiet["vote_changes"] == []
    assert client.request("/imdb-quality/api/ratings", start=TODAY.isoformat(),
                          end=DAYS["seed"].isoformat())[0] == 422  # fmt: skip


def test_run_without_a_resolved_batch_says_so(client):
    assert client.json("/imdb-quality/api/runs/imdb_quality_ingest/manual__x")["batch"] is None
    assert "loaded no batch" in client.html("/imdb-quality/runs/imdb_quality_ingest/manual__x")


def chart_points(page: str) -> dict[str, int]:
    """Data points per chart id in a page's inline SVG charts."""
    charts = re.findall(r'<figure class="chart[^"]*" id="([^"]+)">(.*?)</figure>', page, flags=re.S)
    return {chart_id: body.count('class="point"') for chart_id, body in charts}


def test_pages_render_the_figures_and_charts_with_points(client, loaded):
    batches = client.html("/imdb-quality/batches")
    assert all(batch_id in batches for batch_id in (SEED, UPDATE, FAILED, SKIPPED))
    assert '<td class="number" data-key="rows_loaded">999</td>' in batches
    assert "12% missing" in batches and "100% missing" in batches

    quarantine = client.html("/imdb-quality/quarantine")
    assert "Apollo 13" in quarantine and "invalid_year" in quarantine
    assert chart_points(quarantine) == {"chart-quarantine-reasons": 1}

    trends = chart_points(client.html("/imdb-quality/trends"))
    assert trends == {"chart-loaded-vs-quarantined": 6, "chart-quarantine-by-reason": 3,
                      "chart-gate-failures": 6, "chart-quality-share": 2}  # fmt: skip

    ratings = client.html("/imdb-quality/ratings", start=DAYS["update"].isoformat(), end=TODAY.isoformat())
    assert "The Shawshank Redemption" in ratings
    points = chart_points(ratings)
    assert points["chart-top-movies"] == 10 and points["chart-rating-changes"] == 10
    assert points["chart-vote-changes"] == 10 and points["chart-top-directors"] == 10
    assert points["chart-top-genres"] == 20


def test_ratings_follow_the_marts_refresh_after_a_merge(client, loaded):
    """Last in this module: it changes the warehouse. Top movies, directors and genres come from the
    marts that the DAG's refresh_marts task rebuilds after each merge."""
    period = {"start": DAYS["update"].isoformat(), "end": TODAY.isoformat()}
    before = client.json("/imdb-quality/api/ratings", **period)["top_movies"][0]["series_title"]
    title = loaded["new"][0]["Series_Title"]
    assert before != title

    with psycopg2.connect(loaded["dsn"]) as conn, conn.cursor() as cursor:
        cursor.execute("update movies.imdb_movies set imdb_rating = 9.9 where series_title = %s", (title,))
    # A change outside a load is not seen until the marts are refreshed...
    assert client.json("/imdb-quality/api/ratings", **period)["top_movies"][0]["series_title"] == before
    with psycopg2.connect(loaded["dsn"]) as conn, conn.cursor() as cursor:
        for statement in warehouse.mart_statements():
            cursor.execute(statement)
    # ... and is seen once they are.
    assert client.json("/imdb-quality/api/ratings", **period)["top_movies"][0]["series_title"] == title
    assert client.request("/imdb-quality/api/ratings", limit="101", **period)[0] == 422
