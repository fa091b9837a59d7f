"""The emulator refuses web pages: requests with a foreign Origin get 403 and no response carries CORS headers,
while SDK clients (no Origin) work as before. Against the real server process (`emulator` fixture)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from local_stack.emulator import CrossOriginGuard

pytestmark = pytest.mark.emulator
PAGE = "http://attacker.example"


def call(url: str, method: str = "GET", headers: dict | None = None, body: bytes | None = None):
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_sdk_clients_without_origin_work_and_get_no_cors_headers(emulator):
    s3 = emulator.client("s3")
    s3.create_bucket(Bucket="origin-check")
    assert [bucket["Name"] for bucket in s3.list_buckets()["Buckets"]] == ["origin-check"]

    status, headers, _ = call(f"{emulator.endpoint_url}/origin-check")
    assert status == 200
    assert not [name for name in headers if name.lower().startswith("access-control-")]


def test_a_web_page_cannot_start_a_glue_run(emulator):
    glue = emulator.client("glue")
    glue.create_job(Name="page-job", Role="arn:aws:iam::123456789012:role/r",
                    Command={"Name": "glueetl", "ScriptLocation": "s3://b/script.py"})

    status, headers, body = call(
        emulator.endpoint_url, "POST", body=json.dumps({"JobName": "page-job"}).encode(),
        headers={"Origin": PAGE, "Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AWSGlue.StartJobRun",
                 "Authorization": "AWS4-HMAC-SHA256 Credential=x/20261126/us-east-1/glue/aws4_request, "
                                  "SignedHeaders=host, Signature=0"},
    )

    assert status == 403
    assert b"refuses requests from web pages" in body
    assert "Access-Control-Allow-Origin" not in headers
    assert glue.get_job_runs(JobName="page-job")["JobRuns"] == []


def test_a_preflight_from_a_web_page_is_refused(emulator):
    status, headers, _ = call(f"{emulator.endpoint_url}/", "OPTIONS", headers={
        "Origin": PAGE, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-amz-target"})
    assert status == 403
    assert not [name for name in headers if name.lower().startswith("access-control-")]


def test_an_allowed_origin_passes_through_untouched():
    def app(environ, start_response):
        start_response("200 OK", [("Access-Control-Allow-Origin", environ["HTTP_ORIGIN"])])
        return [b"ok"]

    statuses = []
    guard = CrossOriginGuard(app, frozenset({"http://127.0.0.1:3000"}))

    assert guard({"HTTP_ORIGIN": "http://127.0.0.1:3000"}, lambda status, headers, *_: statuses.append(
        (status, headers))) == [b"ok"]
    assert statuses == [("200 OK", [("Access-Control-Allow-Origin", "http://127.0.0.1:3000")])]
    guard({"HTTP_ORIGIN": "null"}, lambda status, headers, *_: statuses.append((status, headers)))
    assert statuses[-1][0] == "403 Forbidden"
