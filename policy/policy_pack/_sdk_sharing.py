"""Convert each resource's properties once per ``Analyze`` / ``AnalyzeStack`` call instead of once per policy.

pulumi-policy's gRPC servicer rebuilds a resource's properties for every policy it runs: for each of the
pack's ~90 policies it calls ``json_format.MessageToDict``, ``deserialize_properties`` and
``unknown_checking_proxy`` on the same protobuf ``Struct``, and rebuilds the resource's options and provider
record (measured: about 45 % of the pack's time). The SDK has no public hook for this, so
:func:`share_property_conversion` wraps those three names inside ``pulumi_policy.policy`` and the servicer's
two record builders with memos keyed on the identity of their argument, alive only for the length of one
``Analyze`` or ``AnalyzeStack`` call (thread-local: the SDK serves from a pool of threads). Every policy of
that call then reads the same converted view, which the pack's rules only read (through
:class:`policy_pack._core.Props`). ``Remediate`` is left alone: the SDK converts once there already, and
remediations write to the properties they are given.

Three more per-call costs of the servicer are cut the same way:

- :func:`skip_rules_of_other_types`: ``Analyze`` and ``Remediate`` loop over every policy of the pack and
  build a report callback, an arguments record and a config copy for each, although a
  :class:`~policy_pack._core.ResourceRule` returns at once for a resource type it does not inspect (70 rules,
  at most 11 of them for any one type) and ``Remediate`` passes over every policy below the ``remediate``
  level. The servicer then runs those calls over the policies that may act on the request's type, in the
  pack's order: the same responses, without the no-op rounds (and a ``Remediate`` none can act on answers
  empty without converting the resource).
- :func:`build_stack_once`: ``AnalyzeStack`` rebuilds the whole stack (a record per resource with its
  options, provider, parent and dependencies linked) once per stack policy: 22 times over, which is most of
  the call's time on a large stack. The servicer then builds it once per call and hands every stack policy
  the same records (the pack's stack rules only read them), each policy otherwise run as the SDK runs it.
- :func:`configure_runtime_once_per_thread`: every call starts by re-reading ``PULUMI_CONFIG`` and
  rebuilding the Pulumi runtime settings (``inspect.signature`` included, ~0.1 ms); the settings are
  context variables, so the servicer's worker threads each hold their own. It is done again on a thread only
  when the variables it reads changed.

Each runs only on the SDK version it was written against (:data:`SHARED_SDK_VERSION`, pinned in
``policy/requirements.txt``) and only when the servicer still has the shape it relies on; otherwise the
SDK's own path runs unchanged. ``tests/policy/test_sdk_sharing.py`` is the canary for all four.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import os
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

import pulumi_policy.policy as sdk_policy
from google.protobuf import json_format
from pulumi_policy.version import VERSION as SDK_VERSION

from policy_pack._core import ResourceRule

__all__ = [
    "SHARED_SDK_VERSION",
    "build_stack_once",
    "configure_runtime_once_per_thread",
    "share_property_conversion",
    "skip_rules_of_other_types",
]

SHARED_SDK_VERSION: Final = "1.21.0"
"""The pulumi-policy release whose servicer internals this module was checked against."""

_SERVICER_CALLS: Final = ("Analyze", "AnalyzeStack")
_CONVERSIONS: Final = ("deserialize_properties", "unknown_checking_proxy")
# Servicer helpers that build a resource's options and provider record from the request, also per policy.
_REQUEST_READERS: Final = ("_get_resource_options", "_get_provider_resource")
# Servicer calls that loop over the pack's policies for one resource, and the attribute they loop over.
_PER_RESOURCE_CALLS: Final = ("Analyze", "Remediate")
_POLICIES_ATTRIBUTE: Final = "_PolicyAnalyzerServicer__policies"
_LEVELS_ATTRIBUTE: Final = "_PolicyAnalyzerServicer__policy_pack_config_enforcement_level"
# What the AnalyzeStack of build_stack_once uses of the SDK module and of the servicer.
_SDK_NAMES: Final = (
    "PolicyResource",
    "ResourceValidationPolicy",
    "StackValidationArgs",
    "StackValidationPolicy",
    "UnknownValueError",
    "_NotApplicableError",
)
_SERVICER_HELPERS: Final = (
    "_configure_runtime_settings",
    "_get_enforcement_level",
    "_create_report_violation",
    "_get_policy_config",
    "_map_enforcement_level",
)
# What _configure_runtime_settings reads (pulumi_policy 1.21.0; pulumi.runtime.get_config_env).
_RUNTIME_ENVIRONMENT: Final = (
    "PULUMI_CONFIG",
    "PULUMI_PROJECT",
    "PULUMI_STACK",
    "PULUMI_DRY_RUN",
    "PULUMI_ORGANIZATION",
)


class _CallScope(threading.local):
    """Per thread, during one call: a table per remembered function, argument id -> (argument, result)."""

    tables: defaultdict[int, dict[int, tuple[Any, Any]]] | None = None


_SCOPE: Final = _CallScope()
_SLOTS: Final = itertools.count()
"""A table key per remembered function."""


def _remembered(convert: Callable[..., Any], *, context_args: bool = False) -> Callable[..., Any]:
    """``convert``, answered from the current call's table when it has seen the same argument object.

    Only the first argument is the key: further positional arguments pass through uncached unless
    ``context_args`` says they are context (the servicer) that cannot change within a call.
    """
    slot = next(_SLOTS)

    @functools.wraps(convert)
    def remembered(value: Any, *args: Any, **kwargs: Any) -> Any:
        tables = _SCOPE.tables
        if tables is None or kwargs or (args and not context_args):
            return convert(value, *args, **kwargs)
        table = tables[slot]
        hit = table.get(id(value))
        if hit is None:
            # The table holds the argument too, so its id cannot be reused by another object during the call.
            hit = table[id(value)] = (value, convert(value, *args))
        return hit[1]

    return remembered


def _remembered_reader(read: Callable[[Any, Any], Any]) -> Callable[[Any, Any], Any]:
    """A servicer helper ``read(self, request)``, answered from the current call's memo for the same request."""
    remember = _remembered(lambda request, servicer: read(servicer, request), context_args=True)

    @functools.wraps(read)
    def remembered(self: Any, request: Any) -> Any:
        return remember(request, self)

    return remembered


def _scoped(serve: Callable[..., Any]) -> Callable[..., Any]:
    """``serve`` (a servicer method) with a fresh memo for the length of the call."""

    @functools.wraps(serve)
    def scoped(self: Any, request: Any, context: Any) -> Any:
        _SCOPE.tables = defaultdict(dict)
        try:
            return serve(self, request, context)
        finally:
            _SCOPE.tables = None

    return scoped


class _JsonFormat:
    """``google.protobuf.json_format`` as the SDK module sees it, with a remembered ``MessageToDict``."""

    MessageToDict = staticmethod(_remembered(json_format.MessageToDict))

    def __getattr__(self, name: str) -> Any:
        return getattr(json_format, name)


def _sdk_shape_is_known() -> bool:
    """Whether the installed SDK is the release and shape this module was written against."""
    servicer = getattr(sdk_policy, "_PolicyAnalyzerServicer", None)
    return (
        SDK_VERSION == SHARED_SDK_VERSION
        and servicer is not None
        and all(callable(getattr(sdk_policy, name, None)) for name in (*_CONVERSIONS, *_SDK_NAMES))
        and all(
            callable(getattr(servicer, name, None))
            for name in (*_SERVICER_CALLS, *_REQUEST_READERS, *_PER_RESOURCE_CALLS, *_SERVICER_HELPERS)
        )
    )


def share_property_conversion() -> bool:
    """Make the SDK convert each resource's properties once per call, shared by every policy.

    Call it once, before the pack starts serving (``policy/__main__.py``).

    Returns
    -------
    bool
        ``True`` when the SDK now shares conversions; ``False`` when the installed pulumi-policy is not
        :data:`SHARED_SDK_VERSION` or its servicer changed shape, in which case nothing was changed.
    """
    if getattr(sdk_policy, "_orderflow_shared", False):
        return True
    if not _sdk_shape_is_known() or getattr(sdk_policy, "json_format", None) is not json_format:
        return False
    sdk_policy.json_format = _JsonFormat()
    for name in _CONVERSIONS:
        setattr(sdk_policy, name, _remembered(getattr(sdk_policy, name)))
    servicer = sdk_policy._PolicyAnalyzerServicer
    for name in _REQUEST_READERS:
        setattr(servicer, name, _remembered_reader(getattr(servicer, name)))
    for name in _SERVICER_CALLS:
        setattr(servicer, name, _scoped(getattr(servicer, name)))
    sdk_policy._orderflow_shared = True  # type: ignore[attr-defined]
    return True


def _acts_on(servicer: Any, policy: Any, resource_type: str, call: str) -> bool:
    """Whether the SDK's ``call`` (``Analyze`` or ``Remediate``) may answer anything for ``policy`` on this type.

    A resource rule's validation and fix return at once for a type it does not inspect. ``Remediate`` passes
    over every policy not at the ``remediate`` level; at that level a rule without a fix stays, whatever the
    type: the SDK reports it not applicable.
    """
    if call == "Remediate" and (
        servicer._get_enforcement_level(policy) != sdk_policy.EnforcementLevel.REMEDIATE
        or not isinstance(policy, sdk_policy.ResourceValidationPolicy)
    ):
        return False
    if not isinstance(policy, ResourceRule) or policy.applies_to(resource_type):
        return True
    return call == "Remediate" and not policy.has_remediation()


def _policies_for(servicer: Any, resource_type: str, call: str) -> list[Any]:
    """The servicer's policies, in order, less those that cannot act on ``resource_type`` in ``call``.

    Remembered per call and type for as long as the configured levels are the same (``Configure`` replaces them).
    """
    levels = servicer.__dict__.get(_LEVELS_ATTRIBUTE)
    remembered = servicer.__dict__.get("_orderflow_policies_by_type")
    if remembered is None or remembered[0] is not levels:
        remembered = servicer.__dict__["_orderflow_policies_by_type"] = (levels, {})
    by_type: dict[tuple[str, str], list[Any]] = remembered[1]
    policies = by_type.get((call, resource_type))
    if policies is None:
        policies = by_type[call, resource_type] = [
            policy
            for policy in getattr(servicer, _POLICIES_ATTRIBUTE)
            if _acts_on(servicer, policy, resource_type, call)
        ]
    return policies


def _for_request_type(serve: Callable[..., Any]) -> Callable[..., Any]:
    """``serve`` (``Analyze`` or ``Remediate``) run on a view of the servicer holding only the request type's policies.

    The view is a shallow copy made per call (no state of the servicer is changed, so concurrent calls for
    other types are unaffected); everything but the policy list is the servicer's own objects. A ``Remediate``
    no policy can act on answers the SDK's empty response without converting the resource's properties.
    """
    call = serve.__name__

    @functools.wraps(serve)
    def dispatched(self: Any, request: Any, context: Any) -> Any:
        policies = _policies_for(self, request.type, call)
        if call == "Remediate" and not policies:
            self._configure_runtime_settings()
            return sdk_policy.proto.RemediateResponse()
        view = object.__new__(type(self))
        view.__dict__.update(self.__dict__)
        view.__dict__[_POLICIES_ATTRIBUTE] = policies
        return serve(view, request, context)

    return dispatched


def skip_rules_of_other_types() -> bool:
    """Make ``Analyze`` and ``Remediate`` skip the resource rules that do not inspect the request's type.

    Call it once, before the pack starts serving (``policy/__main__.py``).

    Returns
    -------
    bool
        ``True`` when the servicer now skips them; ``False`` (nothing changed) on any other SDK release or shape.
    """
    return _wrap_once("_orderflow_dispatched", _PER_RESOURCE_CALLS, _for_request_type)


def _wrap_once(flag: str, names: tuple[str, ...], wrap: Callable[[Callable[..., Any]], Callable[..., Any]]) -> bool:
    """Replace the servicer's methods ``names`` by ``wrap`` of each, once (``flag`` on the SDK module says it was).

    Returns ``False``, changing nothing, when the SDK is not the release and shape this module knows.
    """
    if getattr(sdk_policy, flag, False):
        return True
    if not _sdk_shape_is_known():
        return False
    servicer = sdk_policy._PolicyAnalyzerServicer
    for name in names:
        setattr(servicer, name, wrap(getattr(servicer, name)))
    setattr(sdk_policy, flag, True)
    return True


class _Configured(threading.local):
    """Per worker thread: the environment the runtime settings were last configured from."""

    environment: tuple[str | None, ...] | None = None


_CONFIGURED: Final = _Configured()


def _configure_when_changed(configure: Callable[[Any], None]) -> Callable[[Any], None]:
    """``configure`` (the servicer's ``_configure_runtime_settings``), run on a thread only when its inputs changed."""

    @functools.wraps(configure)
    def configure_when_changed(self: Any) -> None:
        environment = tuple(os.environ.get(name) for name in _RUNTIME_ENVIRONMENT)
        if _CONFIGURED.environment != environment:
            configure(self)
            _CONFIGURED.environment = environment

    return configure_when_changed


def configure_runtime_once_per_thread() -> bool:
    """Make each servicer call configure the Pulumi runtime only when the environment it reads changed.

    Call it once, before the pack starts serving (``policy/__main__.py``).

    Returns
    -------
    bool
        ``True`` when the servicer now configures once per thread; ``False`` (nothing changed) on any other
        SDK release or shape.
    """
    return _wrap_once("_orderflow_configured_once", ("_configure_runtime_settings",), _configure_when_changed)


def _stack_records(servicer: Any, request: Any) -> list[Any]:
    """The request's resources as the SDK hands them to a stack policy, built once.

    Each record has its properties, options and provider; then its parent, dependencies and property
    dependencies are linked to the records of the URNs named (a URN outside the request is left out).
    """
    records: list[Any] = []
    by_urn: dict[str, Any] = {}
    for resource in request.resources:
        props = sdk_policy.unknown_checking_proxy(
            sdk_policy.deserialize_properties(sdk_policy.json_format.MessageToDict(resource.properties))
        )
        record = sdk_policy.PolicyResource(
            resource.type,
            props,
            resource.urn,
            resource.name,
            servicer._get_resource_options(resource),
            servicer._get_provider_resource(resource),
            None,
            [],
            {},
        )
        records.append(record)
        by_urn[resource.urn] = record
    for resource, record in zip(request.resources, records, strict=True):
        if resource.parent in by_urn:
            record.parent = by_urn[resource.parent]
        record.dependencies.extend(by_urn[urn] for urn in resource.dependencies if urn in by_urn)
        for key, urns in resource.propertyDependencies.items():
            record.property_dependencies[key] = [by_urn[urn] for urn in urns.urns if urn in by_urn]
    return records


def _analyze_stack_built_once(self: Any, request: Any, _context: Any) -> Any:
    """``AnalyzeStack`` as the SDK answers it, with the stack's records built once for all stack policies."""
    levels = sdk_policy.EnforcementLevel
    proto = sdk_policy.proto
    pack_name = self.__dict__["_PolicyAnalyzerServicer__policy_pack_name"]
    pack_version = self.__dict__["_PolicyAnalyzerServicer__policy_pack_version"]
    self._configure_runtime_settings()
    response = proto.AnalyzeResponse()
    records: list[Any] | None = None  # built when the first stack policy runs, as the SDK builds none otherwise
    for policy in self.__dict__[_POLICIES_ATTRIBUTE]:
        level = self._get_enforcement_level(policy)
        if level == levels.DISABLED or not isinstance(policy, sdk_policy.StackValidationPolicy):
            continue
        if level == levels.REMEDIATE:  # a stack policy cannot remediate: it reports as mandatory
            level = levels.MANDATORY
        report = self._create_report_violation(response, policy.name, policy.description, level, policy.severity)
        if records is None:
            records = _stack_records(self, request)
        stack_tags = self.__dict__["_PolicyAnalyzerServicer__stack_tags"]
        args = sdk_policy.StackValidationArgs(list(records), self._get_policy_config(policy.name), stack_tags)
        try:
            result = policy.validate(args, report)
            if inspect.isawaitable(result):
                loop = asyncio.new_event_loop()
                loop.run_until_complete(asyncio.Task(result, loop=loop))  # type: ignore[arg-type]
                loop.close()
        except sdk_policy.UnknownValueError as error:
            response.diagnostics.append(
                proto.AnalyzeDiagnostic(
                    policyName=policy.name,
                    policyPackName=pack_name,
                    policyPackVersion=pack_version,
                    message=(
                        f"can't run policy '{policy.name}' from policy pack '{pack_name}@v{pack_version}' "
                        f"during preview: {error.message}"
                    ),
                    urn="",
                    description=policy.description,
                    enforcementLevel=self._map_enforcement_level(levels.ADVISORY),
                )
            )
        except sdk_policy._NotApplicableError as error:
            skipped = proto.PolicyNotApplicable(policy_name=policy.name, reason=error.reason or "")
            response.not_applicable.append(skipped)
    return response


def build_stack_once() -> bool:
    """Make ``AnalyzeStack`` build the stack's records once per call instead of once per stack policy.

    Call it once, before the pack starts serving (``policy/__main__.py``).

    Returns
    -------
    bool
        ``True`` when the servicer now builds them once; ``False`` (nothing changed) on any other SDK release
        or shape.
    """
    return _wrap_once("_orderflow_stack_built_once", ("AnalyzeStack",), lambda _: _analyze_stack_built_once)
