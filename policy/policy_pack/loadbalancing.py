"""Elastic Load Balancing: plain-HTTP listeners only redirect to HTTPS."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Props, ResourceRule

# aws.alb.Listener is the same resource under the older module name.
LISTENERS: Final = ("aws:lb/listener:Listener", "aws:alb/listener:Listener")

SERVICE: Final = "elb"


def _redirects_to_https(action: Props) -> bool:
    return action.text("type", "") == "redirect" and str(action.text("redirect.protocol", "#{protocol}")) == "HTTPS"


def _http_redirects(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    if not props.is_set("protocol") and not props.is_set("port"):
        return  # a Gateway Load Balancer listener: it takes neither, and carries no HTTP
    # An Application Load Balancer listener without a protocol is HTTP (the ELB API default).
    protocol = props.text("protocol", "HTTP")
    if protocol != "HTTP":
        return
    actions = props.each("defaultActions")
    if not actions or not all(_redirects_to_https(action) for action in actions):
        kinds = ", ".join(str(action.text("type", "?")) for action in actions) or "none"
        yield (
            f"the listener serves plain HTTP (default action: {kinds}): requests and cookies cross the network in "
            "clear; make its default action a redirect with protocol 'HTTPS' (statusCode 'HTTP_301') and serve on "
            "an HTTPS listener"
        )


RULES: Final = [
    ResourceRule(
        name="lb-http-redirects-to-https",
        summary="Load balancer listeners on plain HTTP do nothing but redirect to HTTPS",
        anchors=("checkov CKV_AWS_2", "checkov CKV2_AWS_20", "AWS Security Hub ELB.1"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=LISTENERS,
        check=_http_redirects,
    ),
]
