"""Fixtures for the warehouse tests: processed output like the Glue job's, in a real moto server.

The processed Parquet is made here from the seed CSV with pyarrow, following the contract in
docs/interfaces.md (it stands in for the Glue job, which is tested on its own): 999 valid rows
(Apollo 13 is quarantined for its year "PG"), movie_id = md5 of the normalised title + '|' + year.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import boto3
import psycopg2
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from imdb_pipeline import warehouse

from tests.fixtures.postgres import free_port
from tests.processed_contract import PROCESSED_SCHEMA

SEED_CSV = Path(__file__).resolve().parents[2] / "data" / "imdb_movies_rating.csv"
BUCKET = "imdb-quality-test"



def movie_id(title: str, year: int) -> str:
    normalised = re.sub(r"\s+", " ", title.strip().lower())
    return hashlib.md5(f"{normalised}|{year}".encode()).hexdigest()


def seed_records() -> list[dict]:
    """The seed CSV's records as dicts of raw strings, each with its `line` (header = line 1)."""
    with SEED_CSV.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        records, line = [], 2
        for record in reader:
            records.append({**record, "line": line})
            line = reader.line_num + 1
    return records


def processed_rows(records: list[dict], *, source_object: str, batch_id: str, ingested_at: datetime) -> list[dict]:
    """Valid records typed as the Glue job outputs them; records with a non-numeric year are left out."""
    rows = []
    for record in records:
        if not record["Released_Year"].isdigit():
            continue
        year, rating = int(record["Released_Year"]), Decimal(record["IMDB_Rating"])
        genres = [genre.strip() for genre in record["Genre"].split(",")]
        rows.append(
            {
                "movie_id": movie_id(record["Series_Title"], year),
                "series_title": record["Series_Title"],
                "released_year": year,
                "certificate": record["Certificate"] or None,
                "runtime_minutes": int(record["Runtime"].split()[0]) if record["Runtime"] else None,
                "genres": ",".join(genres),
                "primary_genre": genres[0],
                "imdb_rating": rating,
                "meta_score": int(record["Meta_score"]) if record["Meta_score"] else None,
                "no_of_votes": int(record["No_of_Votes"]),
                "gross_usd": int(record["Gross"].replace(",", "")) if record["Gross"] else None,
                "director": record["Director"],
                **{f"star{n}": record[f"Star{n}"] or None for n in range(1, 5)},
                "overview": record["Overview"] or None,
                "poster_link": record["Poster_Link"] or None,
                "is_quality_movie": Decimal("8.0") < rating < Decimal("10.3"),
                "source_object": source_object,
                "source_line": record["line"],
                "batch_id": batch_id,
                "ingested_at": ingested_at,
            }
        )
    return rows


def publish_batch(s3, batch_id: str, files: dict[str, tuple[int, list[dict]]], rejected: dict[str, str] = ()):
    """Write a batch's Glue-style output: Parquet parts, _SUCCESS, summary.json.

    `files` maps source URI -> (rows_in, processed rows); `rejected` maps source URI -> error.
    Returns (output_uri, summary).
    """
    prefix = f"processed/batch_id={batch_id}/"
    summary_files = []
    for part, (source, (rows_in, rows)) in enumerate(files.items()):
        if rows:
            buffer = io.BytesIO()
            pq.write_table(pa.Table.from_pylist(rows, schema=PROCESSED_SCHEMA), buffer)
            key = f"{prefix}processed/part-{part:05d}.snappy.parquet"
            s3.put_object(Bucket=BUCKET, Key=key, Body=buffer.getvalue())
        summary_files.append(
            {"source_object": source, "status": "processed", "error": None, "rows_in": rows_in,
             "rows_valid": len(rows), "rows_quarantined": rows_in - len(rows)}
        )  # fmt: skip
    for source, error in dict(rejected).items():
        summary_files.append(
            {"source_object": source, "status": "rejected", "error": error, "rows_in": 0,
             "rows_valid": 0, "rows_quarantined": 0}
        )  # fmt: skip
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}processed/_SUCCESS", Body=b"")
    summary = {
        "batch_id": batch_id,
        "rows_in": sum(file["rows_in"] for file in summary_files),
        "rows_valid": sum(file["rows_valid"] for file in summary_files),
        "rows_quarantined": sum(file["rows_quarantined"] for file in summary_files),
        "files": summary_files,
    }
    s3.put_object(Bucket=BUCKET, Key=f"{prefix}summary.json", Body=json.dumps(summary).encode())
    return f"s3://{BUCKET}/{prefix}", summary


@pytest.fixture(scope="session")
def warehouse_moto_endpoint() -> str:
    """A moto server over HTTP for this test session, with the test bucket."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    yield endpoint
    server.stop()


@pytest.fixture
def warehouse_s3(warehouse_moto_endpoint: str, monkeypatch: pytest.MonkeyPatch):
    """A boto3 S3 client on the moto server with an empty test bucket; also as Airflow's aws_default."""
    import requests

    requests.post(f"{warehouse_moto_endpoint}/moto-api/reset", timeout=10)
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {"conn_type": "aws", "extra": {"endpoint_url": warehouse_moto_endpoint, "region_name": "us-east-1"}}
        ),
    )
    client = boto3.client("s3", endpoint_url=warehouse_moto_endpoint, region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    return client


@pytest.fixture
def warehouse_conn(pg_database: str):
    """A psycopg2 connection to a fresh database with the warehouse DDL and marts applied."""
    conn = psycopg2.connect(pg_database)
    warehouse.apply_ddl(conn)
    yield conn
    conn.close()
