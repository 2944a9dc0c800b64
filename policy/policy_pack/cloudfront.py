"""Amazon CloudFront: private S3 origins behind Origin Access Control, HTTPS everywhere, security headers.

A distribution's behaviours are its default cache behaviour plus every ordered one; each is checked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, CannotEvaluateError, Finding, Props, ResourceRule, StackRule, StackView, ref

DISTRIBUTION: Final = "aws:cloudfront/distribution:Distribution"
RESPONSE_HEADERS_POLICY: Final = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"
LOG_DELIVERY_SOURCE: Final = "aws:cloudwatch/logDeliverySource:LogDeliverySource"

SERVICE: Final = "cloudfront"

# CloudFront's viewer security policies, weakest first.
VIEWER_TLS_POLICIES: Final = (
    "SSLv3",
    "TLSv1",
    "TLSv1_2016",
    "TLSv1.1_2016",
    "TLSv1.2_2018",
    "TLSv1.2_2019",
    "TLSv1.2_2021",
    "TLSv1.2_2025",
    "TLSv1.3_2025",
)
DEPRECATED_ORIGIN_PROTOCOLS: Final = frozenset({"SSLv3", "TLSv1", "TLSv1.1"})
# <bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com, and the website endpoints.
_S3_DOMAIN: Final = re.compile(r"\.s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$")
_S3_WEBSITE: Final = re.compile(r"\.s3-website[.-]")


def _behaviors(props: Props) -> Iterator[tuple[str, Props]]:
    """``(label, behaviour)`` for the default cache behaviour and each ordered one."""
    default = props.get("defaultCacheBehavior")
    if isinstance(default, Mapping):
        yield "defaultCacheBehavior", Props(default)
    for index, behavior in enumerate(props.each("orderedCacheBehaviors")):
        yield f"orderedCacheBehaviors[{index}] ({behavior.text('pathPattern', '?')})", behavior


def _origin_id(origin: Props) -> str:
    """An origin's id for a message; an id not known yet (a bucket's ARN) must not leave the rule undecided."""
    try:
        return str(origin.text("originId", "?"))
    except CannotEvaluateError:
        return "(id known after the update)"


def _origin_access_control(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    for origin in props.each("origins"):
        origin_id = _origin_id(origin)
        # An origin access identity decides the rule by its presence, even while its value is unknown.
        if origin.is_set("s3OriginConfig.originAccessIdentity"):
            yield (
                f"origin {origin_id!r} reads S3 through a legacy origin access identity: "
                "use an aws.cloudfront.OriginAccessControl (originAccessControlId) instead"
            )
            continue
        domain = origin.text("domainName", "")
        if _S3_WEBSITE.search(domain):
            yield (
                f"origin {origin_id!r} is the S3 website endpoint {domain}: the bucket must be public; "
                "use the bucket's regional domain with Origin Access Control instead"
            )
        elif _S3_DOMAIN.search(domain) and not origin.is_set("originAccessControlId"):
            yield (
                f"S3 origin {origin_id!r} has no originAccessControlId: the bucket must be public for "
                "CloudFront to read it; sign requests with an Origin Access Control"
            )


def _viewer_https(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    for label, behavior in _behaviors(props):
        policy = behavior.text("viewerProtocolPolicy", ABSENT)
        if policy not in ("redirect-to-https", "https-only"):
            yield f"{label} has viewerProtocolPolicy {policy!r}: use 'redirect-to-https' or 'https-only'"


def _minimum_tls(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    # Origins first: an http-only origin decides the rule whatever the (possibly unknown) certificate is.
    for origin in props.each("origins"):
        if not origin.has("customOriginConfig"):
            continue
        origin_id = _origin_id(origin)
        if origin.text("customOriginConfig.originProtocolPolicy", "") != "https-only":
            yield f"custom origin {origin_id!r} is not 'https-only': traffic to it may travel unencrypted"
        deprecated = sorted(
            set(map(str, origin.seq("customOriginConfig.originSslProtocols"))) & DEPRECATED_ORIGIN_PROTOCOLS
        )
        if deprecated:
            yield f"custom origin {origin_id!r} allows {', '.join(deprecated)}: allow TLSv1.2 only"
    minimum = str(config["minimumProtocolVersion"])
    # A certificate ARN not known until the update (an aws.acm.Certificate's) is still a custom certificate.
    custom = props.is_set("viewerCertificate.acmCertificateArn") or props.is_set("viewerCertificate.iamCertificateId")
    if custom:
        version = props.text("viewerCertificate.minimumProtocolVersion", "TLSv1")
        rank = VIEWER_TLS_POLICIES.index(version) if version in VIEWER_TLS_POLICIES else -1
        if rank < VIEWER_TLS_POLICIES.index(minimum):
            yield f"viewerCertificate.minimumProtocolVersion is {version!r}: set {minimum!r} or newer"
        if props.text("viewerCertificate.sslSupportMethod", "sni-only") != "sni-only":
            yield (
                "viewerCertificate.sslSupportMethod is 'vip': dedicated IP addresses cost $600 a month "
                "even with no traffic; use 'sni-only'"
            )


def _response_headers(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == RESPONSE_HEADERS_POLICY:
        if not props.has("securityHeadersConfig.contentSecurityPolicy.contentSecurityPolicy"):
            yield "securityHeadersConfig has no contentSecurityPolicy: the page may load and send anything anywhere"
        if not props.has("securityHeadersConfig.strictTransportSecurity"):
            yield "securityHeadersConfig has no strictTransportSecurity: browsers may try plain HTTP first"
        return
    for label, behavior in _behaviors(props):
        if not behavior.has("responseHeadersPolicyId"):
            yield f"{label} has no responseHeadersPolicyId: responses carry no CSP, HSTS or framing headers"


def _access_logging(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    # Standard logging v2 is a CloudWatch log delivery source on the distribution; legacy logging is loggingConfig.
    delivered: set[str] = set()
    for source in stack.of_type(LOG_DELIVERY_SOURCE):
        if source.props.text("logType", "") != "ACCESS_LOGS":
            continue
        targets = ref(stack, source, "resourceArn", (DISTRIBUTION,))
        if targets is None:
            stack.cannot_evaluate(f"resourceArn of {source.name}")
            continue
        delivered |= {target.urn for target in targets}
    for distribution in stack.of_type(DISTRIBUTION):
        if distribution.urn in delivered or distribution.props.is_set("loggingConfig.bucket"):
            continue
        yield Finding(
            f"distribution {distribution.name} keeps no access logs: set loggingConfig (legacy standard logs to S3) "
            "or add a CloudWatch log delivery source with logType 'ACCESS_LOGS' (standard logging v2)",
            distribution.urn,
        )


RULES: Final = [
    ResourceRule(
        name="cloudfront-origin-access-control",
        summary="CloudFront reads S3 origins through Origin Access Control, never a public bucket or an OAI",
        anchors=(
            "AWS Config cloudfront-s3-origin-access-control-enabled",
            "AWS Security Hub CloudFront.13",
            "checkov CKV2_AWS_46",
            "Prowler cloudfront_distributions_s3_origin_access_control",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(DISTRIBUTION,),
        check=_origin_access_control,
    ),
    ResourceRule(
        name="cloudfront-viewer-https",
        summary="Every CloudFront cache behaviour redirects viewers to HTTPS or accepts HTTPS only",
        anchors=(
            "AWS Config cloudfront-viewer-policy-https",
            "AWS Security Hub CloudFront.3",
            "checkov CKV_AWS_34",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(DISTRIBUTION,),
        check=_viewer_https,
    ),
    ResourceRule(
        name="cloudfront-minimum-tls",
        summary=(
            "CloudFront custom certificates require TLS 1.2 or newer over SNI, and custom origins are reached "
            "over HTTPS with TLS 1.2"
        ),
        anchors=(
            "AWS Config cloudfront-security-policy-check",
            "AWS Config cloudfront-sni-enabled",
            "AWS Config cloudfront-traffic-to-origin-encrypted",
            "AWS Config cloudfront-no-deprecated-ssl-protocols",
            "AWS Security Hub CloudFront.8",
            "AWS Security Hub CloudFront.9",
            "AWS Security Hub CloudFront.10",
            "checkov CKV_AWS_174",
            "cdk-nag AwsSolutions-CFR4",
        ),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(DISTRIBUTION,),
        check=_minimum_tls,
        config={
            "minimumProtocolVersion": {
                "type": "string",
                "enum": list(VIEWER_TLS_POLICIES[VIEWER_TLS_POLICIES.index("TLSv1.2_2018") :]),
                "default": "TLSv1.2_2021",
            }
        },
    ),
    ResourceRule(
        name="cloudfront-response-headers-policy",
        summary=(
            "Every CloudFront cache behaviour attaches a response headers policy, and that policy sets a "
            "Content-Security-Policy and HSTS"
        ),
        anchors=("checkov CKV2_AWS_32",),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(DISTRIBUTION, RESPONSE_HEADERS_POLICY),
        check=_response_headers,
    ),
    StackRule(
        name="cloudfront-access-logging",
        summary="CloudFront distributions keep access logs (legacy loggingConfig, or standard logging v2)",
        anchors=("checkov CKV_AWS_86", "AWS Security Hub CloudFront.5", "cdk-nag AwsSolutions-CFR3"),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(DISTRIBUTION, LOG_DELIVERY_SOURCE),
        check=_access_logging,
    ),
]
