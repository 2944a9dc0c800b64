import json

import pulumi
import pulumi_aws as aws

bus = aws.cloudwatch.EventBus("orders-bus")

dlq = aws.sqs.Queue("orders-dlq", message_retention_seconds=1209600)

# The buffer queue; the redrive policy was left as a placeholder.
queue = aws.sqs.Queue("orders-queue", visibility_timeout_seconds=180, redrive_policy="{}")

rule = aws.cloudwatch.EventRule(
    "order-placed",
    event_bus_name=bus.name,
    event_pattern=json.dumps({"source": ["shop.orders"], "detail-type": ["OrderPlaced"]}),
)

aws.cloudwatch.EventTarget(
    "order-placed-to-queue",
    rule=rule.name,
    event_bus_name=bus.name,
    arn=queue.arn,
    dead_letter_config={"arn": dlq.arn},
    retry_policy={"maximum_retry_attempts": 4, "maximum_event_age_in_seconds": 3600},
)

# EventBridge may send to the buffer queue; nothing admits it to the dead-letter queue.
aws.sqs.QueuePolicy(
    "orders-queue-policy",
    queue_url=queue.id,
    policy=pulumi.Output.all(queue.arn, rule.arn).apply(
        lambda args: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": args[0],
                        "Condition": {"ArnEquals": {"aws:SourceArn": args[1]}},
                    }
                ],
            }
        )
    ),
)

role = aws.iam.Role(
    "consumer-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
)

aws.iam.RolePolicy(
    "consumer-policy",
    role=role.id,
    policy=queue.arn.apply(
        lambda arn: json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
                        "Resource": arn,
                    },
                    {"Effect": "Allow", "Action": ["dynamodb:PutItems", "dynamodb:GetItem"], "Resource": "*"},
                    {
                        "Effect": "Allow",
                        "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                        "Resource": "arn:aws:logs:*:*:*",
                    },
                ],
            }
        )
    ),
)

# An admin role for the operators' scripts.
ops_role = aws.iam.Role(
    "ops-role",
    assume_role_policy=json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "sts:AssumeRole"}
            ],
        }
    ),
    managed_policy_arns=["arn:aws:iam::aws:policy/AdministratorAccess"],
)

consumer = aws.lambda_.Function(
    "consumer",
    role=role.arn,
    runtime="python3.12",
    handler="main.handler",
    memory_size=256,
    timeout=30,
    reserved_concurrent_executions=5,
    code=pulumi.AssetArchive({".": pulumi.FileArchive("./consumer")}),
    logging_config={"log_format": "JSON"},
)

aws.cloudwatch.LogGroup("consumer-logs", name=consumer.name.apply(lambda n: f"/aws/lambda/{n}"), retention_in_days=7)

aws.lambda_.EventSourceMapping(
    "consumer-source",
    event_source_arn=queue.arn,
    function_name=consumer.arn,
    batch_size=10,
    function_response_types=["ReportBatchItemFailures"],
    scaling_config={"maximum_concurrency": 5},
)

# Failures of asynchronous invocations go to the DLQ, but the role may not send there.
aws.lambda_.FunctionEventInvokeConfig(
    "consumer-async",
    function_name=consumer.name,
    maximum_retry_attempts=1,
    destination_config={"on_failure": {"destination": dlq.arn}},
)

pulumi.export("bus", bus.name)
pulumi.export("queue_url", queue.url)
