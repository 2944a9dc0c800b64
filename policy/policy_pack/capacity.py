"""Capacity guardrail: no upstream ceiling admits more than an unbuffered hop behind it can serve.

A throttle is only a safe ceiling when what sits behind it can take what it admits. Two hops have no
buffer in between and fail silently when it cannot:

* an HTTP API route (stage throttling) in front of a Lambda proxy integration: a function that has
  reached its reserved concurrency throttles, and the caller gets 5xx errors instead of the API's
  orderly 429s;
* an SQS event source whose ``maximumConcurrency`` is above the function's reserved concurrency: the
  pollers fetch batches the function may not run, the throttled batches return to the queue and count
  towards ``maxReceiveCount``, so healthy messages end on the dead-letter queue.

A function serves ``reserved concurrency ÷ mean duration`` invocations per second; the duration is
the rule's config (a default, and per function), since the program cannot say how long code runs.
``offline/capacity.py`` computes every hop of a path with measured durations; this rule catches the
choke points a pull request's preview can see.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    CannotEvaluateError,
    Finding,
    Node,
    StackRule,
    StackView,
    generic_identity,
    lambda_identity,
)

SERVICE: Final = "capacity"

HTTP_STAGE: Final = "aws:apigatewayv2/stage:Stage"
HTTP_ROUTE: Final = "aws:apigatewayv2/route:Route"
HTTP_INTEGRATION: Final = "aws:apigatewayv2/integration:Integration"
FUNCTION: Final = "aws:lambda/function:Function"
EVENT_SOURCE_MAPPING: Final = "aws:lambda/eventSourceMapping:EventSourceMapping"


def function_ceiling(reserved: float, duration_ms: float) -> float:
    """Invocations per second a function with ``reserved`` concurrency serves at ``duration_ms`` each."""
    return reserved * 1000.0 / duration_ms


def _duration_ms(function: Node, config: Mapping[str, Any]) -> float:
    durations = config.get("durationsMs") or {}
    for key in ("name", "functionName"):
        try:
            value = function.props.get(key)
        except CannotEvaluateError:
            continue
        if isinstance(value, str) and value in durations:
            return float(durations[value])
    return float(durations.get(function.name, config["defaultDurationMs"]))


def _reserved(function: Node) -> float | None:
    """The function's reserved concurrency, ``None`` when it has none (it then shares the account pool)."""
    reserved = function.props.number("reservedConcurrentExecutions", -1)
    return float(reserved) if reserved >= 0 else None


def _linked(stack: StackView, node: Node, path: str, types: tuple[str, ...], identity: Any) -> list[Node] | None:
    """Resources ``node.path`` names: by value, else by the engine's property dependencies."""
    try:
        value = node.props.get(path)
    except CannotEvaluateError:
        value = None
    if isinstance(value, str):
        value = value.removeprefix("integrations/")
    found = stack.resolve_value(node, path, value, types, identity) if value is not None else None
    if not found:
        deps = node.property_dependencies.get(path, frozenset())
        found = [stack.by_urn[urn] for urn in sorted(deps) if urn in stack.by_urn and stack.by_urn[urn].type in types]
    return found or None


def _same_api(stack: StackView, left: Node, right: Node) -> bool:
    try:
        left_value, right_value = left.props.get("apiId"), right.props.get("apiId")
    except CannotEvaluateError:
        left_value = right_value = None
    if isinstance(left_value, str) and isinstance(right_value, str):
        return left_value == right_value
    return bool(
        left.property_dependencies.get("apiId", frozenset()) & right.property_dependencies.get("apiId", frozenset())
    )


def _route_rate(stage: Node, route_key: str) -> float:
    rate = float(stage.props.number("defaultRouteSettings.throttlingRateLimit", 0))
    for override in stage.props.each("routeSettings"):
        if override.text("routeKey", "") == route_key:
            rate = float(override.number("throttlingRateLimit", rate) or rate)
    return rate


def _api_choke_points(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    headroom = float(config["headroom"])
    for stage in stack.of_type(HTTP_STAGE):
        for route in stack.of_type(HTTP_ROUTE):
            try:
                if not _same_api(stack, stage, route):
                    continue
                route_key = route.props.text("routeKey", "?")
                rate = _route_rate(stage, route_key)
            except CannotEvaluateError:
                stack.cannot_evaluate(f"throttling of route {route.name}")
                continue
            if not rate:
                continue  # an unthrottled stage is apigateway-default-throttling's finding
            for integration in _linked(stack, route, "target", (HTTP_INTEGRATION,), generic_identity) or []:
                functions = _linked(stack, integration, "integrationUri", (FUNCTION,), lambda_identity)
                for function in functions or []:
                    try:
                        reserved = _reserved(function)
                    except CannotEvaluateError:
                        stack.cannot_evaluate(f"reserved concurrency of {function.name}")
                        continue
                    if reserved is None:
                        continue
                    duration = _duration_ms(function, config)
                    ceiling = function_ceiling(reserved, duration)
                    if ceiling < headroom * rate:
                        yield Finding(
                            f"route {route_key} admits {rate:g} requests/s (stage {stage.name}) but function "
                            f"{function.name} serves at most {ceiling:.1f}/s (reserved concurrency {reserved:g} "
                            f"at {duration:g} ms each), with no buffer between them: the excess gets 5xx errors "
                            "instead of 429s. Raise the function's reserved concurrency, lower the route's "
                            "throttling, or put a queue in between",
                            function.urn,
                        )


def _queue_choke_points(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    for mapping in stack.of_type(EVENT_SOURCE_MAPPING):
        try:
            maximum = mapping.props.number("scalingConfig.maximumConcurrency", 0)
        except CannotEvaluateError:
            stack.cannot_evaluate(f"maximum concurrency of {mapping.name}")
            continue
        if not maximum:
            continue
        functions = _linked(stack, mapping, "functionName", (FUNCTION,), lambda_identity)
        if functions is None:
            stack.cannot_evaluate(f"function of {mapping.name}")
            continue
        for function in functions:
            try:
                reserved = _reserved(function)
            except CannotEvaluateError:
                stack.cannot_evaluate(f"reserved concurrency of {function.name}")
                continue
            if reserved is not None and reserved < maximum:
                yield Finding(
                    f"event source {mapping.name} polls with maximumConcurrency {maximum:g} but function "
                    f"{function.name} may run only {reserved:g} at once: throttled batches go back to the queue "
                    "and count towards maxReceiveCount, so messages reach the dead-letter queue unprocessed. "
                    "Keep maximumConcurrency at or below the reserved concurrency",
                    mapping.urn,
                )


def _choke_points(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    yield from _api_choke_points(stack, config)
    yield from _queue_choke_points(stack, config)


RULES: Final = [
    StackRule(
        name="capacity-no-silent-choke-point",
        summary=(
            "No ceiling admits more than the unbuffered hop behind it serves (HTTP API route throttling vs "
            "the integrated function's reserved concurrency ÷ duration; SQS maximumConcurrency vs reserved "
            "concurrency)"
        ),
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(HTTP_STAGE, HTTP_ROUTE, HTTP_INTEGRATION, FUNCTION, EVENT_SOURCE_MAPPING),
        check=_choke_points,
        config={
            "defaultDurationMs": {"type": "number", "default": 100, "exclusiveMinimum": 0},
            "durationsMs": {"type": "object", "default": {}, "additionalProperties": {"type": "number"}},
            "headroom": {"type": "number", "default": 1.0, "minimum": 0},
        },
    ),
]
