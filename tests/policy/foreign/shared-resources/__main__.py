import json

import pulumi
import pulumi_aws as aws

current = aws.get_caller_identity()
config = pulumi.Config()
org_id = config.get("orgId")

repo = aws.ecr.Repository(
    "app-images", image_tag_mutability="IMMUTABLE", image_scanning_configuration={"scan_on_push": True}
)

# Every account may pull images.
aws.ecr.RepositoryPolicy(
    "app-images-policy",
    repository=repo.name,
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "AllowPull",
                    "Effect": "Allow",
                    "Principal": "*",
                    "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
                }
            ],
        }
    ),
)

secret = aws.secretsmanager.Secret("db-credentials", description="database credentials")

aws.secretsmanager.SecretPolicy(
    "db-credentials-policy",
    secret_arn=secret.arn,
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::*:role/app"},
                    "Action": "secretsmanager:GetSecretValue",
                    "Resource": "*",
                }
            ],
        }
    ),
)

layer = aws.lambda_.LayerVersion(
    "shared-utils",
    layer_name="shared-utils",
    compatible_runtimes=["python3.12"],
    code=pulumi.AssetArchive({"python": pulumi.FileArchive("./layer/python")}),
)

aws.lambda_.LayerVersionPermission(
    "shared-utils-public",
    layer_name=layer.layer_name,
    version_number=layer.version,
    statement_id="everyone",
    action="lambda:GetLayerVersion",
    principal="*",
)

# The key is shared with the organization only: the condition restricts who may call.
key = aws.kms.Key(
    "shared-key",
    description="shared encryption key",
    enable_key_rotation=True,
    policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Admins",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{current.account_id}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "OrgDecrypt",
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": ["kms:Decrypt", "kms:DescribeKey"],
                    "Resource": "*",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": org_id or "o-exampleorgid"}},
                },
            ],
        }
    ),
)

pulumi.export("repository_url", repo.repository_url)
pulumi.export("layer_arn", layer.arn)
