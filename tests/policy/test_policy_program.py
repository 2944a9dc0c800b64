"""The real program, recorded for dev and prod, through the pack over gRPC: clean, and each mutation caught.

Mutations change the recorded records (inputs, or dropped/added records) before they are sent, the way
a program change would reach the engine; each must produce a new violation of the rule meant to catch
it, on the resource it was made to.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Callable
from typing import Any

import pytest
from google.protobuf import json_format, struct_pb2
from policy_testkit import DELETE, patched
from shared_pack import fresh_packs, one_pack_per_stack  # noqa: F401 (the module's fixture, by name)

from offline.policy_client import PACK_DIR, PolicyReport, run_policy_pack
from offline.recording import ProgramRun, RecordedResource
from tests.recorded import recorded_program

pytestmark = pytest.mark.usefixtures("one_pack_per_stack")


@pytest.fixture(scope="module")
def dev_run() -> ProgramRun:
    return recorded_program("dev")


@pytest.fixture(scope="module")
def prod_run() -> ProgramRun:
    return recorded_program("prod")


def _report(run: ProgramRun) -> PolicyReport:
    return run_policy_pack(run, PACK_DIR, PACK_DIR / "config" / f"{run.stack}.json")


@pytest.fixture(scope="module")
def dev_report(dev_run: ProgramRun) -> PolicyReport:
    return _report(dev_run)


@pytest.fixture(scope="module")
def prod_report(prod_run: ProgramRun) -> PolicyReport:
    return _report(prod_run)


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_policy_program_has_no_mandatory_violations(stack: str, request: pytest.FixtureRequest) -> None:
    report: PolicyReport = request.getfixturevalue(f"{stack}_report")
    assert report.resources_analyzed > 100
    assert [(v.policy_name, v.resource_name, v.detail) for v in report.mandatory] == []
    assert not [v for v in report.violations if "cannot evaluate" in v.message], "every rule could decide"


def test_policy_program_idle_cost_fits_each_stack(dev_report: PolicyReport, prod_report: PolicyReport) -> None:
    assert dev_report.idle_cost is not None and dev_report.idle_cost.total_usd == 0.0
    assert prod_report.idle_cost is not None and prod_report.idle_cost.total_usd > 0
    budget = json.loads((PACK_DIR / "config" / "prod.json").read_text())["idle-cost-budget"]["monthlyBudgetUsd"]
    assert prod_report.idle_cost.total_usd <= budget


# ---- mutations ---------------------------------------------------------------------------------------


def _record(run: ProgramRun, name: str, type_suffix: str) -> RecordedResource:
    found = [r for r in run.resources if r.name == name and r.type.endswith(type_suffix)]
    assert len(found) == 1, f"the program no longer has {type_suffix} {name!r}; update this mutation"
    return found[0]


def _with_changes(record: RecordedResource, changes: dict[str, Any]) -> RecordedResource:
    """The record with ``changes`` applied to its wire inputs, deserialized inputs and outputs alike."""
    struct = struct_pb2.Struct()
    struct.update(patched(json_format.MessageToDict(record.inputs_struct), changes))
    outputs = patched(record.outputs, changes)
    return dataclasses.replace(record, inputs=patched(record.inputs, changes), inputs_struct=struct, outputs=outputs)


def _with_inputs(record: RecordedResource, inputs: dict[str, Any]) -> RecordedResource:
    struct = struct_pb2.Struct()
    struct.update(inputs)
    return dataclasses.replace(record, inputs=inputs, inputs_struct=struct, outputs=dict(inputs))


def change(name: str, type_suffix: str, changes: dict[str, Any]) -> Callable[[ProgramRun], ProgramRun]:
    def mutate(run: ProgramRun) -> ProgramRun:
        record = _record(run, name, type_suffix)
        updated = _with_changes(record, changes)
        return dataclasses.replace(run, resources=[updated if r is record else r for r in run.resources])

    return mutate


def change_json(
    name: str, type_suffix: str, key: str, edit: Callable[[Any], Any]
) -> Callable[[ProgramRun], ProgramRun]:
    def mutate(run: ProgramRun) -> ProgramRun:
        document = json.loads(_record(run, name, type_suffix).inputs[key])
        return change(name, type_suffix, {key: json.dumps(edit(copy.deepcopy(document)))})(run)

    return mutate


def drop(name: str, type_suffix: str) -> Callable[[ProgramRun], ProgramRun]:
    def mutate(run: ProgramRun) -> ProgramRun:
        record = _record(run, name, type_suffix)
        return dataclasses.replace(run, resources=[r for r in run.resources if r is not record])

    return mutate


def add_like(
    name: str, type_suffix: str, new_type: str, new_name: str, inputs: dict[str, Any]
) -> Callable[[ProgramRun], ProgramRun]:
    """Add a record next to an existing one (same parent and provider), as a program change would."""

    def mutate(run: ProgramRun) -> ProgramRun:
        sibling = _record(run, name, type_suffix)
        urn = sibling.urn.rsplit("::", 2)[0] + f"::{new_type}::{new_name}"
        record = _with_inputs(
            dataclasses.replace(
                sibling,
                urn=urn,
                type=new_type,
                name=new_name,
                property_dependencies={},
                dependencies=(),
                outputs={},
                id=new_name,
            ),
            inputs,
        )
        return dataclasses.replace(run, resources=[*run.resources, record])

    return mutate


def _remove_first_retry(definition: dict[str, Any]) -> dict[str, Any]:
    task = next(state for state in definition["States"].values() if state.get("Type") == "Task")
    task.pop("Retry", None)
    return definition


def _star_action(document: dict[str, Any]) -> dict[str, Any]:
    statements = document["Statement"] if isinstance(document["Statement"], list) else [document["Statement"]]
    statements.append({"Effect": "Allow", "Action": "*", "Resource": "*"})
    document["Statement"] = statements
    return document


def _unknown_operator(pattern: dict[str, Any]) -> dict[str, Any]:
    pattern["source"] = [{"prefx": "orderflow"}]
    return pattern


def _without_sid(sid: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def edit(document: dict[str, Any]) -> dict[str, Any]:
        document["Statement"] = [s for s in document["Statement"] if s.get("Sid") != sid]
        return document

    return edit


def _misspell_first_action(document: dict[str, Any]) -> dict[str, Any]:
    statement = next(s for s in document["Statement"] if str(s.get("Sid")) != "WriteOwnLogs")
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    statement["Action"] = [actions[0] + "s", *actions[1:]]
    return document


@dataclasses.dataclass(frozen=True)
class Mutation:
    id: str
    stack: str
    mutate: Callable[[ProgramRun], ProgramRun]
    rule: str
    resource: str
    level: str = "mandatory"


# Two warm instances of the notify function: one program change that two rules catch.
_WARM_NOTIFY = add_like(
    "notify-function",
    "Function",
    "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
    "notify-warm",
    {"functionName": "orderflow-dev-notify", "qualifier": "live", "provisionedConcurrentExecutions": 2},
)

MUTATIONS = [
    Mutation(
        "remove-queue-dlq",
        "dev",
        change("order-audit-queue", "Queue", {"redrivePolicy": DELETE}),
        "sqs-redrive-policy",
        "order-audit-queue",
    ),
    Mutation(
        "drop-target-retry-policy",
        "dev",
        change("orders-audit-buffer", "EventTarget", {"retryPolicy": DELETE}),
        "eventbridge-target-retry-policy",
        "orders-audit-buffer",
        "advisory",
    ),
    Mutation(
        "drop-target-dlq",
        "dev",
        change("orders-order-status-notify", "EventTarget", {"deadLetterConfig": DELETE}),
        "eventbridge-target-dlq",
        "orders-order-status-notify",
    ),
    Mutation(
        "add-provisioned-concurrency",
        "dev",
        _WARM_NOTIFY,
        "lambda-no-provisioned-concurrency",
        "notify-warm",
    ),
    Mutation(
        "provisioned-concurrency-breaks-budget",
        "dev",
        _WARM_NOTIFY,
        "idle-cost-budget",
        "orderflow-dev",
    ),
    Mutation(
        "add-star-action",
        "dev",
        change_json("audit-policy", "RolePolicy", "policy", _star_action),
        "iam-no-wildcard-actions",
        "audit-policy",
    ),
    Mutation(
        "enable-api-cache",
        "dev",
        add_like(
            "orders-api-stage",
            "Stage",
            "aws:apigateway/stage:Stage",
            "legacy-rest-stage",
            {
                "restApi": "r1",
                "stageName": "v1",
                "deployment": "d1",
                "xrayTracingEnabled": True,
                "cacheClusterEnabled": True,
                "cacheClusterSize": "0.5",
                "accessLogSettings": {"destinationArn": "arn:aws:logs:eu-west-1:1:log-group:x", "format": "{}"},
            },
        ),
        "apigateway-no-cache-cluster",
        "legacy-rest-stage",
    ),
    Mutation(
        "drop-async-invoke-config",
        "dev",
        drop("notify-async", "FunctionEventInvokeConfig"),
        "lambda-async-failure-destination",
        "notify-function",
    ),
    Mutation(
        "drop-reserved-concurrency",
        "prod",
        change("audit-function", "Function", {"reservedConcurrentExecutions": DELETE}),
        "lambda-reserved-concurrency",
        "audit-function",
    ),
    Mutation(
        "rule-dlq-without-queue-policy",
        "dev",
        drop("orders-audit-dlq-policy", "QueuePolicy"),
        "sqs-dlq-admits-writer",
        "orders-audit-dlq-queue",
    ),
    Mutation(
        "role-may-not-write-its-failure-destination",
        "dev",
        change_json("notify-policy", "RolePolicy", "policy", _without_sid("DeliverFailedInvocations")),
        "lambda-failure-destination-writable",
        "notify-function",
    ),
    Mutation(
        "tracing-without-xray-permissions",
        "dev",
        change_json("notify-policy", "RolePolicy", "policy", _without_sid("WriteTraces")),
        "lambda-tracing-permissions",
        "notify-function",
    ),
    Mutation(
        "misspelled-action",
        "dev",
        change_json("notify-policy", "RolePolicy", "policy", _misspell_first_action),
        "iam-actions-valid",
        "notify-policy",
    ),
    Mutation(
        "secret-in-environment",
        "dev",
        change("notify-function", "Function", {"environment.variables.PAYMENT_API_KEY": "sk_live_0123456789"}),
        "lambda-no-secrets-in-environment",
        "notify-function",
    ),
    Mutation(
        "drop-memory-size",
        "dev",
        change("get-order-function", "Function", {"memorySize": DELETE}),
        "lambda-memory-size-set",
        "get-order-function",
    ),
    Mutation(
        "unbounded-log-retention",
        "dev",
        change("notify-logs", "LogGroup", {"retentionInDays": DELETE}),
        "log-group-retention",
        "notify-logs",
    ),
    Mutation(
        "drop-function-log-group", "dev", drop("audit-logs", "LogGroup"), "lambda-log-group-retention", "audit-function"
    ),
    Mutation(
        "provisioned-table",
        "dev",
        change("orders-table", "Table", {"billingMode": "PROVISIONED", "readCapacity": 5, "writeCapacity": 5}),
        "dynamodb-on-demand",
        "orders-table",
    ),
    Mutation(
        "short-visibility-timeout",
        "dev",
        change("order-audit-queue", "Queue", {"visibilityTimeoutSeconds": 5}),
        "sqs-visibility-timeout",
        "order-audit-queue",
    ),
    Mutation(
        "unbounded-sqs-consumer",
        "dev",
        change("order-audit-consumer", "EventSourceMapping", {"scalingConfig": DELETE}),
        "lambda-sqs-source-max-concurrency",
        "order-audit-consumer",
    ),
    Mutation(
        "shared-execution-role",
        "dev",
        lambda run: change(
            "get-order-function", "Function", {"role": _record(run, "create-order-function", "Function").inputs["role"]}
        )(run),
        "lambda-unique-execution-role",
        "get-order-function",
    ),
    Mutation(
        "unthrottled-http-stage",
        "dev",
        change("orders-api-stage", "Stage", {"defaultRouteSettings": DELETE}),
        "apigateway-default-throttling",
        "orders-api-stage",
    ),
    Mutation(
        "open-route",
        "dev",
        change("orders-api-post-orders", "Route", {"authorizationType": "NONE", "authorizerId": DELETE}),
        "apigateway-route-authorization",
        "orders-api-post-orders",
    ),
    Mutation(
        "pattern-typo",
        "dev",
        change_json("orders-audit-rule", "EventRule", "eventPattern", _unknown_operator),
        "eventbridge-pattern-valid",
        "orders-audit-rule",
    ),
    Mutation(
        "forever-archive",
        "dev",
        change("orders-archive", "EventArchive", {"retentionDays": DELETE}),
        "eventbridge-archive-retention",
        "orders-archive",
    ),
    Mutation(
        "drop-bucket-versioning",
        "dev",
        drop("receipts-versioning", "BucketVersioning"),
        "s3-bucket-versioning",
        "receipts-bucket",
    ),
    Mutation(
        "task-without-retry",
        "dev",
        change_json("fulfillment-state-machine", "StateMachine", "definition", _remove_first_retry),
        "sfn-task-retry-catch",
        "fulfillment-state-machine",
    ),
    Mutation(
        "public-bucket-allowed",
        "dev",
        change("receipts-public-access-block", "BucketPublicAccessBlock", {"blockPublicPolicy": False}),
        "s3-block-public-access",
        "receipts-public-access-block",
    ),
    Mutation(
        "unprotected-prod-table",
        "prod",
        change("payments-table", "Table", {"deletionProtectionEnabled": False}),
        "dynamodb-deletion-protection",
        "payments-table",
    ),
    Mutation(
        "function-on-python3.9",
        "prod",
        change("notify-function", "Function", {"runtime": "python3.9"}),
        "lambda-runtime-supported",
        "notify-function",
    ),
    Mutation(
        "drop-every-prod-alarm",
        "prod",
        lambda run: dataclasses.replace(
            run, resources=[r for r in run.resources if r.type != "aws:cloudwatch/metricAlarm:MetricAlarm"]
        ),
        "dead-letter-queue-alarm-suggested",
        "order-audit-dlq",
        level="advisory",
    ),
    Mutation(
        "drop-prod-dlq-alarm",
        "prod",
        drop("ops-dlq-order-audit", "MetricAlarm"),
        "dead-letter-queue-alarmed",
        "order-audit-dlq",
    ),
]


@pytest.fixture(scope="module")
def mutated_reports() -> dict[tuple[str, Callable[[ProgramRun], ProgramRun]], PolicyReport]:
    """The pack's report of each mutated run, kept for the module: one program change two rules catch runs once."""
    return {}


@pytest.mark.parametrize("mutation", MUTATIONS, ids=lambda m: m.id)
def test_policy_program_mutation_is_caught(
    mutation: Mutation,
    request: pytest.FixtureRequest,
    mutated_reports: dict[tuple[str, Callable[[ProgramRun], ProgramRun]], PolicyReport],
) -> None:
    baseline: PolicyReport = request.getfixturevalue(f"{mutation.stack}_report")
    run: ProgramRun = request.getfixturevalue(f"{mutation.stack}_run")
    before = {(v.policy_name, v.resource_name) for v in baseline.violations if v.enforcement_level == mutation.level}
    key = (mutation.stack, mutation.mutate)
    if key not in mutated_reports:
        mutated_reports[key] = _report(mutation.mutate(run))
    report = mutated_reports[key]
    found = {(v.policy_name, v.resource_name) for v in report.violations if v.enforcement_level == mutation.level}
    assert (mutation.rule, mutation.resource) in found - before, sorted(found - before)


def test_policy_program_a_reused_pack_reports_what_a_fresh_one_does(dev_run: ProgramRun) -> None:
    mutation = next(mutation for mutation in MUTATIONS if mutation.stack == "dev")
    assert _report(mutation.mutate(dev_run)).violations, "a run before, with findings, in the module's pack process"
    reused = _report(dev_run)
    with fresh_packs():
        fresh = _report(dev_run)
    assert reused == fresh
