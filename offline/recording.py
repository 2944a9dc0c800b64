"""What the engine would see: every resource the program registers, and the stack's outputs.

These records are shared by the tests, the offline plan (``make preview``) and the policy-pack
driver, so they hold exactly what a Pulumi engine receives in ``RegisterResource``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import struct_pb2

STACK_TYPE = "pulumi:pulumi:Stack"
SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"
"""The key of a wire value that is not plain data (pulumi/sdk/go/common/resource/properties.go)."""


def holds_signed_values(struct: struct_pb2.Struct) -> bool:
    """Whether a wire ``Struct`` holds a resource reference, output, secret, asset or archive anywhere.

    Read from its serialized bytes, in C: most resources' inputs hold none, and need no conversion.
    """
    return SIGNATURE_KEY.encode() in struct.SerializeToString()


@dataclass(frozen=True)
class SourceLocation:
    """Where the program created a resource: a file (absolute path) and a 1-based line."""

    path: str
    line: int


@dataclass(frozen=True)
class RecordedResource:
    """One ``RegisterResource`` call, as the engine receives it.

    Attributes
    ----------
    urn:
        Engine-faithful URN: ``urn:pulumi:<stack>::<project>::<parent type chain>$<type>::<name>``.
    type:
        Resource type token, e.g. ``aws:sqs/queue:Queue``.
    name:
        Logical name given by the program.
    custom:
        ``True`` for provider resources, ``False`` for components and the stack.
    parent:
        Parent URN (the stack's URN for top-level resources, ``""`` for the stack itself).
    provider:
        Provider reference ``<provider urn>::<provider id>``; the default provider when the program
        named none (see :data:`DEFAULT_PROVIDER_NAME_PREFIX`).
    dependencies:
        URNs from ``depends_on`` and from every input's output dependencies.
    property_dependencies:
        Input name → URNs that input depends on.
    options:
        The resource options the engine forwards to policies (``protect``, ``ignoreChanges``,
        ``deleteBeforeReplace``, ``additionalSecretOutputs``, ``retainOnDelete``, ``replaceOnChanges``).
    inputs:
        Deserialized inputs (camelCase keys, as the engine and policies see them).
    inputs_struct:
        The wire ``Struct`` of inputs, byte for byte what the engine would forward.
    id:
        Physical id the mocks returned.
    outputs:
        State the mocks returned (inputs plus computed ids, names and ARNs).
    remote:
        A component built by its provider plugin (``remote=True``: awsx, synced-folder…); its children are
        not recorded offline and its outputs are unknown.
    source:
        The program's own file and line that created the resource (from the registration's stack trace).
    """

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: tuple[str, ...]
    property_dependencies: dict[str, tuple[str, ...]]
    options: dict[str, Any]
    inputs: dict[str, Any]
    inputs_struct: struct_pb2.Struct
    id: str = ""
    outputs: dict[str, Any] = field(default_factory=dict)
    remote: bool = False
    source: SourceLocation | None = None

    @property
    def is_component(self) -> bool:
        """Whether this is a component (not the stack, not a provider resource)."""
        return not self.custom and self.type != STACK_TYPE

    @property
    def is_provider(self) -> bool:
        """Whether this record is a provider resource (``pulumi:providers:<pkg>``)."""
        return self.type.startswith("pulumi:providers:")


@dataclass
class ProgramRun:
    """The result of running the program once for a stack."""

    project: str
    stack: str
    config: dict[str, str]
    resources: list[RecordedResource]
    outputs: dict[str, Any]
    preview: bool = False
    """Whether the program ran as a preview (computed outputs unknown), or as an update sees it."""
    generic_invokes: list[str] = field(default_factory=list)
    """Data sources the mocks answered generically (plausible values from the provider's result type)."""
    unknown_calls: list[str] = field(default_factory=list)
    """Resource methods the program called (``eks:index:Cluster/getKubeconfig``): their results are unknown offline."""
    unbuilt_components: dict[str, str] = field(default_factory=dict)
    """Remote component URN → why its package's model registered no children (see :mod:`offline.constructs`)."""

    def __iter__(self) -> Iterator[RecordedResource]:
        return iter(self.resources)

    @property
    def stack_urn(self) -> str:
        """URN of the root stack resource."""
        return f"urn:pulumi:{self.stack}::{self.project}::{STACK_TYPE}::{self.project}-{self.stack}"

    def of_type(self, type_: str) -> list[RecordedResource]:
        """Every resource of one type token, in registration order."""
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str, type_: str | None = None) -> RecordedResource:
        """The single resource with this logical name (and type, when given).

        Raises
        ------
        KeyError
            When no resource, or more than one, matches.
        """
        found = [r for r in self.resources if r.name == name and (type_ is None or r.type == type_)]
        if len(found) != 1:
            raise KeyError(f"{len(found)} resources named {name!r}" + (f" of type {type_}" if type_ else ""))
        return found[0]

    def by_urn(self, urn: str) -> RecordedResource:
        """The resource with this URN."""
        for resource in self.resources:
            if resource.urn == urn:
                return resource
        raise KeyError(urn)

    def children(self, parent_urn: str) -> list[RecordedResource]:
        """Direct children of a resource."""
        return [r for r in self.resources if r.parent == parent_urn]

    def descendants(self, parent_urn: str) -> list[RecordedResource]:
        """Every resource below a component, depth first."""
        found: list[RecordedResource] = []
        for child in self.children(parent_urn):
            found.append(child)
            found.extend(self.descendants(child.urn))
        return found

    def component_name(self, resource: RecordedResource) -> str:
        """The name of the component that owns ``resource`` (its own name when the stack does)."""
        parent = self.by_urn(resource.parent) if resource.parent and resource.parent != self.stack_urn else None
        return parent.name if parent is not None and parent.is_component else resource.name

    def find_by_output(self, key: str, value: Any) -> RecordedResource | None:
        """The resource whose mock output ``key`` equals ``value`` (an ARN, a name…), if any."""
        for resource in self.resources:
            if resource.outputs.get(key) == value:
                return resource
        return None


def as_list(value: Any) -> list[Any]:
    """An IAM document's ``Action``/``Resource``/``Statement``, which may be one value or a list, as a list."""
    return list(value) if isinstance(value, list | tuple) else [value]


def json_input(value: Any) -> Any:
    """An input the provider takes as a JSON string (a policy, a redrive policy), decoded; others as they are."""
    return json.loads(value) if isinstance(value, str) else value
