"""CloudFront's compliant baselines and one mutation per case.

Imported by ``policy_cases`` once its ``Case``, ``ok``, ``bad`` and ``BASELINES`` exist; its cases run and
count with the others.
"""

from __future__ import annotations

from policy_cases import BASELINES, Case, bad, ok
from policy_testkit import DELETE, UNKNOWN

DISTRIBUTION = "aws:cloudfront/distribution:Distribution"
HEADERS = "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy"

CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/1"
BASELINES |= {
    DISTRIBUTION: {
        "enabled": True,
        "defaultRootObject": "index.html",
        "origins": [
            {
                "originId": "site",
                "domainName": "site-content.s3.eu-west-1.amazonaws.com",
                "originAccessControlId": "E2OAC",
            },
            {
                "originId": "api",
                "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
                "customOriginConfig": {
                    "httpPort": 80,
                    "httpsPort": 443,
                    "originProtocolPolicy": "https-only",
                    "originSslProtocols": ["TLSv1.2"],
                },
            },
        ],
        "defaultCacheBehavior": {
            "targetOriginId": "site",
            "viewerProtocolPolicy": "redirect-to-https",
            "allowedMethods": ["GET", "HEAD"],
            "cachedMethods": ["GET", "HEAD"],
            "responseHeadersPolicyId": "rhp-1",
        },
        "orderedCacheBehaviors": [
            {
                "pathPattern": "/orders*",
                "targetOriginId": "api",
                "viewerProtocolPolicy": "https-only",
                "allowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "POST", "PATCH", "DELETE"],
                "cachedMethods": ["GET", "HEAD"],
                "responseHeadersPolicyId": "rhp-1",
            }
        ],
        "restrictions": {"geoRestriction": {"restrictionType": "none"}},
        "aliases": ["shop.example.com"],
        "viewerCertificate": {
            "acmCertificateArn": CERTIFICATE,
            "sslSupportMethod": "sni-only",
            "minimumProtocolVersion": "TLSv1.2_2021",
        },
    },
    HEADERS: {
        "name": "site",
        "securityHeadersConfig": {
            "contentSecurityPolicy": {"contentSecurityPolicy": "default-src 'self'", "override": True},
            "strictTransportSecurity": {"accessControlMaxAgeSec": 63072000, "override": True},
        },
    },
}


OAC = "cloudfront-origin-access-control"
HTTPS = "cloudfront-viewer-https"
TLS = "cloudfront-minimum-tls"
RHP = "cloudfront-response-headers-policy"

CLOUDFRONT_CASES: list[Case] = [
    ok(OAC, DISTRIBUTION),
    ok(OAC, DISTRIBUTION, "global-s3-domain", {"origins.0.domainName": "site.s3.amazonaws.com"}),
    bad(
        OAC,
        DISTRIBUTION,
        "legacy-oai",
        {
            "origins.0.originAccessControlId": DELETE,
            "origins.0.s3OriginConfig": {"originAccessIdentity": "origin-access-identity/cloudfront/E1"},
        },
        "legacy origin access identity",
    ),
    # An OAI decides the rule by its presence, while it and the bucket's domain are still unknown.
    bad(
        OAC,
        DISTRIBUTION,
        "legacy-oai-unknown",
        {
            "origins.0.originAccessControlId": DELETE,
            "origins.0.originId": UNKNOWN,
            "origins.0.domainName": UNKNOWN,
            "origins.0.s3OriginConfig": {"originAccessIdentity": UNKNOWN},
        },
        "legacy origin access identity",
    ),
    bad(OAC, DISTRIBUTION, "public-bucket", {"origins.0.originAccessControlId": DELETE}, "no originAccessControlId"),
    bad(
        OAC,
        DISTRIBUTION,
        "website-endpoint",
        {
            "origins.0.domainName": "site.s3-website-eu-west-1.amazonaws.com",
            "origins.0.originAccessControlId": DELETE,
            "origins.0.customOriginConfig": {"originProtocolPolicy": "http-only"},
        },
        "website endpoint",
    ),
    ok(HTTPS, DISTRIBUTION),
    bad(HTTPS, DISTRIBUTION, "allow-all", {"defaultCacheBehavior.viewerProtocolPolicy": "allow-all"}, "'allow-all'"),
    bad(
        HTTPS,
        DISTRIBUTION,
        "api-behavior-allow-all",
        {"orderedCacheBehaviors.0.viewerProtocolPolicy": "allow-all"},
        "/orders*",
    ),
    ok(TLS, DISTRIBUTION),
    ok(
        TLS,
        DISTRIBUTION,
        "default-certificate",
        {"aliases": DELETE, "viewerCertificate": {"cloudfrontDefaultCertificate": True}},
    ),
    bad(TLS, DISTRIBUTION, "tls1", {"viewerCertificate.minimumProtocolVersion": "TLSv1"}, "'TLSv1'"),
    bad(TLS, DISTRIBUTION, "provider-default", {"viewerCertificate.minimumProtocolVersion": DELETE}, "'TLSv1'"),
    bad(TLS, DISTRIBUTION, "dedicated-ip", {"viewerCertificate.sslSupportMethod": "vip"}, "$600 a month"),
    bad(
        TLS,
        DISTRIBUTION,
        "origin-over-http",
        {"origins.1.customOriginConfig.originProtocolPolicy": "match-viewer"},
        "not 'https-only'",
    ),
    # An http-only origin decides the rule while the certificate (an aws.acm.Certificate's ARN) is unknown.
    bad(
        TLS,
        DISTRIBUTION,
        "origin-over-http-certificate-unknown",
        {
            "viewerCertificate.acmCertificateArn": UNKNOWN,
            "origins.1.originId": UNKNOWN,
            "origins.1.customOriginConfig.originProtocolPolicy": "http-only",
        },
        "not 'https-only'",
    ),
    ok(TLS, DISTRIBUTION, "certificate-unknown", {"viewerCertificate.acmCertificateArn": UNKNOWN}),
    bad(
        TLS,
        DISTRIBUTION,
        "origin-tls1",
        {"origins.1.customOriginConfig.originSslProtocols": ["TLSv1", "TLSv1.2"]},
        "allows TLSv1",
    ),
    Case(
        "stricter-config",
        TLS,
        DISTRIBUTION,
        {},
        fails=True,
        contains="'TLSv1.2_2025'",
        config={"minimumProtocolVersion": "TLSv1.2_2025"},
    ),
    ok(RHP, DISTRIBUTION),
    ok(RHP, HEADERS, "headers-policy"),
    bad(RHP, DISTRIBUTION, "default-without", {"defaultCacheBehavior.responseHeadersPolicyId": DELETE}, "default"),
    bad(RHP, DISTRIBUTION, "api-without", {"orderedCacheBehaviors.0.responseHeadersPolicyId": DELETE}, "/orders*"),
    bad(
        RHP,
        HEADERS,
        "no-csp",
        {"securityHeadersConfig.contentSecurityPolicy": DELETE},
        "no contentSecurityPolicy",
    ),
    bad(
        RHP,
        HEADERS,
        "no-hsts",
        {"securityHeadersConfig.strictTransportSecurity": DELETE},
        "no strictTransportSecurity",
    ),
]
