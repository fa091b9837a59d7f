"""IAM logins to Redshift Serverless and provisioned clusters, against botocore's Stubber (the real
clients' request validation, no network)."""

from datetime import UTC, datetime
from types import SimpleNamespace

import boto3
import pytest
from botocore.stub import Stubber
from imdb_pipeline import quality, redshift_credentials


def connection(**fields) -> SimpleNamespace:
    defaults = {"conn_id": "redshift_default", "conn_type": "redshift", "host": None, "port": None,
                "login": "loader", "password": None, "schema": "imdb", "extra": None}
    return SimpleNamespace(**{**defaults, **fields})


class StubbedClients:
    """Real boto3 clients whose answers come from a Stubber; records which service and region was asked."""

    def __init__(self, service: str):
        self.client = boto3.client(service, region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="x")
        self.stubber = Stubber(self.client)
        self.asked: list[tuple[str, str | None]] = []

    def __call__(self, service: str, region: str | None):
        self.asked.append((service, region))
        return self.client


def test_serverless_credentials_come_from_the_work_group():
    clients = StubbedClients("redshift-serverless")
    clients.stubber.add_response(
        "get_credentials",
        {"dbUser": "IAMR:imdb-airflow-execution", "dbPassword": "temporary", "expiration": datetime.now(UTC)},
        {"workgroupName": "imdb", "dbName": "imdb", "durationSeconds": 900},
    )
    extra = {"iam": True, "is_serverless": True, "serverless_work_group": "imdb",
             "serverless_token_duration_seconds": 900, "region": "eu-west-1"}

    with clients.stubber:
        login = redshift_credentials.temporary_credentials(connection(), extra, clients)

    assert login == ("IAMR:imdb-airflow-execution", "temporary")
    assert clients.asked == [("redshift-serverless", "eu-west-1")]
    clients.stubber.assert_no_pending_responses()


def test_provisioned_cluster_credentials_take_the_cluster_from_the_host():
    clients = StubbedClients("redshift")
    clients.stubber.add_response(
        "get_cluster_credentials",
        {"DbUser": "IAM:loader", "DbPassword": "temporary", "Expiration": datetime.now(UTC)},
        {"DbUser": "loader", "DbName": "imdb", "ClusterIdentifier": "analytics", "AutoCreate": False},
    )

    with clients.stubber:
        login = redshift_credentials.temporary_credentials(
            connection(host="analytics.abc123.eu-west-1.redshift.amazonaws.com"), {"iam": True}, clients)

    assert login == ("IAM:loader", "temporary")
    assert clients.asked == [("redshift", None)]


def test_an_explicit_cluster_identifier_wins_over_the_host():
    clients = StubbedClients("redshift")
    clients.stubber.add_response(
        "get_cluster_credentials", {"DbUser": "IAM:loader", "DbPassword": "p"},
        {"DbUser": "loader", "DbName": "imdb", "ClusterIdentifier": "named", "AutoCreate": False},
    )

    with clients.stubber:
        redshift_credentials.temporary_credentials(
            connection(host="10.0.0.5"), {"iam": True, "cluster_identifier": "named"}, clients)

    clients.stubber.assert_no_pending_responses()


def test_an_api_error_reaches_the_caller():
    clients = StubbedClients("redshift-serverless")
    clients.stubber.add_client_error("get_credentials", "AccessDeniedException", "not authorized")

    with clients.stubber, pytest.raises(clients.client.exceptions.AccessDeniedException):
        redshift_credentials.temporary_credentials(
            connection(), {"is_serverless": True, "serverless_work_group": "imdb"}, clients)


@pytest.mark.parametrize(("extra", "fields", "error"), [
    ({"is_serverless": True}, {}, "names no serverless_work_group"),
    ({}, {"host": None}, "neither cluster_identifier nor a host"),
])
def test_an_incomplete_connection_is_named(extra, fields, error):
    with pytest.raises(ValueError, match=error) as raised:
        redshift_credentials.temporary_credentials(connection(**fields), extra, StubbedClients("redshift"))
    assert "redshift_default" in str(raised.value)


def test_the_soda_gate_logs_in_to_serverless_with_iam(monkeypatch):
    clients = StubbedClients("redshift-serverless")
    clients.stubber.add_response(
        "get_credentials", {"dbUser": "IAMR:airflow", "dbPassword": "temporary"},
        {"workgroupName": "imdb", "dbName": "imdb", "durationSeconds": 3600},
    )
    monkeypatch.setattr(redshift_credentials, "_boto3_client", clients)
    conn = connection(host="imdb.111122223333.eu-west-1.redshift-serverless.amazonaws.com",
                      extra='{"iam": true, "is_serverless": true, "serverless_work_group": "imdb"}')

    with clients.stubber:
        source = quality.soda_data_source(conn)

    assert (source["connection"]["user"], source["connection"]["password"]) == ("IAMR:airflow", "temporary")
    assert source["connection"]["port"] == 5439
