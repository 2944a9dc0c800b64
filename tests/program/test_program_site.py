"""The order page as composed: the API on the site's origin, the CSP naming the stack's own endpoints, managed
login returning to the site, and a runtime config.json written from the stack's values (the component's own
defaults are tests/components/test_components_static_site.py's)."""

from __future__ import annotations

import json
from pathlib import Path

from components.static_site import (
    ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID,
    CACHING_DISABLED_POLICY_ID,
    site_files,
)
from offline.diagram import build_diagram
from offline.recording import ProgramRun
from shared.catalogue import CURRENCY
from shared.models.api import MAX_LINE_QUANTITY, MAX_ORDER_LINES

PROJECT_DIR = Path(__file__).resolve().parents[2]
SITE_DIR = PROJECT_DIR / "web" / "public"


def test_the_csp_lets_the_page_connect_to_itself_the_iot_endpoint_and_the_sign_in_domain_only(
    stack_run: ProgramRun,
) -> None:
    (headers,) = stack_run.of_type("aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy")
    policy = headers.inputs["securityHeadersConfig"]["contentSecurityPolicy"]["contentSecurityPolicy"]
    directives = dict(directive.split(" ", 1) for directive in policy.split("; "))

    assert set(directives["connect-src"].split()) == {
        "'self'",
        f"wss://{stack_run.outputs['iotEndpoint']}",
        stack_run.outputs["signInUrl"],
    }
    assert directives["script-src"] == "'self'" and directives["frame-ancestors"] == "'none'"


def test_the_api_is_served_on_the_sites_origin_uncached_with_the_bearer_token(stack_run: ProgramRun) -> None:
    (distribution,) = stack_run.of_type("aws:cloudfront/distribution:Distribution")
    (api,) = stack_run.of_type("aws:apigatewayv2/api:Api")
    (api_origin,) = [o for o in distribution.inputs["origins"] if o["originId"] == "api"]
    assert f"https://{api_origin['domainName']}" == api.outputs["apiEndpoint"]
    assert api_origin["customOriginConfig"]["originProtocolPolicy"] == "https-only"
    assert api_origin["customOriginConfig"]["originSslProtocols"] == ["TLSv1.2"]

    api_behaviors = distribution.inputs["orderedCacheBehaviors"]
    assert {b["pathPattern"] for b in api_behaviors} == {"/orders", "/orders/*"}
    for behavior in api_behaviors:
        assert behavior["targetOriginId"] == "api"
        assert behavior["cachePolicyId"] == CACHING_DISABLED_POLICY_ID
        # Every viewer header but Host: the Authorization bearer token reaches the JWT authorizer.
        assert behavior["originRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER_POLICY_ID
        assert {"POST", "GET", "OPTIONS"} <= set(behavior["allowedMethods"])
    routes = {r.inputs["routeKey"] for r in stack_run.of_type("aws:apigatewayv2/route:Route")}
    # CloudFront's "/orders/*" matches any depth, the receipt link's route too.
    assert routes == {"POST /orders", "GET /orders", "GET /orders/{orderId}", "GET /orders/{orderId}/receipt"}


def test_managed_login_returns_to_the_site_with_the_code_grant(stack_run: ProgramRun) -> None:
    (client,) = stack_run.of_type("aws:cognito/userPoolClient:UserPoolClient")
    (domain,) = stack_run.of_type("aws:cognito/userPoolDomain:UserPoolDomain")
    (branding,) = stack_run.of_type("aws:cognito/managedLoginBranding:ManagedLoginBranding")
    extra_origins = json.loads(stack_run.config["orderflow:allowedOrigins"])

    assert client.inputs["generateSecret"] is False  # a public client: PKCE protects the code
    assert client.inputs["allowedOauthFlows"] == ["code"]
    assert client.inputs["allowedOauthFlowsUserPoolClient"] is True
    assert set(client.inputs["allowedOauthScopes"]) == {"openid", "email"}
    site = stack_run.outputs["siteUrl"]
    assert site.startswith("https://") and site.endswith(".cloudfront.net")
    assert client.inputs["callbackUrls"] == [f"{site}/", *(f"{origin}/" for origin in extra_origins)]
    assert client.inputs["logoutUrls"] == client.inputs["callbackUrls"]
    assert domain.inputs["managedLoginVersion"] == 2
    assert stack_run.outputs["signInUrl"] == f"https://{domain.inputs['domain']}.auth.eu-west-1.amazoncognito.com"
    assert branding.inputs["clientId"] == client.id


def test_the_runtime_config_is_written_from_the_stacks_own_values(stack_run: ProgramRun) -> None:
    config = json.loads(stack_run.named("web-runtime-config").inputs["content"])
    catalogue = json.loads((PROJECT_DIR / "handlers" / "shared" / "catalogue.json").read_text())

    assert config["apiBaseUrl"] == ""  # the API is on the page's own origin
    assert config["signIn"] == {
        "url": stack_run.outputs["signInUrl"],
        "clientId": stack_run.outputs["userPoolClientId"],
        "scopes": ["openid", "email"],
    }
    assert config["realtime"] == {
        "url": f"wss://{stack_run.outputs['iotEndpoint']}/mqtt"
        f"?x-amz-customauthorizer-name={stack_run.outputs['iotAuthorizerName']}",
        "topicPrefix": stack_run.outputs["realtimeTopicPrefix"],
    }
    assert [product["sku"] for product in config["catalogue"]] == [product["sku"] for product in catalogue]
    assert all(set(product) == {"sku", "name", "unitPriceCents"} for product in config["catalogue"])
    assert config["currency"] == CURRENCY
    # The form applies the API's own limits (the request models').
    assert config["limits"] == {"maxLineQuantity": MAX_LINE_QUANTITY, "maxOrderLines": MAX_ORDER_LINES}


def test_every_page_file_is_uploaded_with_its_type_and_the_documents_are_revalidated(stack_run: ProgramRun) -> None:
    objects = {r.inputs["key"]: r.inputs for r in stack_run.of_type("aws:s3/bucketObjectv2:BucketObjectv2")}

    assert set(objects) == {*site_files(SITE_DIR), "config.json"}
    assert objects["index.html"]["contentType"] == "text/html"
    assert objects["index.html"]["cacheControl"] == "no-cache"
    assert objects["config.json"]["cacheControl"] == "no-cache"
    assert all(inputs["contentType"] == "text/javascript" for key, inputs in objects.items() if key.endswith(".js"))


def test_the_diagram_draws_the_page_through_cloudfront(dev: ProgramRun) -> None:
    edges = {(e.source, e.target, e.label) for e in build_diagram(dev).edges}

    assert ("client_browser", "cloudfront_web", "HTTPS") in edges
    assert ("cloudfront_web", "s3_web_content", "read (OAC)") in edges
    assert ("cloudfront_web", "apigateway_post_orders", "HTTPS + JWT") in edges
