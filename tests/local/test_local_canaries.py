"""Canaries for every moto internal ``local/moto_seams.py`` bends: each still has the shape relied on, and
the gap each patch closes is still open (so the patch is still needed)."""

from __future__ import annotations

import inspect
import json
import re
import time
from importlib import metadata
from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.s3 import models as s3_models
from moto.s3 import notifications as s3_notifications
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)

from local.moto_seams import MOTO_CONFIG, PATCHED, LambdaReply, patched_moto

REGION = "eu-west-1"
PROJECT_DIR = Path(__file__).resolve().parents[2]


def test_moto_is_the_pinned_release() -> None:
    # The seams were written against the release local/requirements.txt pins (the test kits install it too).
    pins = re.findall(r"^moto\[\w+\]==(\S+)$", (PROJECT_DIR / "local" / "requirements.txt").read_text(), re.MULTILINE)
    assert pins == [metadata.version("moto")]


def test_the_patched_attributes_are_the_three_below() -> None:
    assert set(PATCHED) == {
        (LambdaSimpleBackend, "invoke"),
        (StateTaskServiceSfn, "_normalise_parameters"),
        (s3_notifications, "send_event"),
    }


def parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def run_unpatched(definition: dict[str, Any], child: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run a definition on moto's interpreter with none of the patches."""
    with mock_aws(config=MOTO_CONFIG):
        iam = boto3.client("iam", region_name=REGION)
        sfn = boto3.client("stepfunctions", region_name=REGION)
        role = iam.create_role(RoleName="canary", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        if child is not None:
            sfn.create_state_machine(name="child", definition=json.dumps(child), roleArn=role)
        arn = sfn.create_state_machine(name="canary", definition=json.dumps(definition), roleArn=role)[
            "stateMachineArn"
        ]
        execution = sfn.start_execution(stateMachineArn=arn, name="canary", input="{}")["executionArn"]
        for _ in range(500):
            described = sfn.describe_execution(executionArn=execution)
            if described["status"] != "RUNNING":
                return dict(described)
            time.sleep(0.01)
        raise AssertionError("the canary execution did not finish")


def _invoke(client: object) -> bytes:
    iam = boto3.client("iam", region_name=REGION)
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client.create_function(
        FunctionName="f", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": b"zip"}
    )
    response = client.invoke(FunctionName="f", Payload=json.dumps({"n": 1}))
    return bytes(response["Payload"].read())


def test_without_the_patch_moto_lambda_runs_no_code_and_with_it_the_dispatcher_answers() -> None:
    with mock_aws(config=MOTO_CONFIG):
        client = boto3.client("lambda", region_name=REGION)
        assert b"from-dispatcher" not in _invoke(client)
    with (
        mock_aws(config=MOTO_CONFIG),
        patched_moto(
            dispatch=lambda name, payload: LambdaReply(b'"from-dispatcher"'),
            s3_event_sink=lambda event: None,
            eventbridge_buckets=frozenset(),
        ),
    ):
        client = boto3.client("lambda", region_name=REGION)
        assert _invoke(client) == b'"from-dispatcher"'
    assert LambdaSimpleBackend.invoke is not None  # restored on exit


# END


# ---- Lambda --------------------------------------------------------------------------------------------


def test_lambda_simple_invoke_still_echoes_instead_of_running_code() -> None:
    assert parameters(LambdaSimpleBackend.invoke) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]
    backend = LambdaSimpleBackend(REGION, "123456789012")
    assert backend.invoke("any-function", None, '{"echo": true}', {}, {}) == b'{"echo": true}'


# ---- Step Functions: startExecution parameters ---------------------------------------------------------


def test_sfn_parameter_normalisation_is_still_a_no_op() -> None:
    assert parameters(StateTaskServiceSfn._normalise_parameters) == [
        "self",
        "parameters",
        "boto_service_name",
        "service_action_name",
    ]
    assert "_get_boto_service_action" in vars(type(StateTaskServiceSfn)) or hasattr(
        StateTaskServiceSfn, "_get_boto_service_action"
    )
    child = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}
    child_arn = f"arn:aws:states:{REGION}:123456789012:stateMachine:child"
    parent = {
        "StartAt": "Start",
        "States": {
            "Start": {
                "Type": "Task",
                "Resource": "arn:aws:states:::states:startExecution",
                "Parameters": {"StateMachineArn": child_arn, "Name": "run-1", "Input": {"a": 1}},
                "End": True,
            }
        },
    }

    described = run_unpatched(parent, child)

    # Unpatched, StateMachineArn/Name/Input reach botocore as they are and the call fails. When this
    # passes, moto maps them itself: drop normalise_sfn_parameters from local.moto_seams.
    assert described["status"] == "FAILED"
    assert "StateMachineArn" in (described.get("cause") or ""), described


# ---- S3 → EventBridge ----------------------------------------------------------------------------------


def test_s3_notifications_are_sent_through_the_module_function() -> None:
    assert s3_models.notifications is s3_notifications
    assert parameters(s3_notifications.send_event) == ["account_id", "event_name", "bucket", "key"]
    assert "notifications.send_event(" in inspect.getsource(s3_models.FakeBucket) + inspect.getsource(
        s3_models.S3Backend.put_object
    )


def test_motos_own_s3_eventbridge_event_still_differs_from_s3s() -> None:
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        sqs = boto3.client("sqs", region_name=REGION)
        events = boto3.client("events", region_name=REGION)
        queue = sqs.create_queue(QueueName="canary")["QueueUrl"]
        events.put_rule(Name="all", EventPattern=json.dumps({"source": ["aws.s3"]}))
        events.put_targets(Rule="all", Targets=[{"Id": "q", "Arn": f"arn:aws:sqs:{REGION}:123456789012:canary"}])
        s3.create_bucket(Bucket="canary-bucket", CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_notification_configuration(
            Bucket="canary-bucket", NotificationConfiguration={"EventBridgeConfiguration": {}}
        )
        s3.put_object(Bucket="canary-bucket", Key="a.json", Body=b"{}")
        s3.put_object(Bucket="canary-bucket", Key="b.json", Body=b"{}")
        bodies = [
            json.loads(m["Body"]) for m in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        ]

    # S3 gives every event its own id, spells "etag" and names the API in "reason" (S3 user guide,
    # "EventBridge event message structure"). When these fail, moto matches S3: drop the S3 sink patch.
    assert len({body["id"] for body in bodies}) == 1 < len(bodies)
    assert "eTag" in bodies[0]["detail"]["object"]
    assert bodies[0]["detail"]["reason"] == "ObjectCreated"
