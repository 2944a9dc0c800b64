"""Static checks for Amazon EventBridge event patterns.

EventBridge rejects some malformed patterns at ``PutRule`` time, but local emulators (moto among them)
accept almost anything and an unknown operator such as ``{"prefx": "a"}`` silently matches every event.
:func:`lint_event_pattern` applies the content-filtering grammar before a rule is deployed or tested, so a
typo fails the build instead of routing the wrong events.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any, Final

OR_KEY: Final = "$or"
OPERATORS: Final[frozenset[str]] = frozenset(
    {"prefix", "suffix", "anything-but", "numeric", "exists", "cidr", "equals-ignore-case", "wildcard"}
)
"""Comparison operators accepted inside a leaf list (``[{"prefix": "a"}]``)."""

_ANYTHING_BUT_OPERATORS: Final[frozenset[str]] = frozenset({"prefix", "suffix", "equals-ignore-case", "wildcard"})
_NUMERIC_LOWER_BOUNDS: Final[frozenset[str]] = frozenset({">", ">="})
_NUMERIC_UPPER_BOUNDS: Final[frozenset[str]] = frozenset({"<", "<="})
_NUMERIC_OPERATORS: Final[frozenset[str]] = _NUMERIC_LOWER_BOUNDS | _NUMERIC_UPPER_BOUNDS | {"="}
# Field names EventBridge refuses inside "$or" because they read as operators.
_RESERVED_IN_OR: Final[frozenset[str]] = OPERATORS | _NUMERIC_OPERATORS | {"exactly"}


class EventPatternError(ValueError):
    """An event pattern breaks the EventBridge content-filtering grammar.

    Parameters
    ----------
    rule_name:
        The rule whose pattern is wrong.
    path:
        JSON path of the offending node, e.g. ``$.detail.status[0].prefix``.
    problem:
        What is wrong there.
    """

    def __init__(self, rule_name: str, path: str, problem: str) -> None:
        self.rule_name = rule_name
        self.path = path
        self.problem = problem
        super().__init__(f"event pattern of rule {rule_name!r} at {path}: {problem}")


def lint_event_pattern(pattern: Mapping[str, Any], rule_name: str) -> None:
    """Check an event pattern against the EventBridge content-filtering rules.

    Parameters
    ----------
    pattern:
        The pattern as a JSON-compatible mapping (what goes, serialised, into ``EventPattern``).
    rule_name:
        The rule the pattern belongs to; named in every error.

    Raises
    ------
    EventPatternError
        At the first problem, naming the rule and the JSON path: the pattern (or a nested object) is
        empty; a field's value is neither an object nor a list; a leaf list is empty or nests a list; an
        operator is unknown or has more than one key; an operand has the wrong type (``exists`` needs a
        boolean; ``numeric`` needs ``[op, number(, op, number)]`` with a lower bound before an upper
        bound; ``prefix``/``suffix`` need a string or ``{"equals-ignore-case": string}``; ``cidr`` needs a
        CIDR block; ``wildcard`` needs a string without consecutive or dangling escapes; ``anything-but``
        needs a string, a number, a list of all strings or all numbers, or one of
        ``prefix``/``suffix``/``equals-ignore-case``/``wildcard``); ``$or`` is not a list of at least two
        objects or uses an operator name as a field name.
    """
    if not isinstance(rule_name, str) or not rule_name:
        raise ValueError(f"rule_name must be a non-empty string, got {rule_name!r}")
    if not isinstance(pattern, Mapping):
        raise EventPatternError(rule_name, "$", f"pattern must be an object, got {type(pattern).__name__}")
    if not pattern:
        raise EventPatternError(rule_name, "$", "pattern is empty; an empty pattern is not allowed")
    _Linter(rule_name).object(pattern, "$", inside_or=False)


class _Linter:
    """Walks one pattern; each method checks one grammar production."""

    def __init__(self, rule_name: str) -> None:
        self.rule_name = rule_name

    def fail(self, path: str, problem: str) -> EventPatternError:
        return EventPatternError(self.rule_name, path, problem)

    def object(self, node: Mapping[str, Any], path: str, *, inside_or: bool) -> None:
        if not node:
            raise self.fail(path, "empty objects are not allowed")
        for key, value in node.items():
            if not isinstance(key, str):
                raise self.fail(path, f"field names must be strings, got {key!r}")
            child = f"{path}.{key}"
            if key == OR_KEY:
                self.or_branches(value, child)
                continue
            if inside_or and key in _RESERVED_IN_OR:
                raise self.fail(child, f"{key!r} is an operator name and cannot be a field name inside $or")
            if isinstance(value, Mapping):
                self.object(value, child, inside_or=inside_or)
            elif isinstance(value, list):
                self.leaf(value, child)
            else:
                raise self.fail(child, f"must be an object or a list of match values, got {type(value).__name__}")

    def or_branches(self, value: Any, path: str) -> None:
        if not isinstance(value, list) or len(value) < 2:
            raise self.fail(path, "$or must be a list of at least two objects")
        for index, branch in enumerate(value):
            if not isinstance(branch, Mapping):
                raise self.fail(f"{path}[{index}]", "every $or entry must be an object")
            self.object(branch, f"{path}[{index}]", inside_or=True)

    def leaf(self, values: list[Any], path: str) -> None:
        if not values:
            raise self.fail(path, "empty lists are not allowed; a leaf lists the values it matches")
        for index, value in enumerate(values):
            item = f"{path}[{index}]"
            if isinstance(value, Mapping):
                self.operator(value, item)
            elif isinstance(value, list):
                raise self.fail(item, "a leaf list must not contain lists")
            elif value is not None and not isinstance(value, str | int | float | bool):
                raise self.fail(item, f"match values must be strings, numbers, booleans or null, got {value!r}")

    def operator(self, expression: Mapping[str, Any], path: str) -> None:
        if len(expression) != 1:
            raise self.fail(path, f"a match expression has exactly one operator, got {sorted(expression)}")
        ((name, operand),) = expression.items()
        where = f"{path}.{name}"
        if name not in OPERATORS:
            raise self.fail(where, f"unknown operator {name!r}; valid operators: {sorted(OPERATORS)}")
        if name in {"prefix", "suffix"}:
            self.prefix_or_suffix(name, operand, where)
        elif name == "equals-ignore-case":
            self.string(name, operand, where)
        elif name == "wildcard":
            self.wildcard(operand, where)
        elif name == "cidr":
            self.cidr(operand, where)
        elif name == "exists":
            if not isinstance(operand, bool):
                raise self.fail(where, f"exists needs true or false, got {operand!r}")
        elif name == "numeric":
            self.numeric(operand, where)
        else:
            self.anything_but(operand, where)

    def string(self, name: str, operand: Any, path: str) -> None:
        if not isinstance(operand, str):
            raise self.fail(path, f"{name} needs a string, got {operand!r}")

    def prefix_or_suffix(self, name: str, operand: Any, path: str) -> None:
        if isinstance(operand, Mapping):
            if set(operand) != {"equals-ignore-case"}:
                raise self.fail(path, f'{name} takes a string or {{"equals-ignore-case": string}}, got {operand!r}')
            self.string("equals-ignore-case", operand["equals-ignore-case"], f"{path}.equals-ignore-case")
        else:
            self.string(name, operand, path)

    def wildcard(self, operand: Any, path: str) -> None:
        self.string("wildcard", operand, path)
        index = 0
        while index < len(operand):
            char = operand[index]
            if char == "\\":
                if index + 1 >= len(operand) or operand[index + 1] not in "*\\":
                    raise self.fail(path, f"invalid escape at position {index}; only \\* and \\\\ are escapes")
                index += 2
                continue
            if char == "*" and operand[index + 1 : index + 2] == "*":
                raise self.fail(path, f"consecutive wildcard characters at position {index}")
            index += 1

    def cidr(self, operand: Any, path: str) -> None:
        self.string("cidr", operand, path)
        try:
            if "/" not in operand:
                raise ValueError("no prefix length")
            ipaddress.ip_network(operand, strict=False)
        except ValueError as error:
            raise self.fail(path, f"cidr needs a CIDR block such as 10.0.0.0/24, got {operand!r} ({error})") from None

    @staticmethod
    def is_number(value: Any) -> bool:
        return isinstance(value, int | float) and not isinstance(value, bool)

    def numeric(self, operand: Any, path: str) -> None:
        shape = 'numeric needs [op, number] or [">"|">=", number, "<"|"<=", number] with op in < <= = > >='
        if not isinstance(operand, list) or len(operand) not in (2, 4):
            raise self.fail(path, f"{shape}, got {operand!r}")
        for index in range(0, len(operand), 2):
            op, number = operand[index], operand[index + 1]
            if op not in _NUMERIC_OPERATORS:
                raise self.fail(f"{path}[{index}]", f"{op!r} is not a numeric operator; {shape}")
            if not self.is_number(number):
                raise self.fail(f"{path}[{index + 1}]", f"the operand of {op!r} must be a number, got {number!r}")
        if len(operand) == 4:
            if operand[0] not in _NUMERIC_LOWER_BOUNDS or operand[2] not in _NUMERIC_UPPER_BOUNDS:
                raise self.fail(path, f"a range puts a lower bound (> or >=) before an upper bound (< or <=); {shape}")
            if operand[1] >= operand[3]:
                raise self.fail(path, f"empty range: lower bound {operand[1]} is not below upper bound {operand[3]}")

    def anything_but(self, operand: Any, path: str) -> None:
        if isinstance(operand, str) or self.is_number(operand):
            return
        if isinstance(operand, list):
            if not operand:
                raise self.fail(path, "anything-but needs a non-empty list")
            if not (all(isinstance(v, str) for v in operand) or all(self.is_number(v) for v in operand)):
                raise self.fail(path, "an anything-but list holds only strings or only numbers")
            return
        if isinstance(operand, Mapping):
            if len(operand) != 1 or next(iter(operand)) not in _ANYTHING_BUT_OPERATORS:
                raise self.fail(
                    path,
                    f"anything-but takes exactly one of {sorted(_ANYTHING_BUT_OPERATORS)}, got {sorted(operand)}",
                )
            ((name, inner),) = operand.items()
            where = f"{path}.{name}"
            values = inner if isinstance(inner, list) else [inner]
            if not values:
                raise self.fail(where, f"anything-but {name} needs a string or a non-empty list of strings")
            for index, value in enumerate(values):
                item = f"{where}[{index}]" if isinstance(inner, list) else where
                self.string(f"anything-but {name}", value, item)
                if name in {"prefix", "suffix"} and not value:
                    raise self.fail(item, f"anything-but {name} must not be empty")
                if name == "wildcard":
                    self.wildcard(value, item)
            return
        raise self.fail(
            path,
            "anything-but takes a string, a number, a list of strings or numbers, or "
            f"{{prefix|suffix|equals-ignore-case|wildcard: ...}}; got {operand!r}",
        )
