"""Temporary Redshift database credentials for IAM authentication, serverless or provisioned.

The connection extra decides, with the field names of Airflow's Redshift connection (so the same
`redshift_default` serves the DAG's RedshiftSQLHook and the Soda gate):
- `is_serverless: true` with `serverless_work_group`: `redshift-serverless:GetCredentials` for the
  connection's database (optional `serverless_token_duration_seconds`, default 3600);
- otherwise a provisioned cluster (`cluster_identifier`, else the first label of the host):
  `redshift:GetClusterCredentials` for the connection's login, never creating the user.
`region` in the extra picks the API's region; by default boto3's.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

DEFAULT_SERVERLESS_DURATION_SECONDS = 3600


def _boto3_client(service: str, region: str | None):
    import boto3

    return boto3.client(service, region_name=region)


def temporary_credentials(conn: Any, extra: Mapping, client: Callable[[str, str | None], Any] | None = None
                          ) -> tuple[str, str]:
    """(database user, password) valid for a short time, from the Redshift API of the connection's kind.

    `client(service, region)` makes the API client (boto3's by default, with the worker's role).
    """
    client = client or _boto3_client
    region = extra.get("region")
    if extra.get("is_serverless"):
        work_group = extra.get("serverless_work_group")
        if not work_group:
            raise ValueError(f"Connection {conn.conn_id!r} is serverless but names no serverless_work_group")
        credentials = client("redshift-serverless", region).get_credentials(
            workgroupName=work_group,
            dbName=conn.schema,
            durationSeconds=int(extra.get("serverless_token_duration_seconds", DEFAULT_SERVERLESS_DURATION_SECONDS)),
        )
        return credentials["dbUser"], credentials["dbPassword"]
    cluster = extra.get("cluster_identifier") or (conn.host or "").split(".")[0]
    if not cluster:
        raise ValueError(f"Connection {conn.conn_id!r} names neither cluster_identifier nor a host")
    credentials = client("redshift", region).get_cluster_credentials(
        DbUser=conn.login, DbName=conn.schema, ClusterIdentifier=cluster, AutoCreate=False
    )
    return credentials["DbUser"], credentials["DbPassword"]
