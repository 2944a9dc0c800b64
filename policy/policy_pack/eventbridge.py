"""Amazon EventBridge: target DLQs and retry policies, bounded archives, and event-pattern linting."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, Props, ResourceRule, must_be_set
from policy_pack.lambda_ import EVENT_SOURCE_MAPPING

RULE: Final = "aws:cloudwatch/eventRule:EventRule"
TARGET: Final = "aws:cloudwatch/eventTarget:EventTarget"
ARCHIVE: Final = "aws:cloudwatch/eventArchive:EventArchive"
PERMISSION: Final = "aws:cloudwatch/eventPermission:EventPermission"

SERVICE: Final = "eventbridge"

# EventBridge's own limits for a target retry policy.
MAX_RETRY_ATTEMPTS: Final = 185
MAX_EVENT_AGE_SECONDS: Final = 86_400

_NUMERIC_OPERATORS: Final = frozenset({"<", "<=", "=", ">", ">="})


def _target_retry_policy(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    attempts = props.number("retryPolicy.maximumRetryAttempts")
    age = props.number("retryPolicy.maximumEventAgeInSeconds")
    if attempts is ABSENT or age is ABSENT:
        pairs = (("maximumRetryAttempts", attempts), ("maximumEventAgeInSeconds", age))
        missing = [name for name, value in pairs if value is ABSENT]
        yield (
            f"retryPolicy.{' and '.join(missing)} not set: the default retries for 24 hours (185 attempts); "
            "choose how long a failing target is retried before the event goes to the DLQ"
        )
        return
    if attempts > config["maximumRetryAttempts"]:
        limit = config["maximumRetryAttempts"]
        yield f"retryPolicy.maximumRetryAttempts is {attempts:g}, above the configured {limit:g}"
    if age > config["maximumEventAgeSeconds"]:
        limit = config["maximumEventAgeSeconds"]
        yield f"retryPolicy.maximumEventAgeInSeconds is {age:g}, above the configured {limit:g}"


def _archive_retention(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    days = props.number("retentionDays", 0)
    if days == 0:
        yield "retentionDays is not set: the archive keeps every event forever and its storage bill only grows"
    elif days > config["maximumDays"]:
        yield f"retentionDays is {days:g}, above the configured maximum of {config['maximumDays']:g}"


def lint_event_pattern(pattern: Any, where: str = "$") -> list[str]:
    """Problems in an EventBridge event pattern: unknown operators, wrong operand types, bare values.

    Parameters
    ----------
    pattern:
        The parsed pattern (a JSON object).
    where:
        JSON path of ``pattern`` used in the messages.

    Returns
    -------
    list[str]
        One message per problem, each naming its JSON path; empty when the pattern is valid.
    """
    if not isinstance(pattern, Mapping):
        return [f"{where} must be a JSON object"]
    if not pattern:
        return [f"{where} is an empty object"]
    problems: list[str] = []
    for key, value in pattern.items():
        path = f"{where}.{key}"
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                problems.append(f"{path} must be an array of at least two patterns")
                continue
            for index, branch in enumerate(value):
                problems.extend(lint_event_pattern(branch, f"{path}[{index}]"))
        elif isinstance(value, Mapping):
            problems.extend(lint_event_pattern(value, path))
        elif isinstance(value, list):
            if not value:
                problems.append(f"{path} is an empty array (it can never match)")
            for index, matcher in enumerate(value):
                problems.extend(_lint_matcher(matcher, f"{path}[{index}]"))
        else:
            problems.append(f"{path} must be an array of values or matchers, not a bare {type(value).__name__}")
    return problems


def _is_text_or_ignore_case(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, Mapping)
        and set(value) == {"equals-ignore-case"}
        and isinstance(value["equals-ignore-case"], str)
    )


def _lint_matcher(matcher: Any, path: str) -> list[str]:
    if matcher is None or isinstance(matcher, str | int | float | bool):
        return []
    if not isinstance(matcher, Mapping):
        return [f"{path} must be a value or a matcher object"]
    if len(matcher) != 1:
        return [f"{path} must hold exactly one operator, not {sorted(matcher)}"]
    operator, operand = next(iter(matcher.items()))
    if operator in ("prefix", "suffix"):
        ok = _is_text_or_ignore_case(operand)
    elif operator in ("equals-ignore-case", "wildcard", "cidr"):
        ok = isinstance(operand, str)
    elif operator == "exists":
        ok = isinstance(operand, bool)
    elif operator == "numeric":
        return _lint_numeric(operand, f"{path}.numeric")
    elif operator == "anything-but":
        ok = _anything_but_ok(operand)
    else:
        return [
            f"{path}: unknown operator {operator!r} (EventBridge would reject it, and some emulators match everything)"
        ]
    return [] if ok else [f"{path}: operand of {operator!r} has the wrong type ({type(operand).__name__})"]


def _anything_but_ok(operand: Any) -> bool:
    if isinstance(operand, str) or (isinstance(operand, int | float) and not isinstance(operand, bool)):
        return True
    if isinstance(operand, list):
        return bool(operand) and (
            all(isinstance(item, str) for item in operand)
            or all(isinstance(item, int | float) and not isinstance(item, bool) for item in operand)
        )
    if isinstance(operand, Mapping) and len(operand) == 1:
        ((inner, value),) = operand.items()
        if inner in ("prefix", "suffix"):
            return isinstance(value, str)
        if inner in ("equals-ignore-case", "wildcard"):
            return isinstance(value, str) or (
                isinstance(value, list) and bool(value) and all(isinstance(item, str) for item in value)
            )
    return False


def _lint_numeric(operand: Any, path: str) -> list[str]:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        return [f"{path} must be [operator, number] or [operator, number, operator, number]"]
    problems = []
    for index in range(0, len(operand), 2):
        operator, number = operand[index], operand[index + 1]
        if operator not in _NUMERIC_OPERATORS:
            problems.append(f"{path}[{index}]: unknown comparison {operator!r}")
        if isinstance(number, bool) or not isinstance(number, int | float):
            problems.append(f"{path}[{index + 1}] must be a number, not {number!r}")
    return problems


def _patterns_valid(props: Props, config: Mapping[str, Any], resource_type: str) -> Iterator[str]:
    if resource_type == EVENT_SOURCE_MAPPING:
        for index, event_filter in enumerate(props.each("filterCriteria.filters")):
            pattern = event_filter.json("pattern")
            if pattern is not ABSENT:
                yield from (
                    f"filterCriteria.filters[{index}].pattern: {problem}" for problem in lint_event_pattern(pattern)
                )
        return
    pattern = props.json("eventPattern")
    if pattern is not ABSENT:
        yield from (f"eventPattern: {problem}" for problem in lint_event_pattern(pattern))


RULES: Final = [
    ResourceRule(
        name="eventbridge-target-dlq",
        summary="EventBridge targets send undeliverable events to a dead-letter queue",
        anchors=("serverless-rules ES4000 / aws_cloudwatch_event_target_no_dlq", "cdk-nag Serverless-EventBusDLQ"),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(TARGET,),
        check=must_be_set("deadLetterConfig.arn", "events EventBridge cannot deliver are dropped after the retries"),
    ),
    ResourceRule(
        name="eventbridge-target-retry-policy",
        summary=(
            "EventBridge targets set an explicit retry policy (attempts and maximum event age); advisory, since the "
            "default (185 attempts over 24 hours) is a working policy"
        ),
        anchors=(),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(TARGET,),
        check=_target_retry_policy,
        config={
            "maximumRetryAttempts": {
                "type": "integer",
                "default": MAX_RETRY_ATTEMPTS,
                "minimum": 0,
                "maximum": MAX_RETRY_ATTEMPTS,
            },
            "maximumEventAgeSeconds": {
                "type": "integer",
                "default": MAX_EVENT_AGE_SECONDS,
                "minimum": 60,
                "maximum": MAX_EVENT_AGE_SECONDS,
            },
        },
    ),
    ResourceRule(
        name="eventbridge-archive-retention",
        summary="EventBridge archives keep events for a bounded number of days",
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(ARCHIVE,),
        check=_archive_retention,
        config={"maximumDays": {"type": "integer", "default": 365, "minimum": 1}},
    ),
    ResourceRule(
        name="eventbridge-pattern-valid",
        summary=(
            "Event patterns (rules, archives, Lambda event filters) use only known operators with well-typed operands"
        ),
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(RULE, ARCHIVE, EVENT_SOURCE_MAPPING),
        check=_patterns_valid,
    ),
]
