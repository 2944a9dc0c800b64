"""IAM and resource policies: no wildcard actions, no anonymous principals without a condition."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, Props, ResourceRule, iter_json_statements

ROLE: Final = "aws:iam/role:Role"
POLICY: Final = "aws:iam/policy:Policy"
ROLE_POLICY: Final = "aws:iam/rolePolicy:RolePolicy"
USER_POLICY: Final = "aws:iam/userPolicy:UserPolicy"
GROUP_POLICY: Final = "aws:iam/groupPolicy:GroupPolicy"

SERVICE: Final = "iam"

# Resource types whose ``policy`` input is a resource-based policy document, and the ones with other keys.
_RESOURCE_POLICY_PATHS: Final[Mapping[str, tuple[str, ...]]] = {
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:sqs/queue:Queue": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:sns/topic:Topic": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:cloudwatch/eventBusPolicy:EventBusPolicy": ("policy",),
    "aws:kms/key:Key": ("policy",),
    ROLE: ("assumeRolePolicy",),
}
EVENT_PERMISSION: Final = "aws:cloudwatch/eventPermission:EventPermission"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def wildcard_actions(document: Any, allowed: frozenset[str] = frozenset()) -> list[str]:
    """The ``*`` and ``service:*`` actions (and ``NotAction``) that Allow statements of a policy grant.

    Parameters
    ----------
    document:
        A parsed IAM policy document.
    allowed:
        Wildcard actions the caller accepts (e.g. ``xray:*``).
    """
    found: list[str] = []
    for statement in iter_json_statements(document):
        if statement.get("Effect") != "Allow":
            continue
        if "NotAction" in statement:
            found.append(f"NotAction {statement['NotAction']!r}")
        for action in _as_list(statement.get("Action")):
            if isinstance(action, str) and (action == "*" or action.endswith(":*")) and action not in allowed:
                found.append(repr(action))
    return found


def public_statements(document: Any) -> list[str]:
    """Sids (or positions) of Allow statements granting ``*`` (anyone) with no ``Condition``."""
    found: list[str] = []
    for index, statement in enumerate(iter_json_statements(document)):
        if statement.get("Effect") != "Allow" or statement.get("Condition"):
            continue
        principal = statement.get("Principal")
        anyone = principal == "*" or (isinstance(principal, Mapping) and "*" in _as_list(principal.get("AWS")))
        if anyone:
            found.append(str(statement.get("Sid") or f"statement {index}"))
    return found


def _policy_documents(props: Props, resource_type: str) -> Iterator[tuple[str, Any]]:
    if resource_type == ROLE:
        for index, inline in enumerate(props.each("inlinePolicies")):
            document = inline.json("policy")
            if document is not ABSENT:
                yield f"inlinePolicies[{index}].policy", document
        return
    document = props.json("policy")
    if document is not ABSENT:
        yield "policy", document


def _no_wildcard_actions(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    allowed = frozenset(config["allowedWildcardActions"])
    for path, document in _policy_documents(props, resource_type):
        actions = wildcard_actions(document, allowed)
        if actions:
            yield f"{path} allows {', '.join(actions)}: grant the specific actions the code calls"


def _no_public_principal(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == EVENT_PERMISSION:
        if props.text("principal", "") == "*" and not props.has("condition"):
            yield "principal is '*' with no condition: any AWS account can put events on this bus"
        return
    for path in _RESOURCE_POLICY_PATHS.get(resource_type, ()):
        document = props.json(path)
        if document is ABSENT:
            continue
        statements = public_statements(document)
        if statements:
            yield (
                f"{path} allows anyone ('*' principal) with no Condition in {', '.join(statements)}: "
                "name the principals, or scope with aws:SourceArn, aws:SourceAccount or aws:PrincipalOrgID"
            )


RULES: Final = [
    ResourceRule(
        name="iam-no-wildcard-actions",
        summary="IAM policies grant named actions: no '*' or 'service:*' action, no Allow with NotAction",
        anchors=(
            "serverless-rules WS1003 / aws_iam_role_lambda_no_star",
            "cdk-nag Serverless-LambdaStarPermissions",
            "cdk-nag AwsSolutions-IAM5 (actions)",
            "checkov CKV_AWS_63",
            "checkov CKV_AWS_62",
            "Pulumi BP iam-role-least-privilege, iam-policy-least-privilege",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(ROLE, POLICY, ROLE_POLICY, USER_POLICY, GROUP_POLICY),
        check=_no_wildcard_actions,
        config={"allowedWildcardActions": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    ResourceRule(
        name="resource-policy-no-public-principal",
        summary=(
            "Resource and trust policies never allow the '*' principal without a Condition "
            "(queues, topics, buckets, event buses, KMS keys, role trust policies)"
        ),
        anchors=(
            "checkov CKV_AWS_168",
            "checkov CKV_AWS_169",
            "checkov CKV_AWS_70",
            "checkov CKV_AWS_33",
            "checkov CKV_AWS_60",
            "cdk-nag AwsSolutions-EVB1",
            "Pulumi BP pubsub-least-privilege-iam, s3-bucket-least-privilege",
        ),
        severity=Severity.CRITICAL,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(*_RESOURCE_POLICY_PATHS, EVENT_PERMISSION),
        check=_no_public_principal,
    ),
]
