"""StaticSite: a private bucket read by CloudFront through OAC only, HTTPS, security headers, SPA routing."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.static_site import ApiOriginArgs, StaticSite, StaticSiteArgs
from tests.components.conftest import ACCOUNT, PARTITION, PREFIX, TAGS, Built, build

CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"  # AWS managed cache policy "CachingOptimized"
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # "CachingDisabled"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"  # origin request policy "AllViewerExceptHostHeader"
API_HOST = "a1b2c3.execute-api.eu-west-1.amazonaws.com"
CERTIFICATE = f"arn:{PARTITION}:acm:us-east-1:{ACCOUNT}:certificate/abc"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "app.js").write_text("export {};")
    (tmp_path / "config.json").write_text("{}")  # a local copy: the deployed one is written from the args
    (tmp_path / ".DS_Store").write_text("")
    return tmp_path


def site(content: Path, **overrides: Any) -> StaticSite:
    args = StaticSiteArgs(
        content_dir=content, runtime_config={"clientId": "c-1"}, connect_sources=["wss://iot.example.com"], tags=TAGS
    )
    return StaticSite("web", replace(args, **overrides))


def distribution(built: Built[StaticSite]) -> dict[str, Any]:
    return built.inputs("web-distribution")


def test_defaults_children(content: Path) -> None:
    built = build(lambda: site(content))

    assert built.component.type == "orderflow:web:StaticSite"
    assert built.kinds() == {
        ("orderflow:storage:Bucket", "web-content"),
        ("aws:cloudfront/originAccessControl:OriginAccessControl", "web-oac"),
        ("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy", "web-headers"),
        ("aws:cloudfront/function:Function", "web-spa-routing"),
        ("aws:cloudfront/distribution:Distribution", "web-distribution"),
        ("aws:s3/bucketObjectv2:BucketObjectv2", "web-index-html"),
        ("aws:s3/bucketObjectv2:BucketObjectv2", "web-js-app-js"),
        ("aws:s3/bucketObjectv2:BucketObjectv2", "web-runtime-config"),
    }


def test_defaults_the_bucket_is_private_and_read_only_by_its_distribution_through_oac(content: Path) -> None:
    built = build(lambda: site(content))

    bucket = built.run.named("web-content-bucket")
    assert built.inputs("web-oac") == {
        "name": f"{PREFIX}-web",
        "description": f"{PREFIX}-web: CloudFront signs every request to the content bucket",
        "originAccessControlOriginType": "s3",
        "signingBehavior": "always",
        "signingProtocol": "sigv4",
    }
    assert distribution(built)["origins"] == [
        {
            "originId": "site",
            "domainName": bucket.outputs["bucketRegionalDomainName"],
            "originAccessControlId": built.child("web-oac").id,
        }
    ]
    assert built.run.named("web-content-notifications").inputs["eventbridge"] is False
    grants = json.loads(built.run.named("web-content-policy").inputs["policy"])["Statement"][1:]
    assert grants == [
        {
            "Sid": "CloudFrontReadsSite",
            "Effect": "Allow",
            "Principal": {"Service": "cloudfront.amazonaws.com"},
            "Action": "s3:GetObject",
            "Resource": f"{bucket.outputs['arn']}/*",
            "Condition": {"ArnEquals": {"aws:SourceArn": built.child("web-distribution").outputs["arn"]}},
        }
    ]


def test_defaults_https_http3_cached_spa_on_cloudfronts_certificate_without_waf_or_logs(content: Path) -> None:
    built = build(lambda: site(content))

    inputs = distribution(built)
    inputs.pop("origins")
    assert inputs == {
        "enabled": True,
        "comment": f"{PREFIX}-web",
        "defaultRootObject": "index.html",
        "httpVersion": "http2and3",
        "isIpv6Enabled": True,
        "priceClass": "PriceClass_100",
        "defaultCacheBehavior": {
            "targetOriginId": "site",
            "viewerProtocolPolicy": "redirect-to-https",
            "allowedMethods": ["GET", "HEAD", "OPTIONS"],
            "cachedMethods": ["GET", "HEAD"],
            "compress": True,
            "cachePolicyId": CACHING_OPTIMIZED,
            "responseHeadersPolicyId": built.child("web-headers").id,
            "functionAssociations": [
                {"eventType": "viewer-request", "functionArn": built.child("web-spa-routing").outputs["arn"]}
            ],
        },
        "restrictions": {"geoRestriction": {"restrictionType": "none"}},
        "viewerCertificate": {"cloudfrontDefaultCertificate": True},
    }
    routing = built.inputs("web-spa-routing")
    assert routing.pop("code").startswith("function handler(event)")
    assert routing == {
        "name": f"{PREFIX}-web",
        "runtime": "cloudfront-js-2.0",
        "comment": "Extension-less paths load the single-page app",
        "publish": True,
    }


def test_defaults_the_security_headers(content: Path) -> None:
    built = build(lambda: site(content))

    headers = built.inputs("web-headers")
    assert headers["name"] == f"{PREFIX}-web"
    security = headers["securityHeadersConfig"]
    csp = security.pop("contentSecurityPolicy")
    assert csp["override"] is True
    assert "connect-src 'self' wss://iot.example.com" in csp["contentSecurityPolicy"].split("; ")
    assert "frame-ancestors 'none'" in csp["contentSecurityPolicy"].split("; ")
    assert security == {
        "strictTransportSecurity": {
            "accessControlMaxAgeSec": 2 * 365 * 24 * 3600,
            "includeSubdomains": True,
            "override": True,
        },
        "contentTypeOptions": {"override": True},
        "frameOptions": {"frameOption": "DENY", "override": True},
        "referrerPolicy": {"referrerPolicy": "strict-origin-when-cross-origin", "override": True},
    }


def test_defaults_every_file_is_uploaded_with_its_type_and_documents_are_revalidated(content: Path) -> None:
    built = build(lambda: site(content))

    bucket_name = built.run.named("web-content-bucket").outputs["bucket"]
    page = built.inputs("web-index-html")
    assert isinstance(page.pop("source"), pulumi.FileAsset)
    assert page == {"bucket": bucket_name, "key": "index.html", "contentType": "text/html", "cacheControl": "no-cache"}
    script = built.inputs("web-js-app-js")
    script.pop("source")
    assert script == {
        "bucket": bucket_name,
        "key": "js/app.js",
        "contentType": "text/javascript",
        "cacheControl": "public, max-age=3600",
    }
    assert built.inputs("web-runtime-config") == {
        "bucket": bucket_name,
        "key": "config.json",
        "content": json.dumps({"clientId": "c-1"}),
        "contentType": "application/json",
        "cacheControl": "no-cache",
    }


def test_an_api_is_served_on_the_sites_origin_uncached_over_https(content: Path) -> None:
    built = build(
        lambda: site(content, api=ApiOriginArgs(domain_name=API_HOST, path_patterns=["/orders", "/orders/*"]))
    )

    inputs = distribution(built)
    assert inputs["origins"][1] == {
        "originId": "api",
        "domainName": API_HOST,
        "customOriginConfig": {
            "httpPort": 80,
            "httpsPort": 443,
            "originProtocolPolicy": "https-only",
            "originSslProtocols": ["TLSv1.2"],
        },
    }
    assert inputs["orderedCacheBehaviors"] == [
        {
            "pathPattern": pattern,
            "targetOriginId": "api",
            "viewerProtocolPolicy": "https-only",
            "allowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
            "cachedMethods": ["GET", "HEAD"],
            "compress": True,
            "cachePolicyId": CACHING_DISABLED,
            "originRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
            "responseHeadersPolicyId": built.child("web-headers").id,
        }
        for pattern in ("/orders", "/orders/*")
    ]


def test_a_custom_domain_waf_and_access_logs_on_request(content: Path) -> None:
    waf = f"arn:{PARTITION}:wafv2:us-east-1:{ACCOUNT}:global/webacl/site/1"
    built = build(
        lambda: site(
            content,
            aliases=["shop.example.com"],
            certificate_arn=CERTIFICATE,
            web_acl_arn=waf,
            logging_bucket="logs.s3.amazonaws.com",
            price_class="PriceClass_All",
        )
    )

    inputs = distribution(built)
    assert inputs["aliases"] == ["shop.example.com"]
    assert inputs["viewerCertificate"] == {
        "acmCertificateArn": CERTIFICATE,
        "sslSupportMethod": "sni-only",
        "minimumProtocolVersion": "TLSv1.2_2021",
    }
    assert inputs["webAclId"] == waf
    assert inputs["loggingConfig"] == {
        "bucket": "logs.s3.amazonaws.com",
        "includeCookies": False,
        "prefix": f"{PREFIX}-web/",
    }
    assert inputs["priceClass"] == "PriceClass_All"
    assert built.value(built.resource.url) == "https://shop.example.com"


def test_aliases_without_a_certificate_fail_naming_the_site(content: Path) -> None:
    with pytest.raises(ValueError, match=r"web: aliases \['shop.example.com'\] need a certificate_arn"):
        build(lambda: site(content, aliases=["shop.example.com"]))


def test_opt_out_force_destroy_reaches_the_bucket(content: Path) -> None:
    built = build(lambda: site(content, force_destroy=True))

    assert built.run.named("web-content-bucket").inputs["forceDestroy"] is True
