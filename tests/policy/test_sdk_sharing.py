"""The pack's patches of the SDK's servicer (policy_pack._sdk_sharing): a canary on the internals they rely
on, the same responses as the SDK's own path (one conversion per resource, only the rules of the request's
type, the runtime configured once per thread), and the fallback on any other SDK release."""

from __future__ import annotations

import hashlib
import inspect
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi
import pulumi.runtime.config
import pulumi_policy.policy as sdk_policy
import pytest
from google.protobuf import json_format, struct_pb2
from policy_cases import CASES
from policy_stack_cases import STACK_CASES
from policy_testkit import Res
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel, StackValidationPolicy
from pulumi_policy.proxy import UnknownValueError

from policy_pack import ALL_POLICIES, PACK_NAME, _sdk_sharing
from policy_pack._core import UNKNOWN_STRING, ResourceRule, StackRule, StackView
from policy_pack._sdk_sharing import (
    SHARED_SDK_VERSION,
    build_stack_once,
    configure_runtime_once_per_thread,
    share_property_conversion,
    skip_rules_of_other_types,
)

ACCOUNT = "123456789012"
STACK_URN = "urn:pulumi:dev::orderflow::pulumi:pulumi:Stack::orderflow-dev"
REQUIREMENTS = Path(__file__).resolve().parents[2] / "policy" / "requirements.txt"
SERVICER = sdk_policy._PolicyAnalyzerServicer


PROVIDER = analyzer_pb2.AnalyzerProviderResource(
    urn="urn:pulumi:dev::orderflow::pulumi:providers:aws::default_7_51_1", type="pulumi:providers:aws", name="default"
)
PROVIDER.properties.update({"region": "eu-west-1"})


def _resource(type_: str, name: str, props: dict[str, Any]) -> analyzer_pb2.AnalyzerResource:
    struct = struct_pb2.Struct()
    struct.update(props)
    return analyzer_pb2.AnalyzerResource(
        type=type_,
        name=name,
        urn=f"urn:pulumi:dev::orderflow::{type_}::{name}",
        properties=struct,
        parent=STACK_URN,
        provider=PROVIDER,
    )


RESOURCES = [
    # Untraced, unbounded, no log group retention: several rules fire on it.
    _resource(
        "aws:lambda/function:Function",
        "fn",
        {"name": "fn", "arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:fn", "runtime": "python3.9"},
    ),
    _resource("aws:cloudwatch/logGroup:LogGroup", "fn-logs", {"name": "/aws/lambda/fn"}),
    _resource("aws:sqs/queue:Queue", "q", {"name": "q", "arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"}),
]


@pytest.fixture
def restored_sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a test shares, the SDK module and servicer are as they were afterwards."""
    for name in ("json_format", "deserialize_properties", "unknown_checking_proxy"):
        monkeypatch.setattr(sdk_policy, name, getattr(sdk_policy, name))
    for name in (
        "Analyze",
        "AnalyzeStack",
        "Remediate",
        "_get_resource_options",
        "_get_provider_resource",
        "_configure_runtime_settings",
    ):
        monkeypatch.setattr(SERVICER, name, getattr(SERVICER, name))
    for flag in (
        "_orderflow_shared",
        "_orderflow_dispatched",
        "_orderflow_configured_once",
        "_orderflow_stack_built_once",
    ):
        monkeypatch.setattr(sdk_policy, flag, False, raising=False)
    yield


def _serve() -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Every resource through Analyze, then the stack through AnalyzeStack, on an in-process servicer."""
    servicer = SERVICER(
        PACK_NAME, "0.0.1", list(ALL_POLICIES), EnforcementLevel.ADVISORY, None, None, None, None, None, None, None
    )
    analyzed = [
        json_format.MessageToDict(
            servicer.Analyze(
                analyzer_pb2.AnalyzeRequest(
                    type=r.type, name=r.name, urn=r.urn, properties=r.properties, provider=r.provider
                ),
                None,
            )
        )
        for r in RESOURCES
    ]
    stack = json_format.MessageToDict(
        servicer.AnalyzeStack(analyzer_pb2.AnalyzeStackRequest(resources=RESOURCES), None)
    )
    return analyzed, stack


def _counting(monkeypatch: pytest.MonkeyPatch, owner: Any, name: str) -> list[int]:
    calls = [0]
    original: Callable[..., Any] = getattr(owner, name)

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls[0] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


def test_sdk_sharing_canary_the_pinned_sdk_still_converts_per_policy() -> None:
    # The pin, the module's known release and the installed SDK agree: an upgrade fails here first.
    assert f"pulumi-policy=={SHARED_SDK_VERSION}\n" in REQUIREMENTS.read_text()
    assert sdk_policy.VERSION == SHARED_SDK_VERSION
    assert sdk_policy.json_format is json_format or getattr(sdk_policy, "_orderflow_shared", False)
    analyze, analyze_stack = inspect.getsource(SERVICER.Analyze), inspect.getsource(SERVICER.AnalyzeStack)
    # The conversions the memo keys on: the same message object, converted inside the loop over policies.
    for source, message in ((analyze, "request.properties"), (analyze_stack, "r.properties")):
        body = source.split("for policy in self.__policies:", 1)[1]
        assert f"deserialize_properties(json_format.MessageToDict({message}))" in body
        assert "unknown_checking_proxy(deserialized)" in body
    assert list(inspect.signature(SERVICER.Analyze).parameters) == ["self", "request", "_context"]
    for reader in (SERVICER._get_resource_options, SERVICER._get_provider_resource):
        assert list(inspect.signature(reader).parameters) == ["self", "request"]
        assert f"self.{reader.__name__}(request)" in analyze
        assert f"self.{reader.__name__}(r)" in analyze_stack


def test_sdk_sharing_gives_the_sdk_answers_with_one_conversion_per_resource(
    monkeypatch: pytest.MonkeyPatch, restored_sdk: None
) -> None:
    conversions = _counting(monkeypatch, sdk_policy, "deserialize_properties")
    views = _counting(monkeypatch, StackView, "_build")
    sdk_answers = _serve()
    sdk_conversions, sdk_views = conversions[0], views[0]
    conversions[0] = views[0] = 0

    assert share_property_conversion()
    shared_answers = _serve()

    assert shared_answers == sdk_answers
    assert any(answer.get("diagnostics") for answer in sdk_answers[0])
    resource_policies = len(ALL_POLICIES) - sum(isinstance(p, StackRule) for p in ALL_POLICIES) - 1
    assert sdk_conversions > resource_policies * len(RESOURCES)
    # The resource's and its provider's properties, once in each Analyze and once more in the AnalyzeStack call.
    assert conversions[0] == 2 * 2 * len(RESOURCES)
    assert sdk_views > 1
    assert views[0] == 1


def test_sdk_sharing_leaves_any_other_sdk_release_on_its_own_path(
    monkeypatch: pytest.MonkeyPatch, restored_sdk: None
) -> None:
    monkeypatch.setattr(_sdk_sharing, "SDK_VERSION", "1.22.0")
    before = (sdk_policy.json_format, sdk_policy.deserialize_properties, SERVICER.Analyze, SERVICER.AnalyzeStack)
    conversions = _counting(monkeypatch, sdk_policy, "deserialize_properties")

    assert not share_property_conversion()

    assert (sdk_policy.json_format, SERVICER.Analyze, SERVICER.AnalyzeStack) == (before[0], before[2], before[3])
    analyzed, _ = _serve()
    assert any(answer.get("diagnostics") for answer in analyzed)
    assert conversions[0] > len(ALL_POLICIES)


def _servicer() -> Any:
    return SERVICER(
        PACK_NAME, "0.0.1", list(ALL_POLICIES), EnforcementLevel.ADVISORY, None, None, None, None, None, None, None
    )


def _configured(levels: dict[str, int], servicer: Any = None) -> Any:
    """A servicer (new by default) with some rules at other levels (remediate, disabled) than their default."""
    servicer = servicer or _servicer()
    request = analyzer_pb2.ConfigureAnalyzerRequest()
    for name, level in levels.items():
        request.policyConfig[name].enforcementLevel = level
    servicer.Configure(request, None)
    return servicer


# A fixing rule moved to remediate, a fixing rule disabled, and a rule without a fix at remediate (the SDK says
# it is not applicable on every Remediate call, whatever the type): each path through the SDK's loops.
_FIXING = [p.name for p in ALL_POLICIES if isinstance(p, ResourceRule) and p.has_remediation()]
_NOT_FIXING = [p.name for p in ALL_POLICIES if isinstance(p, ResourceRule) and not p.has_remediation()]
LEVELS = {_FIXING[0]: analyzer_pb2.REMEDIATE, _FIXING[1]: analyzer_pb2.DISABLED, _NOT_FIXING[0]: analyzer_pb2.REMEDIATE}


def _requests() -> list[analyzer_pb2.AnalyzeRequest]:
    """Every resource of the resource-rule cases (baselines and mutations of every type the rules inspect)."""
    requests = []
    for index, case in enumerate(CASES):
        struct = struct_pb2.Struct()
        struct.update(case.props)
        requests.append(
            analyzer_pb2.AnalyzeRequest(
                type=case.type,
                name=f"r{index}",
                urn=f"urn:pulumi:dev::orderflow::{case.type}::r{index}",
                properties=struct,
                provider=PROVIDER,
                options=analyzer_pb2.AnalyzerResourceOptions(parent=STACK_URN),
            )
        )
    return requests


def _remediate_then_analyze(servicer: Any, requests: list[analyzer_pb2.AnalyzeRequest]) -> list[dict[str, Any]]:
    """Every request through ``Remediate`` then ``Analyze``, with ``LEVELS``; then again with the defaults."""
    return _each(_configured(LEVELS, servicer), requests) + _each(_configured({}, servicer), requests)


def _each(servicer: Any, requests: list[analyzer_pb2.AnalyzeRequest]) -> list[dict[str, Any]]:
    return [
        {
            "remediate": json_format.MessageToDict(servicer.Remediate(request, None)),
            "analyze": json_format.MessageToDict(servicer.Analyze(request, None)),
        }
        for request in requests
    ]


def test_sdk_sharing_canary_the_servicer_loops_over_every_policy_per_resource() -> None:
    # skip_rules_of_other_types hands the servicer a view whose policy list is this attribute.
    assert isinstance(_servicer().__dict__[_sdk_sharing._POLICIES_ATTRIBUTE], list)
    for call in (SERVICER.Analyze, SERVICER.Remediate):
        source = inspect.getsource(call)
        assert source.count("self.__policies") == 1
        assert "for policy in self.__policies:" in source
        assert source.split("def ", 2)[1].count("self._configure_runtime_settings()") == 1
    # Remediate passes over a policy below the remediate level; Configure replaces the levels (so they key a memo).
    remediate = inspect.getsource(SERVICER.Remediate)
    assert "if (enforcement_level != EnforcementLevel.REMEDIATE or" in remediate
    assert "not isinstance(policy, ResourceValidationPolicy)):" in remediate
    assert "self.__policy_pack_config_enforcement_level = config_enforcement_level" in inspect.getsource(
        SERVICER.Configure
    )
    assert isinstance(_servicer().__dict__[_sdk_sharing._LEVELS_ATTRIBUTE], dict)
    # A resource rule does nothing, in either call, for a type it does not inspect: the one thing skipping relies on.
    rule = next(p for p in ALL_POLICIES if isinstance(p, ResourceRule) and p.has_remediation())
    for name in ("_validate", "_remediate"):
        assert "args.resource_type not in self._types" in inspect.getsource(getattr(ResourceRule, name))
    assert not rule.applies_to("aws:not/a:Type")
    # What _configure_runtime_settings reads: the variables the once-per-thread memo keys on, and nothing else.
    configure = inspect.getsource(SERVICER._configure_runtime_settings)
    read = set(re.findall(r"os\.environ(?:\.get\(|\[)\"(PULUMI_[A-Z_]+)\"", configure)) | {"PULUMI_CONFIG"}
    assert read == set(_sdk_sharing._RUNTIME_ENVIRONMENT)
    assert "get_config_env()" in configure
    assert 'os.environ["PULUMI_CONFIG"]' in inspect.getsource(pulumi.runtime.config.get_config_env)


def test_sdk_sharing_every_patch_gives_the_sdk_answers_for_every_case(
    monkeypatch: pytest.MonkeyPatch, restored_sdk: None
) -> None:
    requests = _requests()
    sdk_answers = _remediate_then_analyze(_servicer(), requests)
    validations = _counting(monkeypatch, ResourceRule, "_validate")
    fixes = _counting(monkeypatch, ResourceRule, "_remediate")

    assert share_property_conversion() and skip_rules_of_other_types() and configure_runtime_once_per_thread()
    patched_answers = _remediate_then_analyze(_servicer(), requests)

    assert patched_answers == sdk_answers
    assert sum(bool(answer["analyze"].get("diagnostics")) for answer in sdk_answers) > len(requests) // 3
    assert any(answer["remediate"].get("remediations") for answer in sdk_answers[: len(requests)])
    assert any(answer["remediate"].get("remediations") for answer in sdk_answers[len(requests) :])
    # With LEVELS a rule without a fix is at remediate: the SDK says so on every Remediate call.
    assert all(answer["remediate"].get("notApplicable") for answer in sdk_answers[: len(requests)])
    assert not any(answer["remediate"].get("notApplicable") for answer in sdk_answers[len(requests) :])
    # Only the rules of each request's type ran: a few per resource, not all seventy.
    rules = sum(isinstance(p, ResourceRule) for p in ALL_POLICIES)
    assert validations[0] < 2 * 15 * len(requests) < 2 * rules * len(requests)
    assert fixes[0] < len(requests)


def test_sdk_sharing_configures_the_runtime_again_only_when_its_environment_changes(
    monkeypatch: pytest.MonkeyPatch, restored_sdk: None
) -> None:
    monkeypatch.setattr(_sdk_sharing._CONFIGURED, "environment", None)
    settings = _counting(monkeypatch, pulumi.runtime, "configure")
    monkeypatch.setenv("PULUMI_PROJECT", "orderflow")
    monkeypatch.setenv("PULUMI_STACK", "dev")
    monkeypatch.setenv("PULUMI_DRY_RUN", "true")
    monkeypatch.setenv("PULUMI_CONFIG", '{"orderflow:x": "1"}')
    assert configure_runtime_once_per_thread()
    servicer, request = _servicer(), _requests()[0]

    for _ in range(3):
        servicer.Analyze(request, None)
    assert settings[0] == 1
    assert pulumi.get_stack() == "dev" and pulumi.runtime.is_dry_run()

    monkeypatch.setenv("PULUMI_STACK", "prod")
    monkeypatch.setenv("PULUMI_CONFIG", '{"orderflow:x": "2"}')
    servicer.Remediate(request, None)
    assert settings[0] == 2
    assert pulumi.get_stack() == "prod"
    assert pulumi.Config("orderflow").get("x") == "2"


def test_sdk_sharing_every_patch_leaves_any_other_sdk_release_alone(
    monkeypatch: pytest.MonkeyPatch, restored_sdk: None
) -> None:
    monkeypatch.setattr(_sdk_sharing, "SDK_VERSION", "1.22.0")
    names = ("Analyze", "AnalyzeStack", "Remediate", "_configure_runtime_settings")
    before = {name: getattr(SERVICER, name) for name in names}

    assert not skip_rules_of_other_types()
    assert not configure_runtime_once_per_thread()
    assert not build_stack_once()

    assert {name: getattr(SERVICER, name) for name in before} == before


def _stack_request(resources: list[Res]) -> analyzer_pb2.AnalyzeStackRequest:
    """A stack case as the engine sends it: the stack resource first, each resource its child, with its dependencies."""
    request = analyzer_pb2.AnalyzeStackRequest()
    request.resources.add(type="pulumi:pulumi:Stack", name="orderflow-dev", urn=STACK_URN)
    for resource in resources:
        added = request.resources.add(
            type=resource.type,
            name=resource.name,
            urn=resource.urn,
            parent=STACK_URN,
            dependencies=sorted({urn for urns in resource.deps.values() for urn in urns}),
            provider=PROVIDER,
            options=analyzer_pb2.AnalyzerResourceOptions(protect=resource.name.startswith("a")),
        )
        added.properties.update(resource.props)
        for key, urns in resource.deps.items():
            added.propertyDependencies[key].urns.extend(urns)
    return request


_STACK_RULES = [p.name for p in ALL_POLICIES if isinstance(p, StackRule)]
STACK_LEVELS = {_STACK_RULES[0]: analyzer_pb2.REMEDIATE, _STACK_RULES[1]: analyzer_pb2.DISABLED}


def test_sdk_sharing_canary_analyze_stack_is_the_release_build_stack_once_was_written_from() -> None:
    # build_stack_once answers AnalyzeStack itself: any change to the SDK's (a new release) must be read again.
    source = inspect.getsource(SERVICER.AnalyzeStack)
    for step in (
        "self._configure_runtime_settings()",
        "if enforcement_level == EnforcementLevel.DISABLED or not isinstance(policy, StackValidationPolicy):",
        "if enforcement_level == EnforcementLevel.REMEDIATE:",
        "PolicyResource(r.type, props, r.urn, r.name, opts, provider, None, [], {})",
        "if i.parent is not None and i.parent in urns_to_resources:",
        "args = StackValidationArgs(resources, config, self.__stack_tags)",
        "during preview: {e.message}",
        "except _NotApplicableError as e:",
    ):
        assert step in source, step
    assert hashlib.sha256(source.encode()).hexdigest()[:16] == ANALYZE_STACK_SOURCE


ANALYZE_STACK_SOURCE = "3917a008482c2387"
"""The first 16 hex digits of the SHA-256 of pulumi-policy 1.21.0's ``AnalyzeStack`` source."""


def test_sdk_sharing_build_stack_once_gives_the_sdk_answers_for_every_stack_case(
    monkeypatch: pytest.MonkeyPatch, restored_sdk: None
) -> None:
    requests = [_stack_request(case.build()) for case in STACK_CASES]
    requests.append(_stack_request([Res("aws:sqs/queue:Queue", "q", {"name": "q", "redrivePolicy": UNKNOWN_STRING})]))

    def answers() -> list[dict[str, Any]]:
        servicer = _configured(STACK_LEVELS)
        return [json_format.MessageToDict(servicer.AnalyzeStack(request, None)) for request in requests]

    sdk_answers = answers()
    builds = _counting(monkeypatch, sdk_policy, "PolicyResource")
    assert build_stack_once() and share_property_conversion() and skip_rules_of_other_types()
    patched_answers = answers()

    assert patched_answers == sdk_answers
    assert sum(bool(answer.get("diagnostics")) for answer in sdk_answers) > len(requests) // 2
    assert any(d.get("enforcementLevel") == "MANDATORY" for a in sdk_answers for d in a.get("diagnostics", []))
    assert builds[0] == sum(len(request.resources) for request in requests)


def _raise_unknown(args: Any, report: Any) -> None:
    report("found before the unknown value")
    raise UnknownValueError(UNKNOWN_STRING, ["redrivePolicy"])


async def _report_later(args: Any, report: Any) -> None:
    report(f"{len(args.resources)} resources, asynchronously", args.resources[-1].urn)


def test_sdk_sharing_build_stack_once_answers_every_path_of_a_stack_policy_as_the_sdk_does(restored_sdk: None) -> None:
    seen: list[Any] = []
    policies = [
        StackValidationPolicy(
            name="probe", description="records", validate=lambda args, _: seen.append(args.resources)
        ),
        StackValidationPolicy(
            name="probe-again", description="records", validate=lambda a, _: seen.append(a.resources)
        ),
        StackValidationPolicy(name="unknown", description="raises on an unknown value", validate=_raise_unknown),
        StackValidationPolicy(name="skips", description="n/a", validate=lambda args, _: args.not_applicable("why")),
        StackValidationPolicy(name="later", description="async", validate=_report_later),
        StackValidationPolicy(
            name="off", description="disabled", validate=_raise_unknown, enforcement_level=EnforcementLevel.DISABLED
        ),
    ]
    stacks = (case.build() for case in STACK_CASES)
    request = _stack_request(next(stack for stack in stacks if any(resource.deps for resource in stack)))
    request.resources[3].dependencies.append("urn:pulumi:dev::orderflow::aws:sqs/queue:Queue::not-in-the-stack")

    def answer() -> tuple[dict[str, Any], list[tuple[Any, ...]]]:
        seen.clear()
        servicer = SERVICER(PACK_NAME, "0.0.1", policies, EnforcementLevel.MANDATORY, *[None] * 7)
        response = json_format.MessageToDict(servicer.AnalyzeStack(request, None))
        first, second = seen
        assert [r.urn for r in first] == [r.urn for r in second]
        shape = [
            (
                r.urn,
                r.resource_type,
                r.name,
                sorted(r.props),
                r.parent.urn if r.parent else None,
                [d.urn for d in r.dependencies],
                {k: [d.urn for d in v] for k, v in r.property_dependencies.items()},
                r.opts.protect,
                r.provider.urn if r.provider else None,
            )
            for r in first
        ]
        return response, shape

    sdk_response, sdk_shape = answer()
    assert build_stack_once()
    assert answer() == (sdk_response, sdk_shape)
    messages = [d["message"] for d in sdk_response["diagnostics"]]
    assert any("during preview" in message for message in messages) and len(messages) == 3
    assert sdk_response["notApplicable"] == [{"policyName": "skips", "reason": "why"}]
    assert any(parent for _, _, _, _, parent, deps, *_ in sdk_shape) and any(deps for *_, deps, _, _, _ in sdk_shape)
