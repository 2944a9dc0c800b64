import json

import pulumi
import pulumi_aws as aws

region = aws.get_region()
account = aws.get_caller_identity()

role = aws.iam.Role(
    "pingRole",
    assume_role_policy=aws.iam.get_policy_document(
        statements=[
            {
                "actions": ["sts:AssumeRole"],
                "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}],
            }
        ]
    ).json,
)

log_group = aws.cloudwatch.LogGroup("pingLogs", name="/aws/lambda/ping", retention_in_days=14)

aws.iam.RolePolicy(
    "pingLogging",
    role=role.id,
    policy=log_group.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": f"{arn}:*",
                    }
                ],
            }
        )
    ),
)

fn = aws.lambda_.Function(
    "ping",
    name="ping",
    role=role.arn,
    runtime="python3.13",
    handler="index.handler",
    memory_size=128,
    timeout=60,
    code=pulumi.AssetArchive({".": pulumi.FileArchive("./lambda")}),
    logging_config={"log_format": "JSON", "log_group": log_group.name},
)


def openapi(invoke_arn):
    return json.dumps(
        {
            "openapi": "3.0.1",
            "info": {"title": "ping", "version": "1.0"},
            "paths": {
                "/ping": {
                    "get": {
                        "x-amazon-apigateway-integration": {
                            "httpMethod": "POST",
                            "type": "aws_proxy",
                            "uri": invoke_arn,
                        }
                    }
                }
            },
        }
    )


rest_api = aws.apigateway.RestApi("pingApi", body=fn.invoke_arn.apply(openapi))

deployment = aws.apigateway.Deployment(
    "pingDeployment",
    rest_api=rest_api.id,
    triggers={"redeployment": rest_api.body.apply(lambda body: json.dumps(body))},
)

stage = aws.apigateway.Stage(
    "pingStage",
    rest_api=rest_api.id,
    deployment=deployment.id,
    stage_name="v1",
    xray_tracing_enabled=True,
)

aws.apigateway.MethodSettings(
    "pingSettings",
    rest_api=rest_api.id,
    stage_name=stage.stage_name,
    method_path="*/*",
    settings={"metrics_enabled": True, "logging_level": "INFO", "data_trace_enabled": True},
)

aws.lambda_.Permission(
    "pingInvoke",
    action="lambda:InvokeFunction",
    function=fn.name,
    principal="apigateway.amazonaws.com",
    source_arn=rest_api.execution_arn.apply(lambda arn: f"{arn}/*/*"),
)

pulumi.export("url", stage.invoke_url.apply(lambda url: f"{url}/ping"))
