"""infra/imdb-pipeline.yaml rendered without an account: every `Ref`/`Fn::GetAtt` of a resource gets a
stable placeholder shaped as AWS shapes it (names for buckets and roles, ARNs for the rest)."""

from local_stack.resources import Resolver, load_template

REGION, ACCOUNT = "eu-west-1", "111122223333"
AWS_PARAMETERS = {
    "Deployment": "aws",
    "DataBucketName": "acme-imdb-data",
    "ArtifactsBucketName": "acme-imdb-artifacts",
    "VpcId": "vpc-0123456789abcdef0",
    "AirflowSubnetIds": "subnet-00000000000000001,subnet-00000000000000002",
    "WarehouseSubnetIds": "subnet-00000000000000001,subnet-00000000000000002,subnet-00000000000000003",
    "EnableQuickSight": "true",
    "QuickSightPrincipalArn": f"arn:aws:quicksight:{REGION}:{ACCOUNT}:user/default/analyst",
}


def render(parameters: dict | None = None, template: dict | None = None) -> Resolver:
    template = template or load_template()
    resources = template["Resources"]

    def name(logical_id: str) -> str:
        properties = resources[logical_id].get("Properties", {})
        for name_property in ("BucketName", "RoleName", "QueueName", "TopicName", "Name"):
            if isinstance(properties.get(name_property), (str, dict)):
                return resolver.resolve(properties[name_property])
        return f"{logical_id.lower()}-id"

    def ref(logical_id: str) -> str:
        resource_type = resources[logical_id]["Type"]
        if resource_type == "AWS::SNS::Topic":
            return f"arn:aws:sns:{REGION}:{ACCOUNT}:{name(logical_id)}"
        if resource_type == "AWS::SQS::Queue":
            return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name(logical_id)}"
        return name(logical_id)

    def get_att(logical_id: str, attribute: str) -> str:
        resource_type = resources[logical_id]["Type"]
        if resource_type == "AWS::S3::Bucket" and attribute == "Arn":
            return f"arn:aws:s3:::{name(logical_id)}"
        if resource_type == "AWS::IAM::Role" and attribute == "Arn":
            return f"arn:aws:iam::{ACCOUNT}:role/{name(logical_id)}"
        if resource_type == "AWS::SQS::Queue":
            return f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name(logical_id)}"
        service = resource_type.split("::")[1].lower()
        return f"arn:aws:{service}:{REGION}:{ACCOUNT}:{logical_id.lower()}/{attribute}"

    resolver = Resolver(template, parameters if parameters is not None else AWS_PARAMETERS,
                        {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "AWS::StackName": "imdb"}, ref, get_att)
    return resolver
