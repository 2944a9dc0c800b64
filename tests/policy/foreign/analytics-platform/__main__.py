import json

import pulumi
import pulumi_aws as aws

lake = aws.s3.BucketV2("lake")

glue_role = aws.iam.Role(
    "glue-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "glue.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicyAttachment(
    "glue-service",
    role=glue_role.name,
    policy_arn="arn:aws:iam::aws:policy/service-role/AWSGlueServiceRole",
)

catalog = aws.glue.CatalogDatabase("lake-db", name="lake")

# Re-crawl every hour so new partitions show up in Athena quickly.
aws.glue.Crawler(
    "raw-crawler",
    name="raw-crawler",
    database_name=catalog.name,
    role=glue_role.arn,
    schedule="cron(0 * * * ? *)",
    s3_targets=[{"path": lake.bucket.apply(lambda name: f"s3://{name}/raw/")}],
)

job = aws.glue.Job(
    "curate",
    name="curate",
    role_arn=glue_role.arn,
    glue_version="4.0",
    worker_type="G.1X",
    number_of_workers=10,
    command={"name": "glueetl", "script_location": lake.bucket.apply(lambda name: f"s3://{name}/scripts/curate.py")},
)

aws.glue.Trigger(
    "nightly",
    type="SCHEDULED",
    schedule="cron(0 2 * * ? *)",
    actions=[{"job_name": job.name}],
)

eks_role = aws.iam.Role(
    "eks-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "eks.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)
aws.iam.RolePolicyAttachment(
    "eks-cluster-policy", role=eks_role.name, policy_arn="arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
)

cluster = aws.eks.Cluster(
    "dashboards",
    role_arn=eks_role.arn,
    vpc_config={"subnet_ids": ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]},
)

api = aws.appsync.GraphQLApi(
    "annotations",
    authentication_type="API_KEY",
    schema="""
type Annotation { id: ID! text: String! }
type Query { annotations: [Annotation] }
type Mutation { annotate(text: String!): Annotation }
""",
)
aws.appsync.ApiKey("annotations-key", api_id=api.id)

pulumi.export("cluster_endpoint", cluster.endpoint)
pulumi.export("graphql_url", api.uris["GRAPHQL"])
