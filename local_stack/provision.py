"""Idempotent provisioning of the pipeline's AWS resources and warehouse from their one description.

moto's CloudFormation skips Glue, queue policies, subscriptions and bucket notifications, so
each resource is applied through its API: create if missing, otherwise bring it to the description.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from local_stack.resources import load_resources
from local_stack.settings import DUMMY_ACCESS_KEY_ID, DUMMY_SECRET_ACCESS_KEY, REPO_ROOT


def aws_client(service: str, endpoint_url: str, region: str):
    import boto3

    return boto3.client(service, endpoint_url=endpoint_url, region_name=region,
                        aws_access_key_id=DUMMY_ACCESS_KEY_ID, aws_secret_access_key=DUMMY_SECRET_ACCESS_KEY)


def provision_aws(endpoint_url: str, region: str, resources: dict | None = None,
                  repo_root: Path = REPO_ROOT) -> dict:
    """Apply every AWS resource; return the names, URLs and ARNs other tools need."""
    resources = resources or load_resources()

    def client(service: str):
        return aws_client(service, endpoint_url, region)

    bucket = _ensure_bucket(client("s3"), resources["bucket"])
    sqs = client("sqs")
    raw_queue = _ensure_raw_events_queue(sqs, resources["raw_events_queue"])
    rule_arn = _ensure_rule(client("events"), resources["raw_csv_rule"], raw_queue["arn"])
    _allow_sender(sqs, raw_queue, "events.amazonaws.com", rule_arn)
    topic_arn, observer = _ensure_topic_with_observer(client("sns"), sqs, resources["notifications_topic"])
    role_arn = _ensure_role(client("iam"), resources["glue_role"])
    uploaded = upload_glue_assets(client("s3"), resources["glue_job"], repo_root)
    _ensure_glue_job(client("glue"), resources["glue_job"], resources["glue_role"]["name"])
    parameters = resources["parameters"]
    return {
        "bucket": bucket,
        "raw_prefix": parameters["raw_prefix"],
        "processed_prefix": parameters["processed_prefix"],
        "glue_assets_prefix": parameters["glue_assets_prefix"],
        "raw_events_queue_url": raw_queue["url"],
        "raw_events_dead_letter_queue_url": raw_queue["dead_letter_url"],
        "raw_csv_rule_arn": rule_arn,
        "notifications_topic_arn": topic_arn,
        "notifications_observer_queue_url": observer,
        "glue_job_name": resources["glue_job"]["name"],
        "glue_role_name": resources["glue_role"]["name"],
        "glue_role_arn": role_arn,
        "glue_assets_uploaded": uploaded,
    }


def _ensure_bucket(s3, spec: dict) -> str:
    existing = {bucket["Name"] for bucket in s3.list_buckets().get("Buckets", [])}
    if spec["name"] not in existing:
        s3.create_bucket(Bucket=spec["name"])
    if spec.get("eventbridge_notifications"):
        s3.put_bucket_notification_configuration(
            Bucket=spec["name"], NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
    return spec["name"]


def _queue_arn(sqs, url: str) -> str:
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]


def _ensure_queue(sqs, name: str, attributes: dict[str, str]) -> dict:
    """Create the queue or, if it exists, set its attributes (CreateQueue refuses changed attributes)."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        url = sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
    else:
        if attributes:
            sqs.set_queue_attributes(QueueUrl=url, Attributes=attributes)
    return {"url": url, "arn": _queue_arn(sqs, url)}


def _ensure_raw_events_queue(sqs, spec: dict) -> dict:
    dead_letter_spec = spec["dead_letter_queue"]
    dead_letter = _ensure_queue(sqs, dead_letter_spec["name"], dead_letter_spec.get("attributes", {}))
    redrive = {"deadLetterTargetArn": dead_letter["arn"],
               "maxReceiveCount": str(dead_letter_spec["max_receive_count"])}
    queue = _ensure_queue(sqs, spec["name"], {**spec.get("attributes", {}), "RedrivePolicy": json.dumps(redrive)})
    return {**queue, "dead_letter_url": dead_letter["url"]}


def _allow_sender(sqs, queue: dict, service_principal: str, source_arn: str) -> None:
    """Queue policy letting one AWS service resource send to the queue (needed on AWS, kept locally)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "allow-" + service_principal.split(".")[0],
            "Effect": "Allow",
            "Principal": {"Service": service_principal},
            "Action": "sqs:SendMessage",
            "Resource": queue["arn"],
            "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
        }],
    }
    sqs.set_queue_attributes(QueueUrl=queue["url"], Attributes={"Policy": json.dumps(policy)})


def _ensure_rule(events, spec: dict, queue_arn: str) -> str:
    rule_arn = events.put_rule(
        Name=spec["name"], Description=spec["description"],
        EventPattern=json.dumps(spec["event_pattern"]), State="ENABLED",
    )["RuleArn"]
    # Only an SQS target: in moto, a rule with another target type stops delivery to every rule.
    events.put_targets(Rule=spec["name"], Targets=[{"Id": spec["target_id"], "Arn": queue_arn}])
    return rule_arn


def _ensure_topic_with_observer(sns, sqs, spec: dict) -> tuple[str, str]:
    topic_arn = sns.create_topic(Name=spec["name"])["TopicArn"]
    observer_spec = spec["observer_queue"]
    observer = _ensure_queue(sqs, observer_spec["name"], {})
    _allow_sender(sqs, observer, "sns.amazonaws.com", topic_arn)
    subscribed = any(
        subscription["Protocol"] == "sqs" and subscription["Endpoint"] == observer["arn"]
        for subscription in sns.list_subscriptions_by_topic(TopicArn=topic_arn)["Subscriptions"]
    )
    if not subscribed:
        sns.subscribe(
            TopicArn=topic_arn, Protocol="sqs", Endpoint=observer["arn"],
            Attributes={"RawMessageDelivery": str(observer_spec["raw_message_delivery"]).lower()},
        )
    return topic_arn, observer["url"]


def _ensure_role(iam, spec: dict) -> str:
    try:
        role_arn = iam.get_role(RoleName=spec["name"])["Role"]["Arn"]
        iam.update_assume_role_policy(RoleName=spec["name"], PolicyDocument=json.dumps(spec["assume_role_policy"]))
    except iam.exceptions.NoSuchEntityException:
        role_arn = iam.create_role(
            RoleName=spec["name"], AssumeRolePolicyDocument=json.dumps(spec["assume_role_policy"])
        )["Role"]["Arn"]
    for policy_arn in spec["managed_policy_arns"]:
        iam.attach_role_policy(RoleName=spec["name"], PolicyArn=policy_arn)
    inline = spec["inline_policy"]
    iam.put_role_policy(RoleName=spec["name"], PolicyName=inline["name"],
                        PolicyDocument=json.dumps(inline["document"]))
    return role_arn


def _dags_on_path(repo_root: Path) -> None:
    """Make the DAG folder's helper package importable, as it is inside Airflow."""
    dags_dir = str(repo_root / "dags")
    if dags_dir not in sys.path:
        sys.path.insert(0, dags_dir)


def upload_glue_assets(s3, job_spec: dict, repo_root: Path = REPO_ROOT) -> list[str]:
    """Upload the job script and its package zip; returns what was uploaded.

    Sources not written yet are skipped (the DAG uploads them again before each run).
    """
    from local_stack.glue_runner import split_s3_uri

    uploaded = []
    script = repo_root / job_spec["script_source"]
    if script.is_file():
        bucket, key = split_s3_uri(job_spec["script_location"])
        s3.put_object(Bucket=bucket, Key=key, Body=script.read_bytes())
        uploaded.append(job_spec["script_location"])
    package = repo_root / job_spec["package_source"]
    if package.is_dir():
        _dags_on_path(repo_root)
        from imdb_pipeline.glue_package import build_zip

        bucket, key = split_s3_uri(job_spec["package_location"])
        s3.put_object(Bucket=bucket, Key=key, Body=build_zip(package))
        uploaded.append(job_spec["package_location"])
    return uploaded


def _ensure_glue_job(glue, spec: dict, role_name: str) -> None:
    definition = {
        "Description": spec["description"],
        "Role": role_name,
        "ExecutionProperty": {"MaxConcurrentRuns": spec["max_concurrent_runs"]},
        "Command": {"Name": "glueetl", "ScriptLocation": spec["script_location"], "PythonVersion": "3"},
        "DefaultArguments": spec["default_arguments"],
        "GlueVersion": spec["glue_version"],
        "WorkerType": spec["worker_type"],
        "NumberOfWorkers": spec["number_of_workers"],
        "Timeout": spec["timeout_minutes"],
    }
    try:
        glue.get_job(JobName=spec["name"])
    except glue.exceptions.EntityNotFoundException:
        glue.create_job(Name=spec["name"], **definition)
    else:
        glue.update_job(JobName=spec["name"], JobUpdate=definition)


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
