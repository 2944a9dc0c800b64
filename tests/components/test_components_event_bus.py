"""EventBus: bus, archive and policy; every rule target retried into a DLQ; patterns linted once, here."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest
from pulumi.runtime import settings

from components.event_bus import EventBus, EventBusArgs, RuleArgs, RuleTarget, bus_policy
from components.event_patterns import EventPatternError
from orderflow import routing
from tests.components.conftest import ACCOUNT, PARTITION, PREFIX, REGION, TAGS, build

BUS = "aws:cloudwatch/eventBus:EventBus"
ARCHIVE = "aws:cloudwatch/eventArchive:EventArchive"
BUS_POLICY = "aws:cloudwatch/eventBusPolicy:EventBusPolicy"
RULE = "aws:cloudwatch/eventRule:EventRule"
TARGET = "aws:cloudwatch/eventTarget:EventTarget"
PERMISSION = "aws:lambda/permission:Permission"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
QUEUE_COMPONENT = "orderflow:messaging:Queue"
PATTERN = {"source": ["probe"], "detail-type": ["Happened"]}
FUNCTION_ARN = f"arn:{PARTITION}:lambda:{REGION}:{ACCOUNT}:function:probe-test-worker"
MACHINE_ARN = f"arn:{PARTITION}:states:{REGION}:{ACCOUNT}:stateMachine:probe-test-flow"
BUS_ARN = f"arn:{PARTITION}:events:{REGION}:{ACCOUNT}:event-bus/{PREFIX}-events"


def bus(**args: Any) -> EventBus:
    return EventBus("events", EventBusArgs(archive_retention_days=7, **args, tags=TAGS))


def test_defaults_a_bus_with_a_bounded_archive_and_a_policy_for_its_own_account_only() -> None:
    built = build(bus)

    assert built.component.type == "orderflow:events:EventBus"
    assert built.kinds() == {(BUS, "events-bus"), (ARCHIVE, "events-archive"), (BUS_POLICY, "events-policy")}
    assert built.inputs("events-bus") == {"name": f"{PREFIX}-events"}
    assert built.inputs("events-archive") == {
        "name": f"{PREFIX}-events-archive",
        "eventSourceArn": BUS_ARN,
        "retentionDays": 7,
        "description": f"Replayable copy of {PREFIX}-events",
    }
    policy = built.inputs("events-policy")
    assert policy["eventBusName"] == f"{PREFIX}-events"
    assert json.loads(policy["policy"]) == {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AllowPutEventsFromAccounts",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{PARTITION}:iam::{ACCOUNT}:root"]},
                "Action": "events:PutEvents",
                "Resource": BUS_ARN,
            }
        ],
    }


def test_reserved_detail_types_are_refused_with_any_other_source() -> None:
    built = build(lambda: bus(reserved_detail_types={"probe": ["Happened"]}))

    deny = json.loads(built.inputs("events-policy")["policy"])["Statement"][1]
    assert deny == {
        "Sid": "DenyForeignSourceForReservedDetailTypes0",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "events:PutEvents",
        "Resource": BUS_ARN,
        "Condition": {
            "StringEquals": {"events:detail-type": ["Happened"]},
            "StringNotEquals": {"events:source": "probe"},
        },
    }


def test_a_lambda_target_is_retried_into_the_rules_dlq_and_invoked_only_by_its_rule() -> None:
    rules = {"happened": RuleArgs(PATTERN, {"worker": RuleTarget("lambda", FUNCTION_ARN)}, "Happenings")}
    built = build(lambda: bus(rules=rules))

    assert built.kinds() == {
        (BUS, "events-bus"),
        (ARCHIVE, "events-archive"),
        (BUS_POLICY, "events-policy"),
        (RULE, "events-happened-rule"),
        (QUEUE_COMPONENT, "events-happened-dlq"),
        (PERMISSION, "events-happened-worker-invoke"),
        (TARGET, "events-happened-worker"),
    }
    rule_arn = built.child("events-happened-rule").outputs["arn"]
    assert built.inputs("events-happened-rule") == {
        "name": f"{PREFIX}-events-happened",
        "eventBusName": f"{PREFIX}-events",
        "eventPattern": json.dumps(PATTERN),
        "description": "Happenings",
    }
    assert built.inputs("events-happened-worker-invoke") == {
        "action": "lambda:InvokeFunction",
        "function": FUNCTION_ARN,
        "principal": "events.amazonaws.com",
        "sourceArn": rule_arn,
    }
    dlq = built.run.named("events-happened-dlq-queue")
    assert built.inputs("events-happened-worker") == {
        "rule": f"{PREFIX}-events-happened",
        "eventBusName": f"{PREFIX}-events",
        "targetId": "worker",
        "arn": FUNCTION_ARN,
        "retryPolicy": {"maximumRetryAttempts": 8, "maximumEventAgeInSeconds": 3600},
        "deadLetterConfig": {"arn": dlq.outputs["arn"]},
    }
    target = built.child("events-happened-worker")
    # depends_on a component waits for its children.
    assert {dlq.urn, built.child("events-happened-worker-invoke").urn} <= set(target.dependencies)
    send = json.loads(built.run.named("events-happened-dlq-policy").inputs["policy"])["Statement"][1]
    assert send["Principal"] == {"Service": "events.amazonaws.com"}
    assert send["Condition"] == {"ArnEquals": {"aws:SourceArn": rule_arn}}
    assert "redrivePolicy" not in dlq.inputs, "a DLQ has no DLQ of its own"


def test_targets_take_input_transformers_and_retry_bounds() -> None:
    target = RuleTarget(
        "lambda",
        FUNCTION_ARN,
        input_transformer={"input_paths": {"id": "$.id"}, "input_template": '{"eventId": <id>}'},
        maximum_retry_attempts=3,
        maximum_event_age_seconds=600,
    )
    built = build(lambda: bus(rules={"shaped": RuleArgs(PATTERN, {"worker": target})}))

    inputs = built.inputs("events-shaped-worker")
    assert inputs["inputTransformer"] == {"inputPaths": {"id": "$.id"}, "inputTemplate": '{"eventId": <id>}'}
    assert inputs["retryPolicy"] == {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 600}


def test_a_state_machine_target_is_started_through_a_role_limited_to_it() -> None:
    built = build(lambda: bus(rules={"happened": RuleArgs(PATTERN, {"flow": RuleTarget("sfn", MACHINE_ARN)})}))

    assert (ROLE, "events-invoke-role") in built.kinds() and (PERMISSION, "events-happened-flow-invoke") not in (
        built.kinds()
    )
    role = built.inputs("events-invoke-role")
    assert json.loads(role.pop("assumeRolePolicy"))["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert role == {"description": f"Lets {PREFIX}-events's rules start workflows and forward events"}
    policy = built.inputs("events-invoke-policy")
    assert policy["role"] == built.child("events-invoke-role").id
    assert json.loads(policy["policy"])["Statement"] == [
        {"Sid": "InvokeSfn", "Effect": "Allow", "Action": "states:StartExecution", "Resource": [MACHINE_ARN]}
    ]
    assert built.inputs("events-happened-flow")["roleArn"] == built.child("events-invoke-role").outputs["arn"]


def test_forwarding_from_the_default_bus_may_put_only_what_the_rule_matches() -> None:
    built = build(lambda: bus(forward_from_default={"forward": PATTERN}))

    rule = built.inputs("events-forward-rule")
    assert rule == {
        "name": f"{PREFIX}-events-forward",
        "eventBusName": "default",
        "eventPattern": json.dumps(PATTERN),
        "description": f"Forward matching events from the default bus to {PREFIX}-events",
    }
    assert built.inputs("events-forward-bus")["arn"] == BUS_ARN
    assert json.loads(built.inputs("events-invoke-policy")["policy"])["Statement"] == [
        {
            "Sid": "InvokeBusForward",
            "Effect": "Allow",
            "Action": "events:PutEvents",
            "Resource": [BUS_ARN],
            "Condition": {"StringEquals": {"events:source": ["probe"], "events:detail-type": ["Happened"]}},
        }
    ]


def test_a_pattern_holding_outputs_is_recorded_and_conditioned_on_its_resolved_values() -> None:
    pattern = {"source": [pulumi.Output.from_input("probe")], "detail": {"bucket": [pulumi.Output.from_input("b")]}}
    built = build(lambda: bus(forward_from_default={"forward": pattern}))

    resolved = {"source": ["probe"], "detail": {"bucket": ["b"]}}
    assert built.inputs("events-forward-rule")["eventPattern"] == json.dumps(resolved)
    (statement,) = json.loads(built.inputs("events-invoke-policy")["policy"])["Statement"]
    assert statement["Condition"] == {"StringEquals": {"events:source": ["probe"]}}


def pattern_error(raised: BaseException) -> EventPatternError:
    """The lint's error behind the engine's "while processing input" wrappers."""
    cause: BaseException | None = raised
    while cause is not None and not isinstance(cause, EventPatternError):
        cause = cause.__cause__ or cause.__context__
    assert cause is not None, f"no EventPatternError behind {raised!r}"
    return cause


@pytest.mark.parametrize("where", ["rules", "forward_from_default"])
@pytest.mark.parametrize("with_outputs", [False, True], ids=["plain", "with-outputs"])
def test_a_malformed_pattern_fails_the_program_naming_its_rule(where: str, with_outputs: bool) -> None:
    def construct() -> EventBus:
        wrap = pulumi.Output.from_input if with_outputs else str
        pattern = {"source": [wrap("ok")], "detail": {"key": [{"prefx": wrap("a")}]}}
        args = (
            {"rules": {"typo": RuleArgs(pattern, {})}}
            if where == "rules"
            else {"forward_from_default": {"typo": pattern}}
        )
        return bus(**args)

    with pytest.raises(ValueError, match=r"rule 'typo' at \$\.detail\.key\[0\]\.prefx: unknown operator") as raised:
        build(construct)
    assert pattern_error(raised.value).rule_name == "typo"


def test_an_empty_receipts_bucket_output_fails_the_program_when_it_resolves() -> None:
    def construct() -> EventBus:
        pattern = routing.receipt_created_pattern(pulumi.Output.from_input(""))
        return bus(forward_from_default={"forward-receipts": pattern})

    with pytest.raises(ValueError, match="receipts_bucket_name must be a non-empty string, got ''"):
        build(construct)


def test_a_failed_build_leaves_nothing_that_fails_the_next() -> None:
    # Canary: set_mocks keeps the SDK's set of outputs to await; build() forgets a failed program's.
    assert isinstance(settings.SETTINGS.outputs, set)
    with pytest.raises(ValueError, match="'typo'"):
        build(lambda: bus(rules={"typo": RuleArgs({"source": [{"prefx": "a"}]}, {})}))

    assert build(bus).component.type == "orderflow:events:EventBus"


def test_an_unknown_target_kind_fails_naming_rule_and_target() -> None:
    rules = {"happened": RuleArgs(PATTERN, {"worker": RuleTarget("ecs", FUNCTION_ARN)})}

    with pytest.raises(ValueError, match="'happened' target 'worker' has unknown kind 'ecs'"):
        build(lambda: bus(rules=rules))


def test_a_source_with_named_publishers_is_refused_to_every_other_principal() -> None:
    publisher = f"arn:{PARTITION}:iam::{ACCOUNT}:role/probe-publisher"
    workflow = pulumi.Output.from_input(f"arn:{PARTITION}:iam::{ACCOUNT}:role/probe-flow")
    built = build(lambda: bus(source_publishers={"probe": [workflow, publisher]}))

    deny = json.loads(built.inputs("events-policy")["policy"])["Statement"][1]
    assert deny == {
        "Sid": "DenySourceToOtherPrincipals0",
        "Effect": "Deny",
        "Principal": "*",
        "Action": "events:PutEvents",
        "Resource": BUS_ARN,
        "Condition": {
            "StringEquals": {"events:source": "probe"},
            "ArnNotEquals": {"aws:PrincipalArn": [f"arn:{PARTITION}:iam::{ACCOUNT}:role/probe-flow", publisher]},
        },
    }


def test_a_source_without_publishers_fails_naming_it() -> None:
    with pytest.raises(ValueError, match="source 'probe' names no publisher"):
        bus_policy(BUS_ARN, ACCOUNT, [], source_publishers={"probe": []})
