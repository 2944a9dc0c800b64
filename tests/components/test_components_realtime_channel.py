"""RealtimeChannel: an IoT custom authorizer only IoT may invoke, and a publish grant limited to its topics."""

from __future__ import annotations

from pathlib import Path

from components.realtime_channel import RealtimeChannel, RealtimeChannelArgs
from tests.components.conftest import ACCOUNT, PARTITION, REGION, TAGS, build, worker_function


def channel(handlers: Path, **args: str) -> RealtimeChannel:
    return RealtimeChannel(
        "live", RealtimeChannelArgs(authorizer_function=worker_function(handlers), **args, tags=TAGS)
    )


def test_defaults_a_signing_free_authorizer_invoked_only_by_iot(handlers: Path) -> None:
    built = build(lambda: channel(handlers))

    assert built.component.type == "orderflow:realtime:RealtimeChannel"
    assert built.kinds() == {
        ("aws:iot/authorizer:Authorizer", "live-authorizer"),
        ("aws:lambda/permission:Permission", "live-authorizer-invoke"),
    }
    function = built.run.named("worker-function")
    assert built.inputs("live-authorizer") == {
        "name": "probe_test_live",
        "authorizerFunctionArn": function.outputs["arn"],
        "signingDisabled": True,
        "status": "ACTIVE",
        "enableCachingForHttp": False,
    }
    assert built.inputs("live-authorizer-invoke") == {
        "action": "lambda:InvokeFunction",
        "function": function.outputs["name"],
        "principal": "iot.amazonaws.com",
        "sourceArn": built.child("live-authorizer").outputs["arn"],
    }


def test_publishers_may_publish_only_under_the_topic_prefix(handlers: Path) -> None:
    built = build(lambda: channel(handlers, topic_prefix="updates"))

    statement = built.resource.publisher_statement()
    assert statement["Action"] == "iot:Publish"
    assert built.value(statement["Resource"]) == f"arn:{PARTITION}:iot:{REGION}:{ACCOUNT}:topic/updates/*"
    assert built.value(built.resource.endpoint).endswith(f"-ats.iot.{REGION}.amazonaws.com")
