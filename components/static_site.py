"""``StaticSite``: a single-page site on CloudFront from a private bucket, with its API on the same origin.

Compliant by default:

- the files live in a private :class:`~components.bucket.Bucket` that only this distribution may read,
  through Origin Access Control (SigV4-signed requests; no origin access identity, no public bucket);
- viewers are redirected to HTTPS; with a custom certificate, TLS 1.2 (``TLSv1.2_2021``) is the minimum and
  SNI is used (a dedicated-IP certificate costs $600 a month);
- every response carries a response-headers policy: a Content-Security-Policy that allows scripts, styles
  and images from the site only and connections to the site itself plus exactly the extra sources given
  (e.g. the IoT data endpoint and the sign-in domain), HSTS, ``nosniff``, ``DENY`` framing and a strict
  referrer policy;
- responses are compressed; a CloudFront Function sends every extension-less path to ``/index.html``, so
  deep links of a single-page app load the page, while a missing file (or an API error) keeps its status;
- optional API origins are served under their path patterns (e.g. ``/orders*``) without caching, with
  every viewer header but ``Host`` forwarded (so the ``Authorization`` bearer token reaches the API): the
  page calls its API on its own origin, with no CORS preflights, and the CSP's ``connect-src 'self'`` is
  exactly that API;
- the page's runtime ``config.json`` is written from deploy-time values (stack outputs).

Nothing here is billed while idle: no WAF and no access-log bucket unless asked for (``web_acl_arn``,
``logging_bucket``), e.g. in production.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components import naming
from components.bucket import Bucket, BucketArgs, ServiceObjectReader
from components.children import tags_input
from components.deferred import deferred_output

# AWS managed policies (ids fixed by AWS, the same in every account).
CACHING_OPTIMIZED_POLICY_ID: Final = "658327ea-f89d-4fab-a63d-7e88639e58f6"
CACHING_DISABLED_POLICY_ID: Final = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID: Final = "b689b0a8-53d0-40ab-baf2-68738e2966ac"

SITE_ORIGIN_ID: Final = "site"
MINIMUM_TLS: Final = "TLSv1.2_2021"
RUNTIME_CONFIG_KEY: Final = "config.json"
INDEX_DOCUMENT: Final = "index.html"
HSTS_SECONDS: Final = 2 * 365 * 24 * 3600
# Documents the browser must revalidate on every load, so a deployment is seen at once.
NO_CACHE_SUFFIXES: Final = frozenset({".html", ".json"})
ALL_METHODS: Final = ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"]

# Runs at the edge on every viewer request to the site's files (cloudfront-js-2.0).
SPA_ROUTING_FUNCTION: Final = """\
function handler(event) {
  var request = event.request;
  var last = request.uri.split("/").pop();
  if (last.indexOf(".") === -1) {
    request.uri = "/index.html";
  }
  return request;
}
"""
# An origin: https/wss anywhere, plain http/ws only on this machine (a local run of the page).
_SOURCE: Final = re.compile(r"^(https|wss)://[a-z0-9.-]+(:\d+)?$|^(http|ws)://(127\.0\.0\.1|localhost)(:\d+)?$")


def content_security_policy(connect_sources: Sequence[str]) -> str:
    """The page's Content-Security-Policy: everything from the site itself, connections to exactly these.

    Parameters
    ----------
    connect_sources:
        Origins the page may connect to besides its own, e.g. ``wss://<iot endpoint>`` and
        ``https://<sign-in domain>`` (scheme and host, no path).

    Returns
    -------
    str
        The header value.

    Raises
    ------
    ValueError
        When a source is not an ``https://`` or ``wss://`` origin (a path or a wildcard would widen it);
        ``http://`` and ``ws://`` are accepted for loopback origins only.
    """
    for source in connect_sources:
        if not _SOURCE.match(source):
            raise ValueError(f"connect source {source!r} must be an https:// or wss:// origin without a path")
    connect = " ".join(["'self'", *sorted(set(connect_sources))])
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            f"connect-src {connect}",
            "form-action 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "object-src 'none'",
        ]
    )


def cache_control(key: str) -> str:
    """``Cache-Control`` of one site file: documents are revalidated, assets are cached for an hour."""
    return "no-cache" if Path(key).suffix in NO_CACHE_SUFFIXES else "public, max-age=3600"


def content_type(key: str) -> str:
    """MIME type of one site file (JavaScript modules must be served as JavaScript)."""
    if key.endswith((".js", ".mjs")):
        return "text/javascript"
    guessed, _ = mimetypes.guess_type(key)
    return guessed or "application/octet-stream"


def site_files(content_dir: Path) -> dict[str, Path]:
    """Object key → file for every file under ``content_dir``, in key order.

    Hidden files are left out, and so is a ``config.json``: the deployed one is written from stack outputs.

    Raises
    ------
    ValueError
        When the folder has no ``index.html``.
    """
    files = {
        path.relative_to(content_dir).as_posix(): path
        for path in content_dir.rglob("*")
        if path.is_file() and not any(part.startswith(".") for part in path.relative_to(content_dir).parts)
    }
    files.pop(RUNTIME_CONFIG_KEY, None)
    if INDEX_DOCUMENT not in files:
        raise ValueError(f"{content_dir} has no {INDEX_DOCUMENT}")
    return dict(sorted(files.items()))


def object_child_name(key: str) -> str:
    """URN-safe child name of one file: ``js/app.js`` → ``js-app-js``."""
    return re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")


@dataclass
class ApiOriginArgs:
    """An API served through the site's own origin."""

    domain_name: pulumi.Input[str]
    """The API's host, e.g. ``<id>.execute-api.<region>.amazonaws.com`` (HTTPS only)."""
    path_patterns: Sequence[str]
    """CloudFront path patterns routed to it, e.g. ``["/orders", "/orders/*"]``."""


@dataclass
class StaticSiteArgs:
    """Inputs of :class:`StaticSite`."""

    content_dir: Path
    """Folder uploaded as the site (must hold ``index.html``)."""
    runtime_config: Mapping[str, pulumi.Input[Any]] = field(default_factory=dict)
    """Written as ``config.json`` next to the page (deploy-time values such as a client id)."""
    connect_sources: Sequence[pulumi.Input[str]] = ()
    """Origins the page may connect to besides itself (CSP ``connect-src``), e.g. ``wss://<iot endpoint>``."""
    api: ApiOriginArgs | None = None
    """An API served under its path patterns on the site's origin."""
    aliases: Sequence[str] = ()
    """Custom domain names (need ``certificate_arn``)."""
    certificate_arn: str | None = None
    """ACM certificate (us-east-1) for ``aliases``; TLS 1.2 is then the minimum."""
    price_class: str = "PriceClass_100"
    """Edge locations served (``PriceClass_100``: North America and Europe)."""
    web_acl_arn: str | None = None
    """A WAF web ACL in front of the site (billed monthly, so off by default)."""
    logging_bucket: str | None = None
    """``<bucket>.s3.amazonaws.com`` receiving standard access logs (off by default)."""
    force_destroy: bool = False
    """Let ``pulumi destroy`` empty the content bucket."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of every taggable child (content bucket and its objects, distribution, edge function), on top of the
    provider's default tags."""


class StaticSite(pulumi.ComponentResource):
    """A private bucket served by CloudFront with OAC, HTTPS, security headers and SPA routing."""

    bucket: Bucket
    distribution: aws.cloudfront.Distribution
    origin_access_control: aws.cloudfront.OriginAccessControl
    response_headers_policy: aws.cloudfront.ResponseHeadersPolicy
    domain_name: pulumi.Output[str]
    url: pulumi.Output[str]
    distribution_id: pulumi.Output[str]

    def __init__(self, name: str, args: StaticSiteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:web:StaticSite", name, None, opts)
        if args.aliases and not args.certificate_arn:
            raise ValueError(f"{name}: aliases {list(args.aliases)} need a certificate_arn")
        files = site_files(args.content_dir)
        child = pulumi.ResourceOptions(parent=self)
        physical_name = naming.physical_name(pulumi.get_project(), pulumi.get_stack(), name)

        self.origin_access_control = aws.cloudfront.OriginAccessControl(
            f"{name}-oac",
            name=naming.fit(physical_name, naming.CLOUDFRONT_ORIGIN_ACCESS_CONTROL),
            description=f"{physical_name}: CloudFront signs every request to the content bucket",
            origin_access_control_origin_type="s3",
            signing_behavior="always",
            signing_protocol="sigv4",
            opts=child,
        )
        csp = pulumi.Output.all(*args.connect_sources).apply(lambda sources: content_security_policy(list(sources)))
        self.response_headers_policy = aws.cloudfront.ResponseHeadersPolicy(
            f"{name}-headers",
            name=naming.fit(physical_name, naming.CLOUDFRONT_RESPONSE_HEADERS_POLICY),
            comment="CSP limited to the site and its named connections; HSTS; no framing or sniffing",
            security_headers_config={
                "content_security_policy": {"content_security_policy": csp, "override": True},
                "strict_transport_security": {
                    "access_control_max_age_sec": HSTS_SECONDS,
                    "include_subdomains": True,
                    "override": True,
                },
                "content_type_options": {"override": True},
                "frame_options": {"frame_option": "DENY", "override": True},
                "referrer_policy": {"referrer_policy": "strict-origin-when-cross-origin", "override": True},
            },
            opts=child,
        )
        spa_routing = aws.cloudfront.Function(
            f"{name}-spa-routing",
            name=naming.fit(physical_name, naming.CLOUDFRONT_FUNCTION),
            runtime="cloudfront-js-2.0",
            comment="Extension-less paths load the single-page app",
            code=SPA_ROUTING_FUNCTION,
            publish=True,
            tags=tags_input(args.tags),
            opts=child,
        )
        api_origins: list[aws.cloudfront.DistributionOriginArgsDict] = []
        api_behaviors: list[aws.cloudfront.DistributionOrderedCacheBehaviorArgsDict] = []
        if args.api is not None:
            api_origins.append(
                {
                    "origin_id": "api",
                    "domain_name": args.api.domain_name,
                    "custom_origin_config": {
                        "http_port": 80,
                        "https_port": 443,
                        "origin_protocol_policy": "https-only",
                        "origin_ssl_protocols": ["TLSv1.2"],
                    },
                }
            )
            api_behaviors = [
                {
                    "path_pattern": pattern,
                    "target_origin_id": "api",
                    "viewer_protocol_policy": "https-only",
                    "allowed_methods": ALL_METHODS,
                    "cached_methods": ["GET", "HEAD"],
                    "compress": True,
                    "cache_policy_id": CACHING_DISABLED_POLICY_ID,
                    "origin_request_policy_id": ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
                    "response_headers_policy_id": self.response_headers_policy.id,
                }
                for pattern in args.api.path_patterns
            ]
        viewer_certificate: aws.cloudfront.DistributionViewerCertificateArgsDict = (
            {
                "acm_certificate_arn": args.certificate_arn,
                "ssl_support_method": "sni-only",
                "minimum_protocol_version": MINIMUM_TLS,
            }
            if args.certificate_arn
            else {"cloudfront_default_certificate": True}
        )
        # The bucket's policy names the distribution, which reads from the bucket: the policy takes the
        # distribution's ARN as a deferred output (see components.deferred for why it is a block).
        with deferred_output(f"{name}: the distribution's ARN") as (distribution_arn, resolve_distribution_arn):
            self.bucket = Bucket(
                f"{name}-content",
                BucketArgs(
                    eventbridge_notifications=False,
                    force_destroy=args.force_destroy,
                    object_readers=[
                        ServiceObjectReader("cloudfront.amazonaws.com", distribution_arn, sid="CloudFrontReadsSite")
                    ],
                    tags=args.tags,
                ),
                opts=child,
            )
            site_origin: aws.cloudfront.DistributionOriginArgsDict = {
                "origin_id": SITE_ORIGIN_ID,
                "domain_name": self.bucket.bucket.bucket_regional_domain_name,
                "origin_access_control_id": self.origin_access_control.id,
            }
            self.distribution = aws.cloudfront.Distribution(
                f"{name}-distribution",
                enabled=True,
                comment=physical_name,
                aliases=list(args.aliases) or None,
                default_root_object=INDEX_DOCUMENT,
                http_version="http2and3",
                is_ipv6_enabled=True,
                price_class=args.price_class,
                origins=[site_origin, *api_origins],
                default_cache_behavior={
                    "target_origin_id": SITE_ORIGIN_ID,
                    "viewer_protocol_policy": "redirect-to-https",
                    "allowed_methods": ["GET", "HEAD", "OPTIONS"],
                    "cached_methods": ["GET", "HEAD"],
                    "compress": True,
                    "cache_policy_id": CACHING_OPTIMIZED_POLICY_ID,
                    "response_headers_policy_id": self.response_headers_policy.id,
                    "function_associations": [{"event_type": "viewer-request", "function_arn": spa_routing.arn}],
                },
                ordered_cache_behaviors=api_behaviors or None,
                restrictions={"geo_restriction": {"restriction_type": "none"}},
                viewer_certificate=viewer_certificate,
                web_acl_id=args.web_acl_arn,
                logging_config=(
                    {"bucket": args.logging_bucket, "include_cookies": False, "prefix": f"{physical_name}/"}
                    if args.logging_bucket
                    else None
                ),
                tags=tags_input(args.tags),
                opts=child,
            )
            resolve_distribution_arn(self.distribution.arn)

        for key, path in files.items():
            aws.s3.BucketObjectv2(
                f"{name}-{object_child_name(key)}",
                bucket=self.bucket.name,
                key=key,
                source=pulumi.FileAsset(str(path)),
                content_type=content_type(key),
                cache_control=cache_control(key),
                tags=tags_input(args.tags),
                opts=child,
            )
        aws.s3.BucketObjectv2(
            f"{name}-runtime-config",
            bucket=self.bucket.name,
            key=RUNTIME_CONFIG_KEY,
            content=pulumi.Output.json_dumps(dict(args.runtime_config)),
            content_type="application/json",
            cache_control=cache_control(RUNTIME_CONFIG_KEY),
            tags=tags_input(args.tags),
            opts=child,
        )

        self.distribution_id = self.distribution.id
        self.domain_name = self.distribution.domain_name
        self.url = (
            pulumi.Output.from_input(f"https://{args.aliases[0]}")
            if args.aliases
            else self.distribution.domain_name.apply(lambda domain: f"https://{domain}")
        )
        self.register_outputs({"url": self.url, "distributionId": self.distribution_id})
