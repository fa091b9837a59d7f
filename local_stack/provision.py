"""Provision the emulator from the CloudFormation template that describes the AWS deployment.

moto's CloudFormation creates what it supports (buckets, queues, the rule, the topic, roles) and
silently skips the rest. The types the pipeline needs locally among the skipped ones (Glue,
queue policies, SNS subscriptions, the bucket's EventBridge notifications) are applied here
through their APIs, from the same template, resolved with the same parameters. Resources moto
cannot emulate at all (MWAA, Redshift Serverless, Athena, QuickSight, alarms, network) are off
with `Deployment=local`. Idempotent: an unchanged stack is left alone, own resources are upserted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from urllib.parse import urlparse

from local_stack.resources import TEMPLATE_FILE, Resolver, load_template
from local_stack.settings import ACCOUNT_ID, DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, REPO_ROOT

STACK_NAME = "imdb-local"
LOCAL_PARAMETERS = {
    "Deployment": "local",
    "DataBucketName": "imdb-quality-local",
    "ArtifactsBucketName": "imdb-quality-artifacts-local",
}
GLUE_SCRIPT_SOURCE = Path("include/glue/movies_quality_ingestion.py")
GLUE_PACKAGE_SOURCE = Path("include/glue/movies_quality")


def local_glue_script_location(parameters: dict[str, str] | None = None, template_file: Path = TEMPLATE_FILE) -> str:
    """Where the template's Glue job runs its script from, with the local stack's parameters."""
    from local_stack.settings import REGION

    template = load_template(template_file)

    def no_resources(name: str, *_):
        raise KeyError(f"the Glue job's command refers to resource {name}, known only once deployed")

    resolver = Resolver(template, {**LOCAL_PARAMETERS, **(parameters or {})},
                        {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT_ID, "AWS::StackName": STACK_NAME},
                        no_resources, no_resources)  # fmt: skip
    ((_, job),) = resolver.resources("AWS::Glue::Job").items()
    return resolver.resolve(job["Properties"]["Command"])["ScriptLocation"]


def aws_client(service: str, endpoint_url: str, region: str):
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url, region_name=region,
                        aws_access_key_id=DUMMY_ACCESS_KEY_ID, aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY)


def provision_aws(endpoint_url: str, region: str, parameters: dict[str, str] | None = None,
                  repo_root: Path = REPO_ROOT, template_file: Path = TEMPLATE_FILE) -> dict:
    """Deploy the template to the emulator; return the names, URLs and ARNs other tools need."""
    clients: dict = {}

    def client(service: str):
        if service not in clients:
            clients[service] = aws_client(service, endpoint_url, region)
        return clients[service]

    parameters = {**LOCAL_PARAMETERS, **(parameters or {})}
    template = load_template(template_file)
    deploy_stack(client("cloudformation"), STACK_NAME, template_file.read_text(), parameters)
    lookup = EmulatorLookup(client, template)
    resolver = Resolver(template, parameters, {"AWS::Region": region, "AWS::AccountId": ACCOUNT_ID,
                                               "AWS::StackName": STACK_NAME}, lookup.ref, lookup.get_att)
    for logical_id in resolver.resources("AWS::S3::Bucket"):
        _apply_bucket_notifications(client("s3"), resolver.properties(logical_id))
    for logical_id in resolver.resources("AWS::SQS::QueuePolicy"):
        _apply_queue_policy(client("sqs"), resolver.properties(logical_id))
    for logical_id in resolver.resources("AWS::SNS::Subscription"):
        _apply_subscription(client("sns"), resolver.properties(logical_id))
    for logical_id in resolver.resources("AWS::Glue::Database"):
        lookup.own[logical_id] = _apply_glue_database(client("glue"), resolver.properties(logical_id))
    for logical_id in resolver.resources("AWS::Glue::Table"):
        lookup.own[logical_id] = _apply_glue_table(client("glue"), resolver.properties(logical_id))
    jobs = {logical_id: resolver.properties(logical_id) for logical_id in resolver.resources("AWS::Glue::Job")}
    for logical_id, job in jobs.items():
        lookup.own[logical_id] = _apply_glue_job(client("glue"), job)
    [job] = jobs.values()
    uploaded = upload_glue_assets(client("s3"), job, repo_root)

    outputs = {name: resolver.resolve(output["Value"])
               for name, output in template["Outputs"].items() if resolver.enabled(name)}
    return {
        "bucket": outputs["DataBucketName"],
        "artifacts_bucket": outputs["ArtifactsBucketName"],
        "raw_prefix": resolver.parameters["RawPrefix"],
        "processed_prefix": resolver.parameters["ProcessedPrefix"],
        "glue_assets_prefix": resolver.parameters["GlueAssetsPrefix"],
        "raw_events_queue_url": outputs["RawEventsQueueUrl"],
        "raw_csv_rule_arn": outputs["RawCsvRuleArn"],
        "notifications_topic_arn": outputs["NotificationsTopicArn"],
        "notifications_observer_queue_url": outputs["NotificationsObserverQueueUrl"],
        "glue_job_name": outputs["GlueJobName"],
        "glue_role_name": outputs["GlueRoleName"],
        "glue_role_arn": outputs["GlueRoleArn"],
        "glue_assets_uploaded": uploaded,
    }


def deploy_stack(cloudformation, stack_name: str, template_body: str, parameters: dict[str, str]) -> str:
    """Create the stack, or update it if its template or parameters changed; returns what was done."""
    given = [{"ParameterKey": key, "ParameterValue": value} for key, value in sorted(parameters.items())]
    request = {"StackName": stack_name, "TemplateBody": template_body, "Parameters": given,
               "Capabilities": ["CAPABILITY_NAMED_IAM"]}
    try:
        [stack] = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except cloudformation.exceptions.ClientError as error:
        if "does not exist" not in str(error):
            raise
        cloudformation.create_stack(**request)
        return "created"
    current = {item["ParameterKey"]: item["ParameterValue"] for item in stack.get("Parameters", [])}
    unchanged = cloudformation.get_template(StackName=stack_name)["TemplateBody"] == template_body and all(
        current.get(key) == value for key, value in parameters.items())
    if unchanged:
        return "unchanged"
    cloudformation.update_stack(**request)
    return "updated"


class EmulatorLookup:
    """`Ref` and `Fn::GetAtt` of the template's resources as the emulator holds them."""

    def __init__(self, client, template: dict):
        self.client = client
        self.template = template
        self.own: dict[str, str] = {}
        self._physical: dict[str, str] | None = None

    def _physical_id(self, logical_id: str) -> str:
        if self._physical is None:
            paginator = self.client("cloudformation").get_paginator("list_stack_resources")
            self._physical = {
                summary["LogicalResourceId"]: summary["PhysicalResourceId"]
                for page in paginator.paginate(StackName=STACK_NAME)
                for summary in page["StackResourceSummaries"] if summary["LogicalResourceId"]
            }
        if logical_id not in self._physical:
            raise KeyError(f"{logical_id} is not in the emulator's stack (a type moto skips?)")
        return self._physical[logical_id]

    def _type(self, logical_id: str) -> str:
        return self.template["Resources"][logical_id]["Type"]

    def ref(self, logical_id: str) -> str:
        if logical_id in self.own:
            return self.own[logical_id]
        physical = self._physical_id(logical_id)
        if self._type(logical_id) == "AWS::SQS::Queue":
            # moto's stack names the queue by an AWS-style URL; clients need the emulator's.
            return self.client("sqs").get_queue_url(QueueName=urlparse(physical).path.rsplit("/", 1)[-1])["QueueUrl"]
        return physical

    def get_att(self, logical_id: str, attribute: str) -> str:
        resource_type = self._type(logical_id)
        if (resource_type, attribute) == ("AWS::S3::Bucket", "Arn"):
            return f"arn:aws:s3:::{self.ref(logical_id)}"
        if resource_type == "AWS::SQS::Queue" and attribute in ("Arn", "QueueName"):
            arn = self.client("sqs").get_queue_attributes(QueueUrl=self.ref(logical_id), AttributeNames=["QueueArn"])
            arn = arn["Attributes"]["QueueArn"]
            return arn if attribute == "Arn" else arn.rsplit(":", 1)[-1]
        if (resource_type, attribute) == ("AWS::IAM::Role", "Arn"):
            return self.client("iam").get_role(RoleName=self.ref(logical_id))["Role"]["Arn"]
        if (resource_type, attribute) == ("AWS::Events::Rule", "Arn"):
            return self.client("events").describe_rule(Name=self.ref(logical_id))["Arn"]
        raise KeyError(f"the local provisioning cannot resolve {logical_id}.{attribute} ({resource_type})")


def _apply_bucket_notifications(s3, properties: dict) -> None:
    notifications = properties.get("NotificationConfiguration", {})
    if notifications.get("EventBridgeConfiguration", {}).get("EventBridgeEnabled"):
        s3.put_bucket_notification_configuration(
            Bucket=properties["BucketName"], NotificationConfiguration={"EventBridgeConfiguration": {}}
        )


def _apply_queue_policy(sqs, properties: dict) -> None:
    for queue_url in properties["Queues"]:
        sqs.set_queue_attributes(QueueUrl=queue_url, Attributes={"Policy": json.dumps(properties["PolicyDocument"])})


def _apply_subscription(sns, properties: dict) -> None:
    topic_arn, protocol, endpoint = properties["TopicArn"], properties["Protocol"], properties["Endpoint"]
    attributes = {name: str(properties[name]).lower() if isinstance(properties[name], bool) else str(properties[name])
                  for name in ("RawMessageDelivery", "FilterPolicy") if name in properties}
    subscribed = any(
        subscription["Protocol"] == protocol and subscription["Endpoint"] == endpoint
        for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    )
    if not subscribed:
        sns.subscribe(TopicArn=topic_arn, Protocol=protocol, Endpoint=endpoint, Attributes=attributes)


def _apply_glue_database(glue, properties: dict) -> str:
    database = properties["DatabaseInput"]
    try:
        glue.get_database(Name=database["Name"])
    except glue.exceptions.EntityNotFoundException:
        glue.create_database(DatabaseInput=database)
    else:
        glue.update_database(Name=database["Name"], DatabaseInput=database)
    return database["Name"]


def _apply_glue_table(glue, properties: dict) -> str:
    database, table = properties["DatabaseName"], properties["TableInput"]
    try:
        glue.get_table(DatabaseName=database, Name=table["Name"])
    except glue.exceptions.EntityNotFoundException:
        glue.create_table(DatabaseName=database, TableInput=table)
    else:
        glue.update_table(DatabaseName=database, TableInput=table)
    return table["Name"]


def _apply_glue_job(glue, properties: dict) -> str:
    definition = {key: value for key, value in properties.items() if key != "Name"}
    try:
        glue.get_job(JobName=properties["Name"])
    except glue.exceptions.EntityNotFoundException:
        glue.create_job(Name=properties["Name"], **definition)
    else:
        glue.update_job(JobName=properties["Name"], JobUpdate=definition)
    return properties["Name"]


def _dags_on_path(repo_root: Path) -> None:
    """Make the DAG folder's helper package importable, as it is inside Airflow."""
    dags_dir = str(repo_root / "dags")
    if dags_dir not in sys.path:
        sys.path.insert(0, dags_dir)


def upload_glue_assets(s3, job: dict, repo_root: Path = REPO_ROOT) -> list[str]:
    """Upload the Glue job's script and package zip where its definition points; returns what was uploaded.

    Sources not written yet are skipped (the DAG uploads them again before each run).
    """
    from local_stack.glue_runner import split_s3_uri

    uploaded = []
    script = repo_root / GLUE_SCRIPT_SOURCE
    if script.is_file():
        location = job["Command"]["ScriptLocation"]
        bucket, key = split_s3_uri(location)
        s3.put_object(Bucket=bucket, Key=key, Body=script.read_bytes())
        uploaded.append(location)
    package = repo_root / GLUE_PACKAGE_SOURCE
    if package.is_dir():
        _dags_on_path(repo_root)
        from imdb_pipeline.glue_package import build_zip

        location = job["DefaultArguments"]["--extra-py-files"]
        bucket, key = split_s3_uri(location)
        s3.put_object(Bucket=bucket, Key=key, Body=build_zip(package))
        uploaded.append(location)
    return uploaded


def provision_warehouse(dsn: str, repo_root: Path = REPO_ROOT) -> int:
    """Apply the warehouse DDL (PostgreSQL dialect) from the DAG's warehouse module; returns statements run."""
    import psycopg2

    _dags_on_path(repo_root)
    from imdb_pipeline.warehouse import ddl_statements

    statements = list(ddl_statements("postgres"))
    connection = psycopg2.connect(dsn)
    try:
        with connection, connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)
    finally:
        connection.close()
    return len(statements)


def main(argv: list[str] | None = None) -> int:
    """`python -m local_stack.provision`: provision an already running emulator (and warehouse)."""
    import argparse

    from local_stack.settings import REGION

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--endpoint-url", required=True, help="the AWS emulator, e.g. http://emulator:5055")
    parser.add_argument("--region", default=REGION)
    parser.add_argument("--warehouse-dsn", help="libpq URI of the warehouse database; DDL is skipped without it")
    options = parser.parse_args(argv)
    outputs = provision_aws(options.endpoint_url, options.region)
    if options.warehouse_dsn:
        outputs["warehouse_ddl_statements"] = provision_warehouse(options.warehouse_dsn)
    print(json.dumps(outputs, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
