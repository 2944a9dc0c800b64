"""Identity: an email-login user pool with optional MFA, a secretless browser client, optional managed login."""

from __future__ import annotations

from typing import Any

import pytest

from components.identity import Identity, IdentityArgs
from tests.components.conftest import PREFIX, REGION, TAGS, build

SITE = "https://shop.example.com/"


def test_defaults_a_protected_pool_and_a_browser_client_without_hosted_pages() -> None:
    built = build(lambda: Identity("users", IdentityArgs(tags=TAGS)))

    assert built.component.type == "orderflow:identity:Identity"
    assert built.kinds() == {
        ("aws:cognito/userPool:UserPool", "users-user-pool"),
        ("aws:cognito/userPoolClient:UserPoolClient", "users-client"),
    }
    assert built.inputs("users-user-pool") == {
        "name": f"{PREFIX}-users",
        "usernameAttributes": ["email"],
        "autoVerifiedAttributes": ["email"],
        "passwordPolicy": {
            "minimumLength": 12,
            "requireLowercase": True,
            "requireUppercase": True,
            "requireNumbers": True,
            "requireSymbols": False,
            "temporaryPasswordValidityDays": 3,
        },
        "mfaConfiguration": "OPTIONAL",
        "softwareTokenMfaConfiguration": {"enabled": True},
        "accountRecoverySetting": {"recoveryMechanisms": [{"name": "verified_email", "priority": 1}]},
        "deletionProtection": "ACTIVE",
    }
    assert built.inputs("users-client") == {
        "name": "browser",
        "userPoolId": built.child("users-user-pool").id,
        "generateSecret": False,
        "explicitAuthFlows": ["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        "preventUserExistenceErrors": "ENABLED",
        "supportedIdentityProviders": ["COGNITO"],
        "accessTokenValidity": 60,
        "idTokenValidity": 60,
        "refreshTokenValidity": 30,
        "tokenValidityUnits": {"accessToken": "minutes", "idToken": "minutes", "refreshToken": "days"},
        "enableTokenRevocation": True,
        "allowedOauthFlowsUserPoolClient": False,
    }
    pool_id = built.child("users-user-pool").id
    assert built.value(built.resource.issuer) == f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    assert built.resource.sign_in_url is None


def test_opt_out_deletion_protection_off_and_token_lifetimes() -> None:
    args = IdentityArgs(deletion_protection=False, access_token_minutes=5, refresh_token_days=1, tags=TAGS)
    built = build(lambda: Identity("users", args))

    assert built.inputs("users-user-pool")["deletionProtection"] == "INACTIVE"
    client = built.inputs("users-client")
    assert (client["accessTokenValidity"], client["idTokenValidity"], client["refreshTokenValidity"]) == (5, 5, 1)


def test_managed_login_the_code_grant_back_to_the_site_only() -> None:
    built = build(lambda: Identity("users", IdentityArgs(domain_prefix="probe-shop", callback_urls=[SITE], tags=TAGS)))

    assert ("aws:cognito/userPoolDomain:UserPoolDomain", "users-domain") in built.kinds()
    pool_id = built.child("users-user-pool").id
    assert built.inputs("users-domain") == {"domain": "probe-shop", "userPoolId": pool_id, "managedLoginVersion": 2}
    assert built.inputs("users-branding") == {
        "userPoolId": pool_id,
        "clientId": built.child("users-client").id,
        "useCognitoProvidedValues": True,
    }
    client = built.inputs("users-client")
    assert client["allowedOauthFlowsUserPoolClient"] is True
    assert client["allowedOauthFlows"] == ["code"]
    assert client["callbackUrls"] == client["logoutUrls"] == [SITE]
    assert client["allowedOauthScopes"] == ["openid", "email"]
    assert built.resource.sign_in_url is not None
    assert built.value(built.resource.sign_in_url) == f"https://probe-shop.auth.{REGION}.amazoncognito.com"


@pytest.mark.parametrize("args", [{"domain_prefix": "probe-shop"}, {"callback_urls": [SITE]}])
def test_managed_login_needs_both_a_domain_and_where_to_return(args: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="users: managed login needs both"):
        build(lambda: Identity("users", IdentityArgs(**args, tags=TAGS)))
