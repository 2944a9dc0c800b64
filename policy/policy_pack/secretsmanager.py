"""AWS Secrets Manager: secret values generated rather than written into the program, and rotated.

Both rules are stack rules: telling a value written into the program from one another resource generated
needs the property dependencies the engine records, and rotation lives in its own resource.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import Finding, StackRule, StackView, literal_text, ref

SECRET: Final = "aws:secretsmanager/secret:Secret"
SECRET_VERSION: Final = "aws:secretsmanager/secretVersion:SecretVersion"
SECRET_ROTATION: Final = "aws:secretsmanager/secretRotation:SecretRotation"

SERVICE: Final = "secretsmanager"

# The value properties of a secret version (secretStringWo is write-only: never stored in state).
VALUE_PROPERTIES: Final = ("secretString", "secretBinary")


def _no_literal_secret(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for version in stack.of_type(SECRET_VERSION):
        for key in VALUE_PROPERTIES:
            if literal_text(version, key) is None:
                continue  # absent, unknown until the update, or produced by another resource
            yield Finding(
                f"{version.name}.{key} is a value known before the update that no resource produced: a literal in "
                "the program (it is in source control) or a stack config value; generate it (random.RandomPassword, "
                "or let RDS manage the master password) or set it outside Pulumi, and waive this rule for a value "
                "that comes from an encrypted config secret",
                version.urn,
            )


def _rotation(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    rotated: set[str] = set()
    for rotation in stack.of_type(SECRET_ROTATION):
        targets = ref(stack, rotation, "secretId", (SECRET,))
        if targets is None:
            stack.cannot_evaluate(f"secretId of {rotation.name}")
            continue
        rotated |= {target.urn for target in targets}
    for secret in stack.of_type(SECRET):
        if secret.urn not in rotated:
            yield Finding(
                f"secret {secret.name} has no SecretRotation: a leaked value stays valid until someone replaces it; "
                "add an aws.secretsmanager.SecretRotation with a rotation function (or managed rotation) and "
                "rotationRules",
                secret.urn,
            )


RULES: Final = [
    StackRule(
        name="secretsmanager-no-literal-secret",
        summary=(
            "Secrets Manager secret versions take their value from a resource that generates it (or from outside "
            "Pulumi), never a literal written into the program"
        ),
        anchors=(),
        severity=Severity.HIGH,
        # Advisory: a value from an encrypted config secret looks the same to a policy as a literal.
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(SECRET_VERSION,),
        check=_no_literal_secret,
    ),
    StackRule(
        name="secretsmanager-rotation",
        summary="Every Secrets Manager secret has automatic rotation configured",
        anchors=("checkov CKV2_AWS_57", "AWS Security Hub SecretsManager.1", "cdk-nag AwsSolutions-SMG4"),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(SECRET, SECRET_ROTATION),
        check=_rotation,
    ),
]
