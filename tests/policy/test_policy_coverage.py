"""Values unknown during preview leave the new resource rules undecided (an advisory note), never a violation."""

from __future__ import annotations

from typing import Any

import pytest
from policy_cases import BASELINES, GRAPHQL
from policy_coverage_cases import EKS_CLUSTER, LAUNCH_TEMPLATE, LISTENER, TASK_DEFINITION, containers
from policy_testkit import UNKNOWN, findings, patched

from policy_pack._core import CannotEvaluateError
from policy_pack.appsync import has_mutations


@pytest.mark.parametrize(
    ("rule", "type_", "changes"),
    [
        ("ecs-no-secrets-in-environment", TASK_DEFINITION, {"containerDefinitions": UNKNOWN}),
        (
            "ecs-no-secrets-in-environment",
            TASK_DEFINITION,
            {"containerDefinitions": containers(("environment", [{"name": "DB_PASSWORD", "value": UNKNOWN}]))},
        ),
        ("ecs-container-logging", TASK_DEFINITION, {"containerDefinitions": UNKNOWN}),
        ("appsync-mutations-not-api-key-only", GRAPHQL, {"authenticationType": "API_KEY", "schema": UNKNOWN}),
        ("eks-endpoint-not-public", EKS_CLUSTER, {"vpcConfig": UNKNOWN}),
        ("ec2-imdsv2-required", LAUNCH_TEMPLATE, {"metadataOptions.httpTokens": UNKNOWN}),
        ("lb-http-redirects-to-https", LISTENER, {"protocol": UNKNOWN}),
    ],
)
def test_policy_unknown_value_is_cannot_evaluate(rule: str, type_: str, changes: dict[str, Any]) -> None:
    with pytest.raises(CannotEvaluateError, match="cannot evaluate"):
        findings(rule, type_, patched(BASELINES[type_], changes))


@pytest.mark.parametrize(
    ("schema", "mutates"),
    [
        ("type Query { a: Int }", False),
        ("type Query { a: Int }\n# type Mutation { b: Int }", False),
        ("type Query { a: Int }\ntype MutationLog { b: Int }", False),
        ("type Query { a: Int }\ntype Mutation { b: Int }", True),
        ("extend type Mutation { b: Int }", True),
        ("schema {\n  query: Q\n  mutation: Writes\n}\ntype Writes { b: Int }", True),
    ],
)
def test_policy_appsync_schema_mutations_are_read_from_the_sdl(schema: str, mutates: bool) -> None:
    assert has_mutations(schema) is mutates
