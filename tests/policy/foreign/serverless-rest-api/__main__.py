"""An AWS Python Pulumi program: a static page and a Lambda endpoint served by an API Gateway REST API."""

import json

import pulumi
import pulumi_aws as aws
import pulumi_aws_apigateway as apigateway

# The function's execution role: it may write its own logs, nothing else.
role = aws.iam.Role(
    "role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Action": "sts:AssumeRole",
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                }
            ],
        }
    ),
    managed_policy_arns=[aws.iam.ManagedPolicy.AWS_LAMBDA_BASIC_EXECUTION_ROLE],
)

# Answers GET /date with the server's time.
fn = aws.lambda_.Function(
    "fn",
    runtime="python3.12",
    handler="handler.handler",
    role=role.arn,
    code=pulumi.FileArchive("./function"),
)

# The API serves the www folder at / and the function at /date.
api = apigateway.RestAPI(
    "api",
    routes=[
        apigateway.RouteArgs(path="/", local_path="www"),
        apigateway.RouteArgs(path="/date", method=apigateway.Method.GET, event_handler=fn),
    ],
)

pulumi.export("url", api.url)
