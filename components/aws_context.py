"""The deployment's partition, region and account, for ARNs built before the resources that carry them exist.

ARNs are never written with a literal ``arn:aws:``: the partition comes from the provider (``aws``,
``aws-cn``, ``aws-us-gov``), so the same component deploys in every partition. The invokes are
Output-based (``*_output``): nothing blocks the program while they resolve.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    """Where the stack deploys: partition, region and account id."""

    partition: str
    """``aws``, ``aws-cn``, ``aws-us-gov``…"""
    region: str
    """E.g. ``eu-west-1``."""
    account: str
    """12-digit account id."""

    def arn(self, service: str, resource: str, *, regional: bool = True, in_account: bool = True) -> str:
        """``arn:<partition>:<service>:<region>:<account>:<resource>``.

        Parameters
        ----------
        service:
            Service namespace, e.g. ``events``.
        resource:
            The resource part, e.g. ``event-bus/orders``.
        regional:
            ``False`` for global services (IAM, CloudFront): the region field is empty.
        in_account:
            ``False`` for resources outside any account (S3 buckets, Step Functions integrations).
        """
        return build_arn(
            self.partition,
            service,
            self.region if regional else "",
            self.account if in_account else "",
            resource,
        )

    def account_root(self, account: str | None = None) -> str:
        """The IAM principal of a whole account (this one by default)."""
        return build_arn(self.partition, "iam", "", account or self.account, "root")


def build_arn(partition: str, service: str, region: str, account: str, resource: str) -> str:
    """``arn:<partition>:<service>:<region>:<account>:<resource>``."""
    return f"arn:{partition}:{service}:{region}:{account}:{resource}"


def aws_context(parent: pulumi.Resource | None = None) -> pulumi.Output[AwsContext]:
    """The deployment's :class:`AwsContext`, from the provider (``parent`` decides which provider)."""
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    partition = aws.get_partition_output(opts=invoke).partition
    region = aws.get_region_output(opts=invoke).region
    account = aws.get_caller_identity_output(opts=invoke).account_id
    return pulumi.Output.all(partition, region, account).apply(lambda values: AwsContext(*values))


def in_account(build: Callable[[AwsContext], str], parent: pulumi.Resource | None = None) -> pulumi.Output[str]:
    """``build(context)`` once the deployment's partition, region and account are known.

    Parameters
    ----------
    build:
        Pure function of the :class:`AwsContext`, e.g. ``lambda aws: aws.arn("events", "event-bus/orders")``.
    parent:
        Component the invokes belong to (for provider inheritance), if any.
    """
    return aws_context(parent).apply(build)
