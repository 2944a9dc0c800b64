"""AWS IoT Core: topic rules have an error action (the IoT counterpart of a DLQ)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import CannotEvaluateError, Props, ResourceRule

TOPIC_RULE: Final = "aws:iot/topicRule:TopicRule"
IOT_AUTHORIZER: Final = "aws:iot/authorizer:Authorizer"

SERVICE: Final = "iot"


def _error_action(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.is_set("errorAction"):
        action_keys: list[str] = []
    else:
        try:
            action = props.child("errorAction")
            action_keys = [key for key in action.raw if props.is_set(f"errorAction.{key}")]
        except CannotEvaluateError:  # an unknown object: set, so presence is decided
            action_keys = ["unknown"]
    if not action_keys:
        yield (
            "errorAction is not set: messages whose actions fail are dropped; send them to SQS, SNS, "
            "CloudWatch Logs or S3"
        )


RULES: Final = [
    ResourceRule(
        name="iot-topic-rule-error-action",
        summary="IoT topic rules have an error action for messages their actions fail to deliver",
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(TOPIC_RULE,),
        check=_error_action,
    ),
]
