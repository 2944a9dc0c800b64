import json

import pulumi
import pulumi_aws as aws

# IAM role for the Lambda function
lambda_role = aws.iam.Role(
    "lambdaRole",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "sts:AssumeRole",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Effect": "Allow",
                    "Sid": "",
                }
            ],
        }
    ),
)

aws.iam.RolePolicyAttachment(
    "lambdaRoleAttachment",
    role=lambda_role.name,
    policy_arn=aws.iam.ManagedPolicy.AWS_LAMBDA_BASIC_EXECUTION_ROLE,
)

# The function; the third-party token is pasted into its environment.
lambda_func = aws.lambda_.Function(
    "helloFunction",
    role=lambda_role.arn,
    runtime="python3.12",
    handler="handler.handler",
    code=pulumi.AssetArchive({".": pulumi.FileArchive("./app")}),
    environment={"variables": {"STAGE": "dev", "SLACK_TOKEN": "xoxb-1234-5678-abcdefghijkl"}},
)

# An HTTP API with quick create: one route, one stage, all made by API Gateway.
api = aws.apigatewayv2.Api(
    "httpApi",
    protocol_type="HTTP",
    route_key="GET /hello",
    target=lambda_func.arn,
)

aws.lambda_.Permission(
    "apiPermission",
    action="lambda:InvokeFunction",
    function=lambda_func.name,
    principal="apigateway.amazonaws.com",
    source_arn=api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
)

pulumi.export("url", api.api_endpoint)
