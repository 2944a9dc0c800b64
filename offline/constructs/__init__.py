"""Offline models of component packages' ``Construct``: the children a remote component registers.

A ``remote=True`` component (``pulumi_awsx.ecs.FargateService``, ``pulumi_aws_apigateway.RestAPI``,
``pulumi_synced_folder.S3BucketFolder``…) is built by the engine calling ``Construct`` on the package's provider
plugin, which registers the children. No engine and no plugin run offline, so each model here states, as a pure
function of the component's inputs, which children that package's release registers and with which inputs: the
ones policies read (listeners, task definitions, security groups, bucket objects…). The offline engine registers
them under the component as the plugin would, so the pack checks them.

A model follows one release of its package, named in :attr:`ComponentModel.follows`; a component type without a
model is still recorded, and the plan names it under "Not checked offline".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""The wire sentinel of a value not known during a preview (``pulumi.runtime.rpc.UNKNOWN``)."""

_SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"
_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d"


@dataclass(frozen=True)
class Ref:
    """An output of an earlier child of the same construct, as the plugin would pass it (``Ref("web-lb", "arn")``).

    The engine resolves it to that child's output when the mocks know it (after a create) and to
    :data:`UNKNOWN` when a preview would not (a first preview, an output the mocks do not model); the child
    holding it depends on the one referred to.
    """

    child: str
    """Name (or :attr:`Child.key`) of the earlier child."""
    output: str = "id"
    """The output's wire name (``id``, ``arn``, ``name``…)."""
    type: str = ""
    """The child's type token, needed when children of several types share a name (a RestApi, its Deployment
    and its Stage are all named after the component)."""
    suffix: str = ""
    """Text the package appends to the output (``f"{api.executionArn}/*/GET/hello"``); the value stays unknown
    while the output is."""


@dataclass(frozen=True)
class JsonText:
    """A string input holding ``value`` as compact JSON, serialised once its :class:`Ref` are resolved.

    For a document the plugin builds from other children's outputs (a task definition's
    ``containerDefinitions`` naming its log group): an unresolved output stays an unknown inside the
    document, so what is known in it can still be checked.
    """

    value: Any
    """The document (JSON values, :class:`Ref`, :data:`UNKNOWN`)."""


@dataclass(frozen=True)
class Child:
    """One resource a component's ``Construct`` registers.

    Attributes
    ----------
    type:
        Type token, e.g. ``aws:lb/listener:Listener``.
    name:
        Logical name, as the package names it (usually ``f"{component name}-<role>"`` or the component's name).
    inputs:
        Wire inputs (camelCase keys, JSON values; :data:`UNKNOWN` where a preview would not know the value, a
        :class:`Ref` for another child's output).
    parent:
        Name of an earlier child of the same construct that parents this one; ``""`` for the component itself.
    depends_on:
        Names of earlier children of the same construct this one depends on.
    custom:
        ``False`` for a nested component (e.g. ``awsx:ecs:FargateTaskDefinition`` inside a ``FargateService``).
    key:
        The handle ``parent``, ``depends_on`` and :class:`Ref` use for this child; ``""`` for its name. Needed
        where a package gives several children the same name (awsx names a service, its task definition and
        their log group all after the component).
    """

    type: str
    name: str
    inputs: Mapping[str, Any] = field(default_factory=dict)
    parent: str = ""
    depends_on: tuple[str, ...] = ()
    custom: bool = True
    key: str = ""


@dataclass(frozen=True)
class ConstructContext:
    """What a model may read besides the inputs: the component's name and where the program runs."""

    name: str
    """The component's logical name."""
    program_dir: Path
    """The program's directory: relative paths in inputs (a synced folder's ``path``) are relative to it."""
    region: str
    """The AWS region of the stack's default provider."""
    stack: str = ""
    """The stack's name (``pulumi.getStack()`` in the plugin; some packages hash it into child names)."""
    resource_output: Callable[[Any, str], Any] = field(default=lambda reference, output: UNKNOWN)
    """An output of a resource the program passed in (given as its id or URN), as the plugin reads a resource
    argument (``eventHandler.invokeArn``): known after a create, :data:`UNKNOWN` when the engine would not know it."""


ModelBuilder = Callable[[Mapping[str, Any], ConstructContext], list[Child]]


@dataclass(frozen=True)
class ComponentModel:
    """How one remote component type is modelled offline."""

    build: ModelBuilder
    """The children for the component's inputs, in registration order (parents before their children)."""
    follows: str
    """The package release and source the model follows, e.g. ``awsx 3.x (awsx/ecs/fargateService.ts)``."""


def is_known(value: Any) -> bool:
    """Whether ``value`` is known (not the preview's unknown sentinel, and not an unknown secret)."""
    return unwrap(value) != UNKNOWN


def is_secret(value: Any) -> bool:
    """Whether ``value`` is a secret, or holds one anywhere (a child built from it is secret too)."""
    if isinstance(value, dict) and value.get(_SIGNATURE_KEY) == _SECRET_SIGNATURE:
        return True
    if isinstance(value, dict):
        return any(is_secret(item) for item in value.values())
    return isinstance(value, list | tuple) and any(is_secret(item) for item in value)


def secret(value: Any) -> dict[str, Any]:
    """``value`` marked secret on the wire, as a plugin's input built from a secret would be."""
    return {_SIGNATURE_KEY: _SECRET_SIGNATURE, "value": value}


def unwrap(value: Any) -> Any:
    """``value`` without a secret's wrapper (models read a secret's value; the child inputs keep the wrapper)."""
    if isinstance(value, dict) and value.get(_SIGNATURE_KEY) == _SECRET_SIGNATURE:
        return value.get("value", UNKNOWN)
    return value


@dataclass(frozen=True)
class Derived:
    """An input the package computes from another child's output (an ``Output.apply``), whole or not at all.

    For more than the output itself: a bucket policy written around the bucket's ARN, a role policy naming log
    streams by the account in a log group's ARN. It stays :data:`UNKNOWN` while the output is, as the
    plugin's apply would.
    """

    ref: Ref
    """The output it is computed from."""
    apply: Callable[[Any], Any]
    """The computation, given the known output."""


def _models() -> dict[str, ComponentModel]:
    from offline.constructs import aws_apigateway, awsx, awsx_ecs, eks, synced_folder

    models: dict[str, ComponentModel] = {}
    for module in (awsx, awsx_ecs, aws_apigateway, synced_folder, eks):
        models.update(module.MODELS)
    return models


MODELS: dict[str, ComponentModel] = _models()
"""Remote component type token → its offline model."""
