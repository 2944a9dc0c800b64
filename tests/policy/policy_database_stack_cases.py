"""Compliant stacks and one mutation per case for the stack rule on RDS master passwords written into the program.

Imported by ``policy_stack_cases`` once its helpers exist; its cases run and count with the others.
"""

from __future__ import annotations

from policy_cases import RDS_CLUSTER, RDS_INSTANCE
from policy_coverage_stack_cases import RANDOM_PASSWORD, SECRET_VERSION, secret_stack
from policy_stack_cases import StackCase, add, bad, ok
from policy_testkit import UNKNOWN, Res

LITERAL_PASSWORD = "rds-no-literal-password"
CONFIG = {"orderflow:dbPassword": "from-an-encrypted-config-secret", "aws:region": "eu-west-1"}


def instance(**props: object) -> Res:
    base: dict[str, object] = {"engine": "postgres", "instanceClass": "db.t4g.micro", "username": "app"}
    return Res(RDS_INSTANCE, "app-db", {**base, **props})


def cluster(**props: object) -> Res:
    return Res(RDS_CLUSTER, "app-cluster", {"engine": "aurora-postgresql", "masterUsername": "app", **props})


def managed_stack() -> list[Res]:
    """The recommended shape: RDS generates the master passwords and keeps them in Secrets Manager."""
    return [instance(manageMasterUserPassword=True), cluster(manageMasterUserPassword=True)]


def generated_stack() -> list[Res]:
    """Passwords a random password resource generates, once known (an update)."""
    password = Res(RANDOM_PASSWORD, "db-password", {"length": 32, "result": "s3cr3t-generated"})
    database = instance(password="s3cr3t-generated")
    database.deps = {"password": [password.urn]}
    aurora = cluster(masterPassword="s3cr3t-generated")
    aurora.deps = {"masterPassword": [password.urn]}
    return [password, database, aurora]


def secret_version_stack() -> list[Res]:
    """A password read from the Secrets Manager secret version that holds it (the secrets rules' stack)."""
    stack = secret_stack()
    version = next(resource for resource in stack if resource.type == SECRET_VERSION)
    database = instance(password="s3cr3t-generated")
    database.deps = {"password": [version.urn]}
    return [*stack, database]


def preview_stack() -> list[Res]:
    """A first preview: the generated password is unknown until the update."""
    password = Res(RANDOM_PASSWORD, "db-password", {"length": 32, "result": UNKNOWN})
    return [password, instance(password=UNKNOWN), cluster(masterPassword=UNKNOWN)]


DATABASE_STACK_CASES: list[StackCase] = [
    ok(LITERAL_PASSWORD, "managed-by-rds", managed_stack),
    ok(LITERAL_PASSWORD, "generated", generated_stack),
    ok(LITERAL_PASSWORD, "from-a-secret-version", secret_version_stack),
    ok(LITERAL_PASSWORD, "preview-unknown-password", preview_stack),
    ok(
        LITERAL_PASSWORD,
        "config-secret",
        lambda: [instance(password=CONFIG["orderflow:dbPassword"])],
        stack_config=CONFIG,
    ),
    ok(
        LITERAL_PASSWORD,
        "inside-a-structured-config-value",
        lambda: [instance(password="nested-secret")],
        stack_config={"orderflow:db": '{"user": "app", "password": "nested-secret"}'},
    ),
    ok(LITERAL_PASSWORD, "replica-without-password", lambda: [instance(replicateSourceDb="db-1", engine=None)]),
    bad(
        LITERAL_PASSWORD,
        "literal-instance-password",
        lambda: [instance(password="change-me-please")],
        "app-db.password is written into the program: a value known before the update that no resource produced",
    ),
    bad(
        LITERAL_PASSWORD,
        "literal-cluster-password",
        lambda: add(managed_stack()[:1], cluster(masterPassword="hunter2hunter2")),
        "app-cluster.masterPassword is written into the program",
    ),
    bad(
        LITERAL_PASSWORD,
        "literal-write-only-password",
        lambda: [instance(passwordWo="change-me-please", passwordWoVersion=1)],
        "app-db.passwordWo is written into the program",
    ),
    bad(
        LITERAL_PASSWORD,
        "literal-not-in-this-stacks-config",
        lambda: [instance(password="change-me-please")],
        "set manageMasterUserPassword true and drop password (RDS then keeps the master password in Secrets Manager",
        stack_config=CONFIG,
    ),
]
