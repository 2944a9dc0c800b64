"""Shared helpers for the policy tests: compliant baselines, patches, a stack builder, SDK-faithful props."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy.proxy import unknown_checking_proxy

from policy_pack import rule
from policy_pack._core import UNKNOWN_STRING, Node, Props, StackView, stack_config_values

DELETE = object()
UNKNOWN = UNKNOWN_STRING


def patched(props: Mapping[str, Any], changes: Mapping[str, Any]) -> dict[str, Any]:
    """A deep copy of ``props`` with dotted-path ``changes`` applied (``DELETE`` removes a key).

    The changes are copied too: a later dotted change must not write into a dict that other cases share.
    """
    result = copy.deepcopy(dict(props))
    for path, value in copy.deepcopy(dict(changes), {id(DELETE): DELETE}).items():
        *parents, last = path.split(".")
        target: Any = result
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target.setdefault(part, {})
        if value is DELETE:
            if isinstance(target, dict):
                target.pop(last, None)
        elif isinstance(target, list):
            target[int(last)] = value
        else:
            target[last] = value
    return result


def findings(
    rule_name: str, resource_type: str, props: Mapping[str, Any], config: Mapping[str, Any] | None = None
) -> list[str]:
    """What one resource rule reports for one resource, with the props wrapped as the SDK wraps them."""
    target = rule(rule_name)
    return target.findings(unknown_checking_proxy(copy.deepcopy(dict(props))), resource_type, config)


@dataclass
class Res:
    """A resource for a stack-rule test: its outputs, and the URNs each property depends on."""

    type: str
    name: str
    props: dict[str, Any]
    deps: dict[str, list[str]] = field(default_factory=dict)

    @property
    def urn(self) -> str:
        return f"urn:pulumi:dev::orderflow::{self.type}::{self.name}"


def stack_of(*resources: Res, stack_config: Mapping[str, str] | None = None) -> StackView:
    """A stack view as the SDK would build it for a stack policy, with the stack's config the engine passes."""
    nodes = [
        Node(
            urn=r.urn,
            type=r.type,
            name=r.name,
            props=Props(unknown_checking_proxy(copy.deepcopy(r.props))),
            parent="",
            dependencies=frozenset(u for urns in r.deps.values() for u in urns),
            property_dependencies={key: frozenset(urns) for key, urns in r.deps.items()},
        )
        for r in resources
    ]
    return StackView(nodes, config_values=stack_config_values(stack_config or {}))


def stack_findings(
    rule_name: str,
    *resources: Res,
    config: Mapping[str, Any] | None = None,
    stack_config: Mapping[str, str] | None = None,
) -> list[tuple[str, str]]:
    """``(urn name, message)`` of every finding of one stack rule."""
    target = rule(rule_name)
    found = target.findings(stack_of(*resources, stack_config=stack_config), config)
    return [((f.urn or "").rsplit("::", 1)[-1], f.message) for f in found]


def dumps(document: Any) -> str:
    return json.dumps(document)


# ---- synthetic program runs for the gRPC path --------------------------------------------------------

PROJECT = "orderflow"
STACK = "dev"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
PROVIDER_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:providers:aws::default_7_51_1"
PROVIDER_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def recorded(
    type_: str,
    name: str,
    inputs: Mapping[str, Any],
    *,
    outputs: Mapping[str, Any] | None = None,
    deps: Mapping[str, list[str]] | None = None,
    custom: bool = True,
) -> Any:
    """A :class:`offline.recording.RecordedResource` as the harness records it (wire struct included)."""
    from google.protobuf import struct_pb2

    from offline.recording import RecordedResource

    struct = struct_pb2.Struct()
    struct.update(copy.deepcopy(dict(inputs)))
    return RecordedResource(
        urn=f"urn:pulumi:{STACK}::{PROJECT}::{type_}::{name}",
        type=type_,
        name=name,
        custom=custom,
        parent=STACK_URN,
        provider=f"{PROVIDER_URN}::{PROVIDER_ID}" if custom else "",
        dependencies=tuple(u for urns in (deps or {}).values() for u in urns),
        property_dependencies={k: tuple(v) for k, v in (deps or {}).items()},
        options={"protect": False, "ignoreChanges": []},
        inputs=dict(inputs),
        inputs_struct=struct,
        id=name,
        outputs=dict(outputs if outputs is not None else inputs),
    )


def program_run(*resources: Any, config: Mapping[str, str] | None = None) -> Any:
    """A :class:`offline.recording.ProgramRun` with the stack and default provider records in front."""
    from google.protobuf import struct_pb2

    from offline.recording import ProgramRun, RecordedResource

    def top_level(urn: str, type_: str, name: str, inputs: dict[str, Any], **more: Any) -> RecordedResource:
        """A record with no parent, provider or dependencies, as the engine registers the stack and providers."""
        struct = struct_pb2.Struct()
        struct.update(inputs)
        unattached = {"parent": "", "provider": "", "dependencies": (), "property_dependencies": {}, "options": {}}
        return RecordedResource(
            urn=urn, type=type_, name=name, inputs=inputs, inputs_struct=struct, **unattached, **more
        )

    stack = top_level(STACK_URN, "pulumi:pulumi:Stack", f"{PROJECT}-{STACK}", {}, custom=False)
    provider_inputs = {"region": "eu-west-1", "version": "7.51.1"}
    provider = top_level(
        PROVIDER_URN,
        "pulumi:providers:aws",
        "default_7_51_1",
        provider_inputs,
        custom=True,
        id=PROVIDER_ID,
        outputs=dict(provider_inputs),
    )
    return ProgramRun(
        project=PROJECT,
        stack=STACK,
        config=dict(config or {"aws:region": "eu-west-1"}),
        resources=[stack, provider, *resources],
        outputs={},
    )
