"""Amazon ECS: no credentials in container environment variables, every container logged, no public task addresses.

``containerDefinitions`` is a JSON string (a list of container definitions); each container is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, BadValueError, CannotEvaluateError, Props, ResourceRule
from policy_pack.lambda_ import _REFERENCE_VALUE as REFERENCE_VALUE
from policy_pack.lambda_ import REFERENCE_NAME, SECRET_NAME

TASK_DEFINITION: Final = "aws:ecs/taskDefinition:TaskDefinition"
ECS_SERVICE: Final = "aws:ecs/service:Service"

SERVICE: Final = "ecs"

# An AWS access key id (long-term AKIA, temporary ASIA): a credential whatever the variable is called.
AWS_ACCESS_KEY_ID: Final = re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{16}\b")


def containers(props: Props) -> list[tuple[str, Props]]:
    """``(name, definition)`` of every container in ``containerDefinitions``.

    Raises
    ------
    CannotEvaluateError
        When the document is unknown during preview.
    BadValueError
        When it is not JSON, or not a list of objects.
    """
    document = props.json("containerDefinitions")
    if document is ABSENT:
        return []
    if not isinstance(document, list) or not all(isinstance(item, Mapping) for item in document):
        raise BadValueError("containerDefinitions should be a JSON list of container definitions")
    return [(str(item.get("name") or f"#{index}"), Props(item)) for index, item in enumerate(document)]


def _no_secrets_in_environment(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    allowed = set(config["allowedNames"])
    found, undecided = [], []
    for container, definition in containers(props):
        for variable in definition.each("environment"):
            try:
                name, value = str(variable.get("name", "")), variable.get("value")
            except CannotEvaluateError:
                # Another resource's output, unknown in a preview: it does not hide the literals known beside it.
                undecided.append(f"containerDefinitions ({container} environment)")
                continue
            if name in allowed or not isinstance(value, str) or not value.strip():
                continue
            if AWS_ACCESS_KEY_ID.search(value):
                found.append(f"container {container}: environment variable {name} holds an AWS access key id")
            elif SECRET_NAME.search(name) and not REFERENCE_NAME.search(name) and not REFERENCE_VALUE.match(value):
                found.append(
                    f"container {container}: environment variable {name} holds what looks like a credential, "
                    "in plain text: anyone who can describe the task definition reads it, whether the program wrote "
                    "it or took it from a resource; pass it in the container's secrets (valueFrom a Secrets Manager "
                    "or SSM Parameter Store ARN) instead"
                )
    if undecided and not found:
        raise CannotEvaluateError(undecided[0])
    yield from found


def _logging(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    for container, definition in containers(props):
        if not definition.has("logConfiguration.logDriver"):
            yield (
                f"container {container} has no logConfiguration: its output is lost; set logDriver 'awslogs' "
                "(with awslogs-group, awslogs-region and awslogs-stream-prefix) or 'awsfirelens'"
            )


def _no_public_ip(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # Absent is DISABLED (CreateService's default; awsx's FargateService defaults it to false too).
    if props.flag("networkConfiguration.assignPublicIp", False) is True:
        yield (
            "networkConfiguration.assignPublicIp is true: every task gets a public address, so whatever its security "
            "group admits from the internet reaches the containers directly, around the load balancer; run the tasks "
            "in private subnets with VPC endpoints for ECR, CloudWatch Logs and the AWS APIs they call (no-nat-gateway "
            "rules out a NAT gateway), or, for tasks in public subnets on purpose because there is no NAT, waive this "
            "rule for the service with that reason and admit only the load balancer's security group"
        )


RULES: Final = [
    ResourceRule(
        name="ecs-no-secrets-in-environment",
        summary=(
            "ECS container environment variables hold no literal credentials (AWS access keys, names like "
            "*PASSWORD*, *SECRET*, *TOKEN*, *API_KEY*): use the container's secrets with valueFrom"
        ),
        anchors=("AWS Security Hub ECS.8", "cdk-nag AwsSolutions-ECS2 (credential part)"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(TASK_DEFINITION,),
        check=_no_secrets_in_environment,
        config={"allowedNames": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    ResourceRule(
        name="ecs-container-logging",
        summary="Every container of an ECS task definition has a logConfiguration",
        anchors=("AWS Security Hub ECS.9", "cdk-nag AwsSolutions-ECS7"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(TASK_DEFINITION,),
        check=_logging,
    ),
    ResourceRule(
        name="ecs-service-no-public-ip",
        summary="ECS services do not assign public IP addresses to their tasks (networkConfiguration.assignPublicIp)",
        anchors=("AWS Security Hub ECS.2", "checkov CKV_AWS_333"),
        severity=Severity.MEDIUM,
        # Advisory: no-nat-gateway (scale to zero) leaves Fargate tasks without VPC endpoints only public subnets
        # and a public IP to reach ECR and CloudWatch Logs.
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(ECS_SERVICE,),
        check=_no_public_ip,
    ),
]
