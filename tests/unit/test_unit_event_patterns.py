"""components.event_patterns.lint_event_pattern: the EventBridge content-filtering grammar."""

from __future__ import annotations

from typing import Any

import pytest

from components.event_patterns import EventPatternError, lint_event_pattern

RULE = "orders-to-notify"


def leaf(*values: Any) -> dict[str, Any]:
    """A pattern whose ``detail.x`` leaf holds ``values``."""
    return {"source": ["orderflow.orders"], "detail": {"x": list(values)}}


X0 = "$.detail.x[0]"

# (case id, pattern, JSON path the error must name, words the problem must contain)
BAD: list[tuple[str, Any, str, str]] = [
    ("empty-pattern", {}, "$", "pattern is empty"),
    ("not-an-object", [], "$", "pattern must be an object"),
    ("scalar-field", {"source": "orderflow.orders"}, "$.source", "must be an object or a list"),
    ("empty-leaf", {"source": []}, "$.source", "empty lists are not allowed"),
    ("empty-nested-object", {"source": ["a"], "detail": {}}, "$.detail", "empty objects are not allowed"),
    ("nested-list", leaf(["a"]), X0, "must not contain lists"),
    ("non-json-value", leaf(object()), X0, "match values must be"),
    ("unknown-operator", leaf({"prefx": "a"}), f"{X0}.prefx", "unknown operator 'prefx'"),
    ("two-operators", leaf({"prefix": "a", "suffix": "b"}), X0, "exactly one operator"),
    ("empty-operator", leaf({}), X0, "exactly one operator"),
    ("prefix-number", leaf({"prefix": 1}), f"{X0}.prefix", "prefix needs a string"),
    ("prefix-list", leaf({"prefix": ["a"]}), f"{X0}.prefix", "prefix needs a string"),
    ("prefix-bad-object", leaf({"prefix": {"wildcard": "a"}}), f"{X0}.prefix", "equals-ignore-case"),
    (
        "prefix-ignore-case-number",
        leaf({"prefix": {"equals-ignore-case": 3}}),
        f"{X0}.prefix.equals-ignore-case",
        "needs a string",
    ),
    ("suffix-null", leaf({"suffix": None}), f"{X0}.suffix", "suffix needs a string"),
    ("equals-ignore-case-list", leaf({"equals-ignore-case": ["a"]}), f"{X0}.equals-ignore-case", "needs a string"),
    ("exists-string", leaf({"exists": "true"}), f"{X0}.exists", "exists needs true or false"),
    ("exists-number", leaf({"exists": 1}), f"{X0}.exists", "exists needs true or false"),
    ("numeric-not-list", leaf({"numeric": "> 5"}), f"{X0}.numeric", "numeric needs"),
    ("numeric-odd-length", leaf({"numeric": [">", 1, "<"]}), f"{X0}.numeric", "numeric needs"),
    ("numeric-unknown-op", leaf({"numeric": ["!=", 5]}), f"{X0}.numeric[0]", "not a numeric operator"),
    ("numeric-string-operand", leaf({"numeric": [">", "5"]}), f"{X0}.numeric[1]", "must be a number"),
    ("numeric-bool-operand", leaf({"numeric": ["=", True]}), f"{X0}.numeric[1]", "must be a number"),
    ("numeric-upper-first", leaf({"numeric": ["<", 5, ">", 1]}), f"{X0}.numeric", "lower bound"),
    ("numeric-equals-in-range", leaf({"numeric": ["=", 1, "<", 3]}), f"{X0}.numeric", "lower bound"),
    ("numeric-empty-range", leaf({"numeric": [">", 5, "<=", 5]}), f"{X0}.numeric", "empty range"),
    ("cidr-number", leaf({"cidr": 10}), f"{X0}.cidr", "cidr needs a string"),
    ("cidr-bad-address", leaf({"cidr": "10.0.0.300/24"}), f"{X0}.cidr", "CIDR block"),
    ("cidr-no-prefix-length", leaf({"cidr": "10.0.0.1"}), f"{X0}.cidr", "CIDR block"),
    ("wildcard-number", leaf({"wildcard": 1}), f"{X0}.wildcard", "wildcard needs a string"),
    ("wildcard-consecutive", leaf({"wildcard": "a**b"}), f"{X0}.wildcard", "consecutive wildcard"),
    ("wildcard-bad-escape", leaf({"wildcard": "a\\b"}), f"{X0}.wildcard", "invalid escape"),
    ("wildcard-dangling-escape", leaf({"wildcard": "a\\"}), f"{X0}.wildcard", "invalid escape"),
    ("anything-but-bool", leaf({"anything-but": True}), f"{X0}.anything-but", "anything-but takes"),
    ("anything-but-null", leaf({"anything-but": None}), f"{X0}.anything-but", "anything-but takes"),
    ("anything-but-empty-list", leaf({"anything-but": []}), f"{X0}.anything-but", "non-empty list"),
    ("anything-but-mixed-list", leaf({"anything-but": ["a", 1]}), f"{X0}.anything-but", "only strings or only numbers"),
    ("anything-but-numeric", leaf({"anything-but": {"numeric": [">", 1]}}), f"{X0}.anything-but", "exactly one of"),
    (
        "anything-but-two-operators",
        leaf({"anything-but": {"prefix": "a", "suffix": "b"}}),
        f"{X0}.anything-but",
        "exactly one of",
    ),
    ("anything-but-prefix-number", leaf({"anything-but": {"prefix": 1}}), f"{X0}.anything-but.prefix", "string"),
    ("anything-but-prefix-empty", leaf({"anything-but": {"prefix": ""}}), f"{X0}.anything-but.prefix", "not be empty"),
    (
        "anything-but-suffix-list-item",
        leaf({"anything-but": {"suffix": [".png", 2]}}),
        f"{X0}.anything-but.suffix[1]",
        "string",
    ),
    (
        "anything-but-wildcard-list-item",
        leaf({"anything-but": {"wildcard": ["*/lib/*", "a**"]}}),
        f"{X0}.anything-but.wildcard[1]",
        "consecutive wildcard",
    ),
    (
        "anything-but-empty-set",
        leaf({"anything-but": {"equals-ignore-case": []}}),
        f"{X0}.anything-but.equals-ignore-case",
        "non-empty",
    ),
    ("or-not-list", {"$or": {"a": ["b"]}}, "$.$or", "at least two objects"),
    ("or-single-branch", {"$or": [{"a": ["b"]}]}, "$.$or", "at least two objects"),
    ("or-non-object", {"$or": [{"a": ["b"]}, ["c"]]}, "$.$or[1]", "must be an object"),
    ("or-empty-branch", {"$or": [{}, {"a": ["b"]}]}, "$.$or[0]", "empty objects"),
    ("or-operator-as-field", {"$or": [{"prefix": ["a"]}, {"b": ["c"]}]}, "$.$or[0].prefix", "operator name"),
    (
        "or-nested-bad-operand",
        {"detail": {"$or": [{"a": [{"numeric": [">", "1"]}]}, {"b": [{"exists": True}]}]}},
        "$.detail.$or[0].a[0].numeric[1]",
        "must be a number",
    ),
    ("second-leaf-item", {"source": ["ok", {"nope": 1}]}, "$.source[1].nope", "unknown operator"),
    (
        "deep-path",
        {"detail": {"bucket": {"name": [{"sufix": ".json"}]}}},
        "$.detail.bucket.name[0].sufix",
        "unknown operator",
    ),
]


@pytest.mark.parametrize(("pattern", "path", "problem"), [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_pattern_is_rejected_naming_rule_and_path(pattern: Any, path: str, problem: str) -> None:
    with pytest.raises(EventPatternError) as caught:
        lint_event_pattern(pattern, RULE)

    assert caught.value.rule_name == RULE
    assert caught.value.path == path
    assert problem in caught.value.problem
    assert f"'{RULE}'" in str(caught.value) and path in str(caught.value)


GOOD: list[tuple[str, dict[str, Any]]] = [
    ("exact-values", leaf("a", 1, 2.5, True, False, None, "")),
    ("prefix", leaf({"prefix": "us-"}, {"prefix": ""})),
    ("prefix-ignore-case", leaf({"prefix": {"equals-ignore-case": "EventB"}})),
    ("suffix", leaf({"suffix": ".png"}, {"suffix": {"equals-ignore-case": ".PNG"}})),
    ("equals-ignore-case", leaf({"equals-ignore-case": "Initializing"})),
    ("exists", leaf({"exists": True}, {"exists": False})),
    ("numeric", leaf({"numeric": ["=", 3.018e2]}, {"numeric": [">", 0, "<=", 5]}, {"numeric": ["<", -1]})),
    ("numeric-half-open", leaf({"numeric": [">=", 0]}, {"numeric": ["<=", 10]}, {"numeric": [">=", 1, "<", 2]})),
    ("cidr", leaf({"cidr": "10.0.0.0/24"}, {"cidr": "2001:db8::/32"}, {"cidr": "10.0.0.7/24"})),
    ("wildcard", leaf({"wildcard": "dir/*.png"}, {"wildcard": "*a*b*"}, {"wildcard": "literal\\*star\\\\"})),
    ("anything-but-scalars", leaf({"anything-but": "initializing"}, {"anything-but": 123})),
    ("anything-but-lists", leaf({"anything-but": ["a", "b"]}, {"anything-but": [100, 200.5]})),
    ("anything-but-prefix", leaf({"anything-but": {"prefix": "us-"}}, {"anything-but": {"prefix": ["us-", "eu-"]}})),
    ("anything-but-suffix", leaf({"anything-but": {"suffix": ".png"}})),
    (
        "anything-but-ignore-case",
        leaf({"anything-but": {"equals-ignore-case": "x"}}, {"anything-but": {"equals-ignore-case": ["x", "y"]}}),
    ),
    (
        "anything-but-wildcard",
        leaf({"anything-but": {"wildcard": "*/lib/*"}}, {"anything-but": {"wildcard": ["a*", "b*"]}}),
    ),
    (
        "or",
        {
            "source": ["aws.cloudwatch"],
            "$or": [
                {"metricName": ["CPUUtilization"]},
                {"namespace": ["AWS/EC2"], "$or": [{"a": ["b"]}, {"c": [{"exists": False}]}]},
            ],
        },
    ),
]


@pytest.mark.parametrize("pattern", [c[1] for c in GOOD], ids=[c[0] for c in GOOD])
def test_valid_pattern_passes(pattern: dict[str, Any]) -> None:
    lint_event_pattern(pattern, RULE)


@pytest.mark.parametrize("rule_name", ["", None])
def test_rule_name_is_required(rule_name: Any) -> None:
    with pytest.raises(ValueError, match="rule_name"):
        lint_event_pattern({"source": ["a"]}, rule_name)
