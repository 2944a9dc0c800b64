"""Canaries for every moto internal ``local/moto_seams.py`` bends: each still has the shape relied on, and
the gap each patch closes is still open (so the patch is still needed)."""

from __future__ import annotations

import inspect
import json
from importlib import metadata

import boto3
from moto import mock_aws
from moto.awslambda_simple.models import LambdaSimpleBackend
from moto.s3 import models as s3_models
from moto.s3 import notifications as s3_notifications
from moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_sfn import (
    StateTaskServiceSfn,
)

from local.moto_seams import MOTO_CONFIG, PATCHED, PINNED_MOTO_VERSION, LambdaReply, patched_moto


def test_moto_is_the_pinned_release() -> None:
    assert metadata.version("moto") == PINNED_MOTO_VERSION


def test_every_patched_attribute_exists_with_the_expected_signature() -> None:
    assert {(owner, name) for owner, name in PATCHED} == {
        (LambdaSimpleBackend, "invoke"),
        (StateTaskServiceSfn, "_normalise_parameters"),
        (s3_notifications, "send_event"),
    }
    assert list(inspect.signature(LambdaSimpleBackend.invoke).parameters) == [
        "self",
        "function_name",
        "qualifier",
        "body",
        "headers",
        "response_headers",
    ]
    assert list(inspect.signature(StateTaskServiceSfn._normalise_parameters).parameters)[:2] == ["self", "parameters"]
    assert list(inspect.signature(s3_notifications.send_event).parameters) == [
        "account_id",
        "event_name",
        "bucket",
        "key",
    ]
    # moto.s3.models reaches send_event through the module, so patching the module's attribute suffices.
    assert s3_models.notifications is s3_notifications


def _invoke(client: object) -> bytes:
    iam = boto3.client("iam", region_name="eu-west-1")
    role = iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    client.create_function(
        FunctionName="f", Runtime="python3.13", Role=role, Handler="app.handler", Code={"ZipFile": b"zip"}
    )
    response = client.invoke(FunctionName="f", Payload=json.dumps({"n": 1}))
    return bytes(response["Payload"].read())


def test_without_the_patch_moto_lambda_runs_no_code_and_with_it_the_dispatcher_answers() -> None:
    with mock_aws(config=MOTO_CONFIG):
        client = boto3.client("lambda", region_name="eu-west-1")
        assert b"from-dispatcher" not in _invoke(client)
    with (
        mock_aws(config=MOTO_CONFIG),
        patched_moto(
            dispatch=lambda name, payload: LambdaReply(b'"from-dispatcher"'),
            s3_event_sink=lambda event: None,
            eventbridge_buckets=frozenset(),
        ),
    ):
        client = boto3.client("lambda", region_name="eu-west-1")
        assert _invoke(client) == b'"from-dispatcher"'
    assert LambdaSimpleBackend.invoke is not None  # restored on exit


def test_moto_still_leaves_start_execution_parameters_unmapped() -> None:
    # The gap the patch closes: moto's hook is a no-op, so ASL names reach botocore unchanged.
    source = inspect.getsource(StateTaskServiceSfn._normalise_parameters)
    assert "StateMachineArn" not in source and "stateMachineArn" not in source
