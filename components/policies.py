"""Pure builders for IAM and resource-policy documents shared by the components.

Nothing here imports Pulumi: every function takes and returns plain data (values may be Pulumi
``Output`` objects, which ``pulumi.Output.json_dumps`` later resolves), so each is tested on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

POLICY_VERSION = "2012-10-17"

# Actions AWS only authorises on "*": they have no resource-level permissions (Service Authorization
# Reference). Step Functions delivers logs through CloudWatch Logs' vended-log API, and X-Ray uploads
# segments, with these.
LOG_DELIVERY_ACTIONS: Final = (
    "logs:CreateLogDelivery",
    "logs:GetLogDelivery",
    "logs:UpdateLogDelivery",
    "logs:DeleteLogDelivery",
    "logs:ListLogDeliveries",
    "logs:PutResourcePolicy",
    "logs:DescribeResourcePolicies",
    "logs:DescribeLogGroups",
)
TRACING_ACTIONS: Final = (
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
    "xray:GetSamplingRules",
    "xray:GetSamplingTargets",
)
ACTIONS_WITHOUT_RESOURCE_TYPES: Final = frozenset(
    {*LOG_DELIVERY_ACTIONS, *TRACING_ACTIONS, "iot:DescribeEndpoint", "cloudwatch:PutMetricData"}
)


class PolicyStatementError(ValueError):
    """A policy statement grants more than least privilege allows."""


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]


def validate_statements(statements: Sequence[Mapping[str, Any]], owner: str) -> None:
    """Reject statements with wildcard actions, or a ``*`` resource where AWS offers a narrower one.

    Parameters
    ----------
    statements:
        IAM statements (``Effect``/``Action``/``Resource``); resources may be Pulumi outputs.
    owner:
        Name of the resource the policy belongs to, used in the error message.

    Raises
    ------
    PolicyStatementError
        Naming the owner and the offending action or resource.
    """
    for index, statement in enumerate(statements):
        actions = _as_list(statement.get("Action", []))
        if not actions:
            raise PolicyStatementError(f"{owner}: statement {index} has no Action")
        for action in actions:
            if not isinstance(action, str):
                raise PolicyStatementError(f"{owner}: statement {index} has a non-literal action {action!r}")
            if "*" in action:
                raise PolicyStatementError(f"{owner}: statement {index} uses wildcard action {action!r}")
        if statement.get("Effect", "Allow") != "Allow":
            continue
        resources = _as_list(statement.get("Resource", []))
        if "*" in resources:
            broad = [a for a in actions if a not in ACTIONS_WITHOUT_RESOURCE_TYPES]
            if broad:
                raise PolicyStatementError(
                    f"{owner}: statement {index} grants {', '.join(broad)} on '*'; name the resources instead"
                )


def policy_document(statements: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Wrap statements in a policy document."""
    return {"Version": POLICY_VERSION, "Statement": [dict(s) for s in statements]}


def assume_role_policy(service: str, *, source_account: str | None = None) -> dict[str, Any]:
    """Trust policy letting one AWS service assume a role.

    Parameters
    ----------
    service:
        Service principal, e.g. ``lambda.amazonaws.com``.
    source_account:
        When given, the trust is limited to calls made on behalf of this account (confused-deputy
        protection, as AWS recommends for ``states`` and ``events``).
    """
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": "sts:AssumeRole",
    }
    if source_account is not None:
        statement["Condition"] = {"StringEquals": {"aws:SourceAccount": source_account}}
    return policy_document([statement])


def deny_insecure_transport(actions: str | list[str], resources: Sequence[Any]) -> dict[str, Any]:
    """Statement denying every request not made over TLS (``aws:SecureTransport`` false)."""
    return {
        "Sid": "DenyInsecureTransport",
        "Effect": "Deny",
        "Principal": "*",
        "Action": actions,
        "Resource": list(resources) if len(resources) > 1 else resources[0],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }


def allow_service_from_source(
    sid: str, service: str, actions: str | list[str], resource: Any, source_arn: Any
) -> dict[str, Any]:
    """Statement letting an AWS service act on a resource only on behalf of one source ARN."""
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"Service": service},
        "Action": actions,
        "Resource": resource,
        "Condition": {"ArnEquals": {"aws:SourceArn": source_arn}},
    }


def destination_send_statement(destination_arn: Any, service: str) -> dict[str, Any]:
    """Statement letting a Lambda role deliver to an on-failure destination of the given service.

    Parameters
    ----------
    destination_arn:
        ARN of the SQS queue, SNS topic, Lambda function or event bus.
    service:
        ``sqs``, ``sns``, ``lambda`` or ``events`` (the ARN's service, known before the ARN resolves).
    """
    action = {
        "sqs": "sqs:SendMessage",
        "sns": "sns:Publish",
        "lambda": "lambda:InvokeFunction",
        "events": "events:PutEvents",
    }.get(service)
    if action is None:
        raise ValueError(f"unsupported on-failure destination service {service!r}")
    return {"Sid": "DeliverFailedInvocations", "Effect": "Allow", "Action": action, "Resource": destination_arn}
