"""``Identity``: a Cognito user pool and app client whose tokens the API and the real-time channel accept.

Users sign in with their e-mail address; the public (browser) client has no secret and never reveals
whether an account exists. With a ``domain_prefix``, the pool gets a Cognito domain with managed login
(the hosted sign-in pages) and the client signs in with the authorization code grant and PKCE, returning
to the given callback URLs only (the site's own). No identity pool is created, so there are no
unauthenticated identities: every caller holds a token from this pool.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final

import pulumi
import pulumi_aws as aws

from components.children import tags_input
from components.naming import COGNITO_USER_POOL, physical_name

OAUTH_SCOPES: Final = ("openid", "email")
# Cognito's rule for domain prefixes; "aws", "amazon" and "cognito" are reserved words.
_DOMAIN_PREFIX: Final = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_RESERVED: Final = ("aws", "amazon", "cognito")


def issuer_url(region: str, user_pool_id: str) -> str:
    """The ``iss`` claim of the pool's tokens; the JWKS is at ``<issuer>/.well-known/jwks.json``."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def sign_in_origin(domain_prefix: str, region: str) -> str:
    """Origin of the managed login pages and OAuth endpoints (``/oauth2/authorize``, ``/oauth2/token``, ``/logout``).

    Raises
    ------
    ValueError
        When the prefix is not one Cognito accepts.
    """
    if not _DOMAIN_PREFIX.match(domain_prefix) or any(word in domain_prefix for word in _RESERVED):
        raise ValueError(
            f"Cognito domain prefix {domain_prefix!r} must be 1-63 lowercase letters, digits or hyphens, "
            f"without {', '.join(_RESERVED)}"
        )
    return f"https://{domain_prefix}.auth.{region}.amazoncognito.com"


@dataclass
class IdentityArgs:
    """Inputs of :class:`Identity`."""

    deletion_protection: bool = True
    """Refuse deleting the pool (and its users) (from stack config)."""
    access_token_minutes: int = 60
    """Lifetime of access and id tokens."""
    refresh_token_days: int = 30
    """Lifetime of refresh tokens."""
    domain_prefix: pulumi.Input[str] | None = None
    """Cognito domain prefix for managed login; ``None`` keeps the pool without hosted sign-in pages."""
    callback_urls: Sequence[pulumi.Input[str]] = field(default_factory=list)
    """Where managed login may return the authorization code (and where sign-out lands): the site's URLs."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the user pool, on top of the provider's default tags."""


class Identity(pulumi.ComponentResource):
    """A Cognito user pool and browser app client."""

    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    user_pool_id: pulumi.Output[str]
    client_id: pulumi.Output[str]
    issuer: pulumi.Output[str]
    sign_in_url: pulumi.Output[str] | None

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:identity:Identity", name, None, opts)
        if (args.domain_prefix is None) != (not args.callback_urls):
            raise ValueError(f"{name}: managed login needs both a domain_prefix and callback_urls")
        child = pulumi.ResourceOptions(parent=self)
        self.user_pool = aws.cognito.UserPool(
            f"{name}-user-pool",
            name=physical_name(pulumi.get_project(), pulumi.get_stack(), name, COGNITO_USER_POOL),
            username_attributes=["email"],
            auto_verified_attributes=["email"],
            password_policy={
                "minimum_length": 12,
                "require_lowercase": True,
                "require_uppercase": True,
                "require_numbers": True,
                "require_symbols": False,
                "temporary_password_validity_days": 3,
            },
            mfa_configuration="OPTIONAL",
            software_token_mfa_configuration={"enabled": True},
            account_recovery_setting={"recovery_mechanisms": [{"name": "verified_email", "priority": 1}]},
            deletion_protection="ACTIVE" if args.deletion_protection else "INACTIVE",
            tags=tags_input(args.tags),
            opts=child,
        )
        self.client = aws.cognito.UserPoolClient(
            f"{name}-client",
            name="browser",
            user_pool_id=self.user_pool.id,
            generate_secret=False,
            explicit_auth_flows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
            prevent_user_existence_errors="ENABLED",
            supported_identity_providers=["COGNITO"],
            access_token_validity=args.access_token_minutes,
            id_token_validity=args.access_token_minutes,
            refresh_token_validity=args.refresh_token_days,
            token_validity_units={"access_token": "minutes", "id_token": "minutes", "refresh_token": "days"},
            enable_token_revocation=True,
            # Managed login: authorization code only (the browser adds PKCE), back to the site only.
            allowed_oauth_flows_user_pool_client=bool(args.callback_urls),
            allowed_oauth_flows=["code"] if args.callback_urls else None,
            allowed_oauth_scopes=list(OAUTH_SCOPES) if args.callback_urls else None,
            callback_urls=list(args.callback_urls) or None,
            logout_urls=list(args.callback_urls) or None,
            opts=child,
        )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.sign_in_url = None
        if args.domain_prefix is not None:
            domain = aws.cognito.UserPoolDomain(
                f"{name}-domain",
                domain=args.domain_prefix,
                user_pool_id=self.user_pool.id,
                managed_login_version=2,
                opts=child,
            )
            # Managed login (version 2) shows a client's pages only once it has a branding style.
            aws.cognito.ManagedLoginBranding(
                f"{name}-branding",
                user_pool_id=self.user_pool.id,
                client_id=self.client.id,
                use_cognito_provided_values=True,
                opts=child,
            )
            self.sign_in_url = pulumi.Output.all(domain.domain, region).apply(lambda v: sign_in_origin(v[0], v[1]))
        self.user_pool_id = self.user_pool.id
        self.client_id = self.client.id
        self.issuer = pulumi.Output.all(region, self.user_pool.id).apply(lambda v: issuer_url(v[0], v[1]))
        self.register_outputs(
            {
                "userPoolId": self.user_pool_id,
                "clientId": self.client_id,
                "issuer": self.issuer,
                "signInUrl": self.sign_in_url,
            }
        )
