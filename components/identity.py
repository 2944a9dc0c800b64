"""``Identity``: a Cognito user pool and app client whose tokens the API and the real-time channel accept.

Users sign in with their e-mail address; the public (browser) client has no secret, uses SRP, and
never reveals whether an account exists. No identity pool is created, so there are no unauthenticated
identities: every caller holds a token from this pool.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


def issuer_url(region: str, user_pool_id: str) -> str:
    """The ``iss`` claim of the pool's tokens; the JWKS is at ``<issuer>/.well-known/jwks.json``."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


@dataclass
class IdentityArgs:
    """Inputs of :class:`Identity`."""

    deletion_protection: bool = True
    """Refuse deleting the pool (and its users) (from stack config)."""
    access_token_minutes: int = 60
    """Lifetime of access and id tokens."""
    refresh_token_days: int = 30
    """Lifetime of refresh tokens."""


class Identity(pulumi.ComponentResource):
    """A Cognito user pool and browser app client."""

    user_pool: aws.cognito.UserPool
    client: aws.cognito.UserPoolClient
    user_pool_id: pulumi.Output[str]
    client_id: pulumi.Output[str]
    issuer: pulumi.Output[str]

    def __init__(self, name: str, args: IdentityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:identity:Identity", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        self.user_pool = aws.cognito.UserPool(
            f"{name}-user-pool",
            name=f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}",
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
            opts=child,
        )
        region = aws.get_region_output(opts=pulumi.InvokeOutputOptions(parent=self)).region
        self.user_pool_id = self.user_pool.id
        self.client_id = self.client.id
        self.issuer = pulumi.Output.all(region, self.user_pool.id).apply(lambda v: issuer_url(v[0], v[1]))
        self.register_outputs({"userPoolId": self.user_pool_id, "clientId": self.client_id, "issuer": self.issuer})
