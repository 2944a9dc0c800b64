"""Pure builders of the order page's components: CSP, file listing, sign-in domain, bucket readers."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.bucket import ServiceObjectReader, bucket_policy
from components.identity import sign_in_origin
from components.static_site import (
    cache_control,
    content_security_policy,
    content_type,
    object_child_name,
    site_files,
)


def test_the_csp_allows_the_site_and_exactly_the_named_connections() -> None:
    policy = content_security_policy(["wss://a1-ats.iot.eu-west-1.amazonaws.com", "https://login.example.com"])
    directives = dict(directive.split(" ", 1) for directive in policy.split("; "))

    assert directives["connect-src"] == "'self' https://login.example.com wss://a1-ats.iot.eu-west-1.amazonaws.com"
    assert directives["default-src"] == directives["script-src"] == directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == directives["object-src"] == directives["base-uri"] == "'none'"


@pytest.mark.parametrize(
    "source",
    ["https://*.execute-api.eu-west-1.amazonaws.com", "https://login.example.com/oauth2", "http://example.com", "*"],
)
def test_the_csp_refuses_wildcards_paths_and_plain_http(source: str) -> None:
    with pytest.raises(ValueError, match="origin without a path"):
        content_security_policy([source])


def test_site_files_lists_the_page_without_hidden_files_or_a_local_config(tmp_path: Path) -> None:
    for name in ("index.html", "js/app.js", ".DS_Store", "config.json", "vendor/mqtt.esm.js"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")

    assert list(site_files(tmp_path)) == ["index.html", "js/app.js", "vendor/mqtt.esm.js"]


def test_site_files_needs_an_index_document(tmp_path: Path) -> None:
    (tmp_path / "app.js").write_text("x")
    with pytest.raises(ValueError, match=r"index\.html"):
        site_files(tmp_path)


def test_documents_are_revalidated_and_modules_served_as_javascript() -> None:
    assert cache_control("index.html") == "no-cache"
    assert cache_control("js/app.js") == "public, max-age=3600"
    assert content_type("js/app.js") == content_type("vendor/mqtt.esm.js") == "text/javascript"
    assert content_type("styles.css") == "text/css"
    assert object_child_name("vendor/mqtt.esm.js") == "vendor-mqtt-esm-js"


def test_the_sign_in_origin_is_cognitos_domain_for_a_valid_prefix() -> None:
    assert (
        sign_in_origin("orderflow-dev-123", "eu-west-1") == "https://orderflow-dev-123.auth.eu-west-1.amazoncognito.com"
    )


@pytest.mark.parametrize("prefix", ["Orderflow", "my-aws-shop", "cognito-x", "-lead", "a" * 64, "under_score"])
def test_a_prefix_cognito_refuses_fails_when_the_program_runs(prefix: str) -> None:
    with pytest.raises(ValueError, match="domain prefix"):
        sign_in_origin(prefix, "eu-west-1")


def test_a_bucket_reader_gets_objects_only_for_its_one_source() -> None:
    policy = bucket_policy(
        "arn:aws:s3:::site",
        [ServiceObjectReader("cloudfront.amazonaws.com", "arn:aws:cloudfront::1:distribution/E1", sid="Cdn")],
    )
    deny, grant = policy["Statement"]

    assert deny["Effect"] == "Deny"
    assert grant == {
        "Sid": "Cdn",
        "Effect": "Allow",
        "Principal": {"Service": "cloudfront.amazonaws.com"},
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::site/*",
        "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudfront::1:distribution/E1"}},
    }
