"""The pack's patch of the SDK's servicer (policy_pack._sdk_sharing): a canary on the internals it relies
on, the same responses as the SDK's own path with one conversion per resource, and the fallback on any
other SDK release."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pulumi_policy.policy as sdk_policy
import pytest
from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2
from pulumi_policy import EnforcementLevel

from policy_pack import ALL_POLICIES, PACK_NAME, _sdk_sharing
from policy_pack._core import StackRule, StackView
from policy_pack._sdk_sharing import SHARED_SDK_VERSION, share_property_conversion

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
    for name in ("Analyze", "AnalyzeStack", "_get_resource_options", "_get_provider_resource"):
        monkeypatch.setattr(SERVICER, name, getattr(SERVICER, name))
    monkeypatch.setattr(sdk_policy, "_orderflow_shared", False, raising=False)
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
