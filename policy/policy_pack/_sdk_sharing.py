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

It runs only on the SDK version it was written against (:data:`SHARED_SDK_VERSION`, pinned in
``policy/requirements.txt``) and only when the servicer still has the shape it relies on; otherwise the
SDK's own path runs unchanged. ``tests/policy/test_sdk_sharing.py`` is the canary for both.
"""

from __future__ import annotations

import functools
import itertools
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, Final

import pulumi_policy.policy as sdk_policy
from google.protobuf import json_format
from pulumi_policy.version import VERSION as SDK_VERSION

__all__ = ["SHARED_SDK_VERSION", "share_property_conversion"]

SHARED_SDK_VERSION: Final = "1.21.0"
"""The pulumi-policy release whose servicer internals this module was checked against."""

_SERVICER_CALLS: Final = ("Analyze", "AnalyzeStack")
_CONVERSIONS: Final = ("deserialize_properties", "unknown_checking_proxy")
# Servicer helpers that build a resource's options and provider record from the request, also per policy.
_REQUEST_READERS: Final = ("_get_resource_options", "_get_provider_resource")


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
        and getattr(sdk_policy, "json_format", None) is json_format
        and all(callable(getattr(sdk_policy, name, None)) for name in _CONVERSIONS)
        and all(callable(getattr(servicer, name, None)) for name in (*_SERVICER_CALLS, *_REQUEST_READERS))
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
    if not _sdk_shape_is_known():
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
