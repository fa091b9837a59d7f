"""infra/imdb-pipeline.yaml: valid for CloudFormation (cfn-lint), in step with the SQL, the Parquet
contract and the DAG's settings, and honest about what `Deployment=local` leaves out."""

import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from local_stack.resources import TEMPLATE_FILE, load_template
from tests.infra_template import AWS_PARAMETERS, render
from tests.processed_contract import PROCESSED_SCHEMA

REPO = Path(__file__).resolve().parents[2]
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
HIVE_TYPES = {"string": "string", "int32": "int", "int64": "bigint", "bool": "boolean",
              "decimal128(3, 1)": "decimal(3,1)", "timestamp[us, tz=UTC]": "timestamp"}
# What the local provisioning can hold: moto's CloudFormation types, plus those it applies itself.
LOCAL_TYPES = {"AWS::S3::Bucket", "AWS::SQS::Queue", "AWS::SQS::QueuePolicy", "AWS::Events::Rule",
               "AWS::SNS::Topic", "AWS::SNS::Subscription", "AWS::IAM::Role", "AWS::Glue::Job",
               "AWS::Glue::Database", "AWS::Glue::Table", "AWS::CloudWatch::Alarm"}


@pytest.fixture(scope="module")
def cfn_lint_findings(tmp_path_factory) -> dict[str, list[str]]:
    """cfn-lint's findings (`rule:message`) on the template and on a copy with a misspelt property;
    one run for both (each run costs seconds of start-up)."""
    broken = tmp_path_factory.mktemp("cfn") / "broken.yaml"
    broken.write_text(TEMPLATE_FILE.read_text().replace("GlueVersion: \"5.0\"", "GlueVersions: \"5.0\""))
    result = subprocess.run([str(CFN_LINT), "--format", "parseable", str(TEMPLATE_FILE), str(broken)],
                            capture_output=True, text=True, timeout=240)  # fmt: skip
    assert not result.stderr, result.stderr
    findings = {"template": [], "broken": []}
    for line in result.stdout.splitlines():
        # path:line:column:end line:end column:rule:message
        path, *_, rule, message = line.split(":", 6)
        findings["broken" if path == str(broken) else "template"].append(f"{rule}:{message}")
    return findings


@pytest.mark.timeout(300)
def test_cfn_lint_finds_no_errors(cfn_lint_findings):
    assert [finding for finding in cfn_lint_findings["template"] if finding.startswith("E")] == []


@pytest.mark.timeout(300)
def test_cfn_lint_catches_an_invalid_template(cfn_lint_findings):
    errors = [finding for finding in cfn_lint_findings["broken"] if finding.startswith("E")]
    assert errors and all("GlueVersions" in error for error in errors)


def _sql_body(text: str) -> str:
    """SQL without comments and the `create ... as` head, on one line."""
    text = re.sub(r"--[^\n]*", "", text)
    text = re.sub(r"^\s*create or replace view \w+ as", "", text.strip())
    return " ".join(text.split())


def test_the_catalog_view_is_the_sql_of_create_current_movies_view():
    resolver = render()
    view = resolver.properties("CurrentMoviesView")["TableInput"]
    encoded = view["ViewOriginalText"].removeprefix("/* Presto View: ").removesuffix(" */")
    presto_view = json.loads(base64.b64decode(encoded))
    sql_file = REPO / "include" / "sql" / "athena" / "create_current_movies_view.sql"

    assert _sql_body(presto_view["originalSql"]) == _sql_body(sql_file.read_text())
    assert (presto_view["catalog"], presto_view["schema"]) == ("awsdatacatalog", "imdb")
    select_list = _sql_body(sql_file.read_text()).rsplit(" select ", 1)[1].split(" from ranked_rows")[0]
    aliases = [item.split()[-1].removeprefix("ranked_rows.") for item in select_list.split(", ")]
    assert [column["name"] for column in presto_view["columns"]] == aliases
    assert [column["Name"] for column in view["StorageDescriptor"]["Columns"]] == aliases


def test_the_processed_table_has_the_parquet_contract_columns():
    table = render().properties("ProcessedMoviesTable")["TableInput"]

    columns = [(column["Name"], column["Type"]) for column in table["StorageDescriptor"]["Columns"]]
    assert columns == [(field.name, HIVE_TYPES[str(field.type)]) for field in PROCESSED_SCHEMA]
    # The partition column of create_processed_table.sql (batch_id is taken by a data column).
    assert table["PartitionKeys"] == [{"Name": "batch", "Type": "string"}]
    assert table["StorageDescriptor"]["Location"] == "s3://acme-imdb-data/processed/"


def test_local_deployment_keeps_only_what_the_emulator_can_hold():
    local = render({"Deployment": "local", "DataBucketName": "imdb-quality-local",
                    "ArtifactsBucketName": "imdb-quality-artifacts-local"})
    on_aws = render()

    local_types = {resource["Type"] for resource in local.resources().values()}
    assert local_types <= LOCAL_TYPES
    aws_types = {resource["Type"] for resource in on_aws.resources().values()}
    for needed in ("AWS::MWAA::Environment", "AWS::RedshiftServerless::Workgroup", "AWS::Athena::WorkGroup",
                   "AWS::QuickSight::Dashboard", "AWS::SecretsManager::Secret"):
        assert needed in aws_types
    assert "NotificationsObserverQueue" in local.resources() and "NotificationsObserverQueue" not in on_aws.resources()
    assert "QualityDashboard" not in render({**AWS_PARAMETERS, "EnableQuickSight": "false"}).resources()


def test_mwaa_gets_every_pipeline_setting_and_airflow_3_3_1():
    sys.path.insert(0, str(REPO / "dags"))
    from imdb_pipeline.config import SETTINGS

    environment = render().properties("AirflowEnvironmentResource")
    options = environment["AirflowConfigurationOptions"]
    given = {f"imdb_{key.removeprefix('imdb.')}" for key in options if key.startswith("imdb.")}

    assert environment["AirflowVersion"] == "3.3.1"
    names = {setting.name for setting in SETTINGS}
    assert names <= given, sorted(names - given)
    assert options["imdb.queue_url"].endswith("/imdb-raw-object-created")


def test_mwaa_lineage_is_off_by_default_and_takes_the_transport_given():
    transport = '{"type": "amazon_datazone_api", "domainId": "dzd_example"}'

    default_options = render().properties("AirflowEnvironmentResource")["AirflowConfigurationOptions"]
    options = render({**AWS_PARAMETERS, "OpenLineageTransport": transport}).properties(
        "AirflowEnvironmentResource")["AirflowConfigurationOptions"]

    assert not [key for key in default_options if key.startswith("openlineage.")]
    assert options["openlineage.transport"] == transport
    assert options["openlineage.namespace"] == "imdb-pipeline"


def test_the_raw_rule_matches_csv_and_gzipped_csv_and_targets_only_the_queue():
    rule = render().properties("RawCsvRule")

    keys = rule["EventPattern"]["detail"]["object"]["key"]
    assert keys == [{"wildcard": "raw/*.csv"}, {"wildcard": "raw/*.csv.gz"}]
    assert [target["Arn"].split(":")[2] for target in rule["Targets"]] == ["sqs"]


def test_the_template_fits_a_direct_deploy():
    """`aws cloudformation deploy` sends templates up to 51,200 bytes without an S3 bucket."""
    assert len(TEMPLATE_FILE.read_bytes()) < 51_200
    assert load_template()["AWSTemplateFormatVersion"] == "2010-09-09"
