"""Least privilege in infra/imdb-pipeline.yaml, checked on the rendered policies of every role.

Rules: actions are named one by one (no `*` in an action); `Resource: "*"` only for actions that
have no resource-level permissions; `iam:PassRole` only for the Glue role, only to Glue; the
Glue role reads raw/ but cannot write or delete it, and cannot write the artifacts bucket (the
code that runs). The bad-policy tests prove each rule fails when broken.
"""

import copy
from fnmatch import fnmatchcase

import pytest

from local_stack.resources import load_template
from tests.infra_template import ACCOUNT, REGION, render

# Actions AWS authorises only on "*" (no resource-level permissions).
WILDCARD_ONLY_ACTIONS = {"s3:GetAccountPublicAccessBlock", "logs:DescribeLogGroups", "cloudwatch:PutMetricData"}
READ_ONLY_S3 = ("s3:Get", "s3:List")
DATA, ARTIFACTS = "arn:aws:s3:::acme-imdb-data", "arn:aws:s3:::acme-imdb-artifacts"
GLUE_ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/imdb-glue-job-role"


def _listed(value) -> list:
    return value if isinstance(value, list) else [value]


def role_statements(template: dict | None = None) -> dict[str, list[dict]]:
    """Every enabled role's statements (inline policies), by logical id; managed policies are refused."""
    resolver = render(template=template)
    roles = {}
    for logical_id in resolver.resources("AWS::IAM::Role"):
        properties = resolver.properties(logical_id)
        assert not properties.get("ManagedPolicyArns"), f"{logical_id}: managed policies grant more than it uses"
        roles[logical_id] = [statement for policy in properties.get("Policies", [])
                             for statement in policy["PolicyDocument"]["Statement"]]
    assert not resolver.resources("AWS::IAM::ManagedPolicy") and not resolver.resources("AWS::IAM::Policy")
    return roles


def violations(role: str, statements: list[dict]) -> list[str]:
    found = []
    for statement in statements:
        sid = f"{role}/{statement.get('Sid', '?')}"
        actions = _listed(statement.get("Action", []))
        if "NotAction" in statement:
            found.append(f"{sid}: NotAction allows everything else")
        for action in actions:
            if "*" in action:
                found.append(f"{sid}: wildcard action {action}")
        if "NotResource" in statement and "Condition" not in statement:
            found.append(f"{sid}: NotResource without a condition")
        resources = _listed(statement.get("Resource", []))
        if "*" in resources and not set(actions) <= WILDCARD_ONLY_ACTIONS:
            found.append(f"{sid}: Resource * for {sorted(set(actions) - WILDCARD_ONLY_ACTIONS)}, "
                         "which AWS authorises on narrower resources")
        if "iam:PassRole" in actions:
            passed_to = statement.get("Condition", {}).get("StringEquals", {}).get("iam:PassedToService")
            if resources != [GLUE_ROLE_ARN] or passed_to != "glue.amazonaws.com":
                found.append(f"{sid}: iam:PassRole beyond the Glue role passed to Glue ({resources}, {passed_to})")
    return found


def allows(statements: list[dict], action: str, resource: str) -> bool:
    return any(
        statement["Effect"] == "Allow" and action in _listed(statement.get("Action", []))
        and any(fnmatchcase(resource, pattern) for pattern in _listed(statement.get("Resource", [])))
        for statement in statements
    )


def glue_role_violations(statements: list[dict]) -> list[str]:
    found = []
    for statement in statements:
        writes = [action for action in _listed(statement.get("Action", [])) if action.startswith("s3:")
                  and not action.startswith(READ_ONLY_S3)]
        for action in writes:
            for forbidden in (f"{DATA}/raw/dt=2026-11-25/movies.csv", f"{ARTIFACTS}/glue/movies_quality.zip",
                              f"{ARTIFACTS}/dags/imdb_quality_ingest.py"):
                if allows([statement], action, forbidden):
                    found.append(f"GlueRole/{statement.get('Sid')}: {action} on {forbidden}")
    return found


def test_every_role_names_its_actions_and_resources():
    roles = role_statements()

    assert set(roles) == {"GlueRole", "WarehouseCopyRole", "AirflowExecutionRole"}
    assert [problem for role, statements in roles.items() for problem in violations(role, statements)] == []


def test_only_the_airflow_role_may_pass_a_role_and_only_the_glue_role():
    roles = role_statements()

    passers = {role for role, statements in roles.items() if allows(statements, "iam:PassRole", GLUE_ROLE_ARN)}
    assert passers == {"AirflowExecutionRole"}
    assert not allows(roles["AirflowExecutionRole"], "iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/other")


def test_the_glue_role_reads_raw_and_its_code_but_writes_only_outputs():
    glue = role_statements()["GlueRole"]

    assert glue_role_violations(glue) == []
    assert allows(glue, "s3:GetObject", f"{DATA}/raw/dt=2026-11-25/movies.csv")
    assert allows(glue, "s3:GetObject", f"{ARTIFACTS}/glue/movies_quality_ingestion.py")
    assert allows(glue, "s3:PutObject", f"{DATA}/processed/batch_id=B/summary.json")
    assert not allows(glue, "s3:DeleteObject", f"{DATA}/raw/movies.csv")
    assert not allows(glue, "s3:GetObject", f"{ARTIFACTS}/dags/imdb_quality_ingest.py")


def test_the_airflow_role_can_do_what_the_dag_does():
    airflow = role_statements()["AirflowExecutionRole"]
    arn = f"arn:aws:{{}}:{REGION}:{ACCOUNT}:{{}}"

    for action, resource in [
        ("sqs:ReceiveMessage", arn.format("sqs", "imdb-raw-object-created")),
        ("sqs:DeleteMessage", arn.format("sqs", "imdb-raw-object-created")),
        ("s3:ListBucket", DATA),
        ("s3:GetObject", f"{DATA}/raw/movies.csv"),
        ("s3:PutObject", f"{DATA}/processed/batch_id=B/dq_results.json"),
        ("s3:PutObject", f"{ARTIFACTS}/glue/movies_quality.zip"),
        ("glue:StartJobRun", arn.format("glue", "job/imdb-movies-quality-ingestion")),
        ("glue:GetJobRun", arn.format("glue", "job/imdb-movies-quality-ingestion")),
        ("sns:Publish", arn.format("sns", "imdb-pipeline-notifications")),
        ("athena:StartQueryExecution", arn.format("athena", "workgroup/imdb")),
        ("glue:BatchCreatePartition", arn.format("glue", "table/imdb/processed_movies")),
        ("quicksight:CreateIngestion", arn.format("quicksight", "dataset/imdb-current-movies")),
    ]:
        assert allows(airflow, action, resource), (action, resource)
    assert not allows(airflow, "s3:DeleteObject", f"{DATA}/raw/movies.csv")
    assert not allows(airflow, "s3:PutObject", f"{ARTIFACTS}/dags/imdb_quality_ingest.py")


def _with_statement(role: str, statement: dict) -> dict:
    template = copy.deepcopy(load_template())
    template["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"].append(statement)
    return template


@pytest.mark.parametrize("statement, expected", [
    ({"Sid": "Bad", "Effect": "Allow", "Action": "s3:*", "Resource": {"Fn::Sub": "${DataBucket.Arn}/*"}},
     "wildcard action s3:*"),
    ({"Sid": "Bad", "Effect": "Allow", "Action": ["sqs:ReceiveMessage"], "Resource": "*"},
     "Resource * for ['sqs:ReceiveMessage']"),
    ({"Sid": "Bad", "Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"},
     "iam:PassRole beyond the Glue role"),
])
def test_a_bad_policy_fails_the_check(statement, expected):
    roles = role_statements(_with_statement("WarehouseCopyRole", statement))

    problems = violations("WarehouseCopyRole", roles["WarehouseCopyRole"])
    assert any(expected in problem for problem in problems), problems


@pytest.mark.parametrize("resource", ["${DataBucket.Arn}/*", "${ArtifactsBucket.Arn}/glue/*"])
def test_a_glue_role_that_may_write_raw_or_code_fails_the_check(resource):
    statement = {"Sid": "Bad", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": {"Fn::Sub": resource}}
    glue = role_statements(_with_statement("GlueRole", statement))["GlueRole"]

    assert glue_role_violations(glue) != []
    assert violations("GlueRole", glue) == []  # named action, named resource: only the Glue rule catches it
