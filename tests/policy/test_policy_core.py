"""The rule framework: defensive reads, unknowns, malformed values, and that nothing raises out of a rule."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from policy_testkit import UNKNOWN, findings
from pulumi_policy import EnforcementLevel, PolicyResourceOptions, ResourceValidationArgs, Severity
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from policy_pack import rule
from policy_pack._core import (
    ABSENT,
    PACK_NAME,
    PACK_VERSION,
    BadValueError,
    CannotEvaluateError,
    Props,
    ResourceRule,
    plain,
    take_notes,
)


def _props(raw: dict[str, Any]) -> Props:
    return Props(unknown_checking_proxy(raw))


def test_policy_props_absent_key_is_the_provider_default() -> None:
    props = _props({"timeout": 10, "tracingConfig": {"mode": "Active"}, "nothing": None})
    assert props.get("memorySize") is ABSENT
    assert props.number("memorySize", 128) == 128
    assert props.get("nothing", "default") == "default"
    assert props.text("tracingConfig.mode") == "Active"
    assert props.get("tracingConfig.mode.deeper") is ABSENT


def test_policy_props_unknown_raises_cannot_evaluate_naming_the_path() -> None:
    props = _props({"tracingConfig": {"mode": UNKNOWN}, "layers": ["a", UNKNOWN], "role": UNKNOWN})
    with pytest.raises(CannotEvaluateError, match=r"tracingConfig\.mode"):
        props.get("tracingConfig.mode")
    with pytest.raises(CannotEvaluateError, match="layers"):
        props.seq("layers")
    with pytest.raises(CannotEvaluateError):
        props.has("role")
    # Raw sentinels (remediation props arrive without the SDK's unknown-checking proxy) count too.
    with pytest.raises(CannotEvaluateError):
        Props({"role": UNKNOWN}).get("role")
    assert isinstance(CannotEvaluateError("x"), UnknownValueError)


def test_policy_props_typed_reads_reject_wrong_shapes_naming_the_property() -> None:
    props = _props({"timeout": "ten", "enabled": "maybe", "name": 5, "doc": "{not json"})
    with pytest.raises(BadValueError, match="timeout should be a number"):
        props.number("timeout")
    with pytest.raises(BadValueError, match="enabled should be a boolean"):
        props.flag("enabled")
    with pytest.raises(BadValueError, match="name should be a string"):
        props.text("name")
    with pytest.raises(BadValueError, match="doc is not valid JSON"):
        props.json("doc")
    assert _props({"timeout": "30", "enabled": "TRUE"}).number("timeout") == 30.0
    assert _props({"enabled": "TRUE"}).flag("enabled") is True


def test_policy_plain_copies_proxies_and_refuses_unknowns() -> None:
    assert plain(unknown_checking_proxy({"a": [{"b": 1}], "c": "d"})) == {"a": [{"b": 1}], "c": "d"}
    with pytest.raises(CannotEvaluateError):
        plain(unknown_checking_proxy({"a": [UNKNOWN]}))


def test_policy_unknown_value_in_rule_is_cannot_evaluate_not_a_violation() -> None:
    with pytest.raises(CannotEvaluateError, match=r"cannot evaluate: tracingConfig\.mode"):
        findings("lambda-tracing-active", "aws:lambda/function:Function", {"tracingConfig": {"mode": UNKNOWN}})


def test_policy_malformed_value_is_a_violation_naming_the_property() -> None:
    found = findings("lambda-timeout-set", "aws:lambda/function:Function", {"timeout": "soon"})
    assert found == ["timeout should be a number, not 'soon'"]


def _args(props: Mapping[str, Any], resource_type: str = "test:index:Thing") -> ResourceValidationArgs:
    options = PolicyResourceOptions(False, [], None, [], None, [], None)  # type: ignore[arg-type]
    return ResourceValidationArgs(resource_type, unknown_checking_proxy(dict(props)), "urn:x", "thing", options, None)


def _rule(check: Any) -> ResourceRule:
    return ResourceRule(
        name="test-rule",
        summary="things are fine",
        anchors=("test T1",),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.MANDATORY,
        service="test",
        resource_types=("test:index:Thing",),
        check=check,
    )


def test_policy_rule_reports_findings_before_cannot_evaluate() -> None:
    def check(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
        yield "first problem"
        props.get("later")

    reported: list[str] = []
    _rule(check).validate(_args({"later": UNKNOWN}), lambda message, urn: reported.append(message))
    assert [line.split("\n")[0] for line in reported] == ["first problem"]
    notes = take_notes("urn:x")
    assert len(notes) == 1 and notes[0].startswith("test-rule: cannot evaluate: later is not known")


def test_policy_rule_turns_a_bug_into_an_advisory_note_instead_of_raising() -> None:
    def check(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
        raise ZeroDivisionError("boom")
        yield ""  # pragma: no cover - makes this a generator

    reported: list[str] = []
    _rule(check).validate(_args({}), lambda message, urn: reported.append(message))  # never raises
    assert reported == []
    assert take_notes("urn:x")[0].startswith("test-rule: cannot evaluate: rule test-rule failed with ZeroDivisionError")


def test_policy_direct_and_engine_paths_agree_on_malformed_values() -> None:
    def check(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
        yield "seen"
        props.number("timeout")

    rule = _rule(check)
    direct = rule.findings({"timeout": "soon"}, "test:index:Thing")
    reported: list[str] = []
    rule.validate(_args({"timeout": "soon"}), lambda message, urn: reported.append(message))
    assert direct == ["seen", "timeout should be a number, not 'soon'"]
    assert [line.split("\n")[0] for line in reported] == direct


def test_policy_messages_end_with_the_ids_and_the_pack_version() -> None:
    def check(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
        yield "something is off"

    reported: list[str] = []
    _rule(check).validate(_args({}), lambda message, urn: reported.append(message))
    assert reported == [f"something is off\n[test T1 | {PACK_NAME}@{PACK_VERSION}]"]


def test_policy_rule_ignores_other_resource_types() -> None:
    def check(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
        yield "always"

    reported: list[str] = []
    _rule(check).validate(_args({}, "aws:s3/bucket:Bucket"), lambda message, urn: reported.append(message))
    assert reported == []
    _rule(check).validate(_args({}), lambda message, urn: reported.append(message))
    assert [line.split("\n")[0] for line in reported] == ["always"]


PRESENCE_ONLY = [
    ("eventbridge-target-dlq", "aws:cloudwatch/eventTarget:EventTarget", {"deadLetterConfig": {"arn": UNKNOWN}}),
    (
        "lambda-async-config-on-failure",
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        {"destinationConfig": {"onFailure": {"destination": UNKNOWN}}},
    ),
    (
        "lambda-stream-source-failure-destination",
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        {"startingPosition": "LATEST", "eventSourceArn": UNKNOWN, "destinationConfig": UNKNOWN},
    ),
    ("lambda-memory-size-set", "aws:lambda/function:Function", {"memorySize": UNKNOWN}),
    (
        "apigateway-access-logging",
        "aws:apigatewayv2/stage:Stage",
        {"accessLogSettings": {"destinationArn": UNKNOWN, "format": UNKNOWN}},
    ),
    ("iot-topic-rule-error-action", "aws:iot/topicRule:TopicRule", {"errorAction": UNKNOWN}),
    ("sns-topic-encryption", "aws:sns/topic:Topic", {"kmsMasterKeyId": UNKNOWN}),
    (
        "lambda-permission-scoped",
        "aws:lambda/permission:Permission",
        {"principal": "events.amazonaws.com", "sourceArn": UNKNOWN},
    ),
]


@pytest.mark.parametrize(("name", "type_", "props"), PRESENCE_ONLY, ids=[p[0] for p in PRESENCE_ONLY])
def test_policy_set_but_unknown_is_set_for_presence_rules(name: str, type_: str, props: dict[str, Any]) -> None:
    # During a first preview an ARN from another resource is unknown, but it is there: decide, don't defer.
    outcome = rule(name).outcome(unknown_checking_proxy(props), type_)
    assert outcome.findings == [] and outcome.undecided == []


def test_policy_stack_view_reads_each_resources_waiver_subject_once_for_every_stack_rule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from policy_testkit import Res, stack_of

    from policy_pack import _core

    reads = [0]
    tags = _core._tags

    def counted(props: Any) -> Any:
        reads[0] += 1
        return tags(props)

    monkeypatch.setattr(_core, "_tags", counted)
    waived = {"policy:waive:sqs-redrive-policy": "audit queue, drained by hand"}
    stack = stack_of(Res("aws:sqs/queue:Queue", "audit", {"name": "audit", "tags": waived}))
    node = stack.nodes[0]

    first, again = stack.subject(node), stack.subject(node)

    assert first is again
    assert (first.urn, first.name, dict(first.tags)) == (node.urn, "audit", waived)
    assert reads[0] == 1
    for name in ("sqs-redrive-policy", "sqs-visibility-timeout", "sqs-dlq-retention"):
        rule(name).outcome(stack)
    assert reads[0] == 1
