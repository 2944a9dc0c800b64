"""Children several components create the same way: an owned log group, an invoke permission, tags.

Each helper creates one resource with ``parent`` set by the caller's options, so the URN and the recorded
inputs are those the component would have written itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_aws as aws


def tags_input(tags: Mapping[str, str]) -> dict[str, str] | None:
    """A component's ``tags`` as a child's ``tags`` input: ``None`` (not set) when there are none.

    The provider's ``aws:defaultTags`` are merged by the provider itself; these are the component's own.
    """
    return dict(tags) or None


def owned_log_group(
    resource_name: str,
    log_group_name: pulumi.Input[str],
    retention_days: int,
    opts: pulumi.ResourceOptions,
    tags: Mapping[str, str] | None = None,
) -> aws.cloudwatch.LogGroup:
    """A log group the component owns, created before the service writes to it so retention applies at once.

    Parameters
    ----------
    resource_name:
        Child name, ``<component>-logs`` or similar.
    log_group_name:
        The name the service writes to (e.g. ``/aws/lambda/<function>``).
    retention_days:
        Retention, one of CloudWatch Logs' periods.
    opts:
        The child's options (``parent=`` the component).
    tags:
        The component's tags.
    """
    return aws.cloudwatch.LogGroup(
        resource_name,
        name=log_group_name,
        retention_in_days=retention_days,
        tags=tags_input(tags or {}),
        opts=opts,
    )


def invoke_permission(
    resource_name: str,
    function: pulumi.Input[str],
    service: str,
    source_arn: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> aws.lambda_.Permission:
    """Let one AWS service invoke a function, only on behalf of one source (``aws:SourceArn``).

    Parameters
    ----------
    resource_name:
        Child name, ``<component>-<role>-invoke``.
    function:
        The function's name or ARN.
    service:
        Service principal, e.g. ``events.amazonaws.com``.
    source_arn:
        The rule, topic, API route or authorizer the service acts for.
    opts:
        The child's options (``parent=`` the component).
    """
    return aws.lambda_.Permission(
        resource_name,
        action="lambda:InvokeFunction",
        function=function,
        principal=service,
        source_arn=source_arn,
        opts=opts,
    )
