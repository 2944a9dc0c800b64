"""Amazon EC2: instances and launch templates require IMDSv2 session tokens for instance metadata."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

INSTANCE: Final = "aws:ec2/instance:Instance"
LAUNCH_TEMPLATE: Final = "aws:ec2/launchTemplate:LaunchTemplate"
LAUNCH_CONFIGURATION: Final = "aws:ec2/launchConfiguration:LaunchConfiguration"

SERVICE: Final = "ec2"


def _imdsv2_required(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.is_set("metadataOptions") and props.is_set("launchTemplate"):
        return  # the instance takes its metadata options from the launch template, checked on its own
    options = props.child("metadataOptions")
    if options.text("httpEndpoint", "enabled") == "disabled":
        return  # no metadata service at all
    tokens = options.text("httpTokens", "optional")
    if tokens != "required":
        unset = "" if options.has("httpTokens") else " (not set: IMDSv1 stays on unless the AMI says otherwise)"
        yield (
            f"metadataOptions.httpTokens is {tokens!r}{unset}: IMDSv1 answers any request from the instance, so an "
            "SSRF bug leaks the role's credentials; set metadataOptions.httpTokens 'required'"
        )


RULES: Final = [
    ResourceRule(
        name="ec2-imdsv2-required",
        summary="EC2 instances, launch templates and launch configurations require IMDSv2 (httpTokens 'required')",
        anchors=("checkov CKV_AWS_79", "AWS Security Hub EC2.8", "AWS Security Hub EC2.170"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(INSTANCE, LAUNCH_TEMPLATE, LAUNCH_CONFIGURATION),
        check=_imdsv2_required,
    ),
]
