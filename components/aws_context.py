"""The deployment's region and account, for values built before the resources that carry them exist."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pulumi_aws as aws


def in_account(build: Callable[[str, str], str], parent: pulumi.Resource | None = None) -> pulumi.Output[str]:
    """``build(region, account)`` once the deployment's region and account are known.

    Parameters
    ----------
    build:
        Pure function of the region and account id, e.g. an ARN template.
    parent:
        Component the invokes belong to (for provider inheritance), if any.
    """
    invoke = pulumi.InvokeOutputOptions(parent=parent)
    region = aws.get_region_output(opts=invoke).region
    account = aws.get_caller_identity_output(opts=invoke).account_id
    return pulumi.Output.all(region, account).apply(lambda values: build(values[0], values[1]))
