import json

import pulumi
import pulumi_aws as aws

assume_lambda = aws.iam.get_policy_document(
    statements=[
        {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["lambda.amazonaws.com"]}]}
    ]
)
assume_states = aws.iam.get_policy_document(
    statements=[
        {"actions": ["sts:AssumeRole"], "principals": [{"type": "Service", "identifiers": ["states.amazonaws.com"]}]}
    ]
)

topic = aws.sns.Topic("workflow-results", kms_master_key_id="alias/aws/sns")
subscriber_dlq = aws.sqs.Queue("subscriber-dlq")
subscriber_queue = aws.sqs.Queue(
    "subscriber-queue",
    redrive_policy=subscriber_dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn, "maxReceiveCount": 5})),
)

aws.sns.TopicSubscription(
    "results-to-queue",
    topic=topic.arn,
    protocol="sqs",
    endpoint=subscriber_queue.arn,
    redrive_policy=subscriber_dlq.arn.apply(lambda arn: json.dumps({"deadLetterTargetArn": arn})),
)

# SNS may deliver to the subscriber queue, and (by mistake) EventBridge to the subscription's DLQ.
for name, queue, service in (
    ("subscriber-queue-policy", subscriber_queue, "sns.amazonaws.com"),
    ("subscriber-dlq-policy", subscriber_dlq, "events.amazonaws.com"),
):
    aws.sqs.QueuePolicy(
        name,
        queue_url=queue.id,
        policy=pulumi.Output.all(queue.arn, topic.arn).apply(
            lambda args, service=service: (
                aws.iam.get_policy_document(
                    statements=[
                        {
                            "actions": ["sqs:SendMessage"],
                            "resources": [args[0]],
                            "principals": [{"type": "Service", "identifiers": [service]}],
                            "conditions": [{"test": "ArnEquals", "variable": "aws:SourceArn", "values": [args[1]]}],
                        }
                    ]
                ).json
            )
        ),
    )

lambda_role = aws.iam.Role("lambda-role", assume_role_policy=assume_lambda.json)
aws.iam.RolePolicyAttachment(
    "lambda-logs",
    role=lambda_role.name,
    policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
)

functions = {}
for handler in ("hello", "world"):
    functions[handler] = aws.lambda_.Function(
        f"{handler}-function",
        role=lambda_role.arn,
        runtime="python3.11",
        handler=f"hello.{handler}",
        memory_size=128,
        timeout=10,
        tracing_config={"mode": "Active"},
        code=pulumi.AssetArchive({".": pulumi.FileArchive("./functions")}),
    )

sfn_role = aws.iam.Role("sfn-role", assume_role_policy=assume_states.json)
aws.iam.RolePolicy(
    "sfn-policy",
    role=sfn_role.id,
    policy=pulumi.Output.all(functions["hello"].arn, functions["world"].arn, topic.arn).apply(
        lambda arns: (
            aws.iam.get_policy_document(
                statements=[
                    {"actions": ["lambda:InvokeFunction"], "resources": [arns[0], arns[1]]},
                    {"actions": ["sns:Publish"], "resources": [arns[2]]},
                ]
            ).json
        )
    ),
)

state_machine = aws.sfn.StateMachine(
    "hello-world",
    role_arn=sfn_role.arn,
    tracing_configuration={"enabled": True},
    definition=pulumi.Output.all(functions["hello"].arn, functions["world"].arn, topic.arn).apply(
        lambda arns: json.dumps(
            {
                "Comment": "Hello World",
                "StartAt": "Hello",
                "States": {
                    "Hello": {"Type": "Task", "Resource": arns[0], "Next": "World"},
                    "World": {"Type": "Task", "Resource": arns[1], "Next": "Notify"},
                    "Notify": {
                        "Type": "Task",
                        "Resource": "arn:aws:states:::sns:publish",
                        "Parameters": {"TopicArn": arns[2], "Message.$": "$.message"},
                        "End": True,
                    },
                },
            }
        )
    ),
)

pulumi.export("state_machine_arn", state_machine.id)
