"""Event-pattern conformance: AWS's documented results, checked against the matcher the router uses.

The router (``flowkit.EventRouter``) matches events with ``moto.events.models.EventPattern.load(json)
.matches_event(event)``, the code moto's PutEvents routes with. Each case below carries the result the
EventBridge documentation gives; a moto upgrade that changes routing fails here first.

Where moto 5.2.5 disagrees with AWS (arrays of objects, booleans compared with numbers), the case still
records AWS's result, and a dedicated assertion checks that moto still differs, so an upgrade that fixes
it is noticed instead of silently changing what the flow tests route.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import pytest
from moto.events.models import EventPattern

from orderflow import routing
from tests.workflows.flowkit import DEFAULT_BUS, RecordedSystem

if TYPE_CHECKING:
    from moto.events.utils import EventMessageType


@dataclass(frozen=True)
class Case:
    """One pattern, one event, and what EventBridge answers."""

    name: str
    pattern: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    aws_matches: bool = True
    envelope: dict[str, Any] = field(default_factory=dict)
    moto_differs: str = ""
    """Why moto 5.2.5 answers the opposite, when it does."""

    def event(self) -> dict[str, Any]:
        return {
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "EC2 Instance State-change Notification",
            "source": "aws.ec2",
            "account": "111122223333",
            "time": "2017-12-22T18:43:48Z",
            "region": "us-west-1",
            "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
            **self.envelope,
            "detail": self.detail,
        }


CASES: list[Case] = [
    # -- "Event pattern syntax" (eb-create-pattern), "Matching event values": exact, case-sensitive, all
    #    fields must be present with the same nesting; several values in the array mean any of them.
    Case("exact string", {"detail": {"state": ["running"]}}, {"state": "running"}),
    Case("matching is case-sensitive", {"detail": {"state": ["running"]}}, {"state": "Running"}, False),
    Case("any value of the array", {"detail": {"state": ["stopped", "running"]}}, {"state": "running"}),
    Case("a missing field never matches", {"detail": {"state": ["running"]}}, {"status": "running"}, False),
    Case("nesting must be the same", {"detail": {"state": ["running"]}}, {"instance": {"state": "running"}}, False),
    Case(
        "several fields are ANDed",
        {"source": ["aws.ec2"], "detail": {"state": ["running"]}},
        {"state": "stopped"},
        False,
    ),
    Case("a number matches the same number", {"detail": {"count": [5]}}, {"count": 5}),
    Case("a number never matches its string", {"detail": {"count": [5]}}, {"count": "5"}, False),
    # -- "Arrays in Amazon EventBridge event patterns" (eb-event-patterns-arrays): an array in the event
    #    matches when its intersection with the pattern's array is not empty.
    Case(
        "event array intersecting the pattern",
        {
            "resources": [
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
                "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
            ]
        },
        envelope={
            "resources": [
                "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:x",
                "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
            ]
        },
    ),
    Case("event array disjoint from the pattern", {"detail": {"tags": ["blue", "green"]}}, {"tags": ["red"]}, False),
    Case("event array of numbers", {"detail": {"codes": [3]}}, {"codes": [1, 2, 3]}),
    # -- Event Ruler README, "JSON Array Matching" (the matcher EventBridge uses): objects inside an array
    #    are matched as if they were the value of the parent field.
    Case(
        "field of an object inside an array",
        {"detail": {"employees": {"firstName": ["Anna"]}}},
        {"employees": [{"firstName": "John", "lastName": "Doe"}, {"firstName": "Anna", "lastName": "Smith"}]},
        moto_differs="moto flattens objects but stops at arrays, so detail.employees.firstName is never found",
    ),
    # -- "Matching null values and empty strings" (eb-event-patterns-null-values).
    Case("null matches null", {"detail": {"userId": [None]}}, {"userId": None}),
    Case("null does not match a missing field", {"detail": {"userId": [None]}}, {"name": "x"}, False),
    Case("empty string matches empty string", {"detail": {"lastName": [""]}}, {"lastName": ""}),
    Case("empty string does not match null", {"detail": {"lastName": [""]}}, {"lastName": None}, False),
    # -- "Content filtering in Amazon EventBridge event patterns" (eb-event-patterns-content-based-filtering),
    #    "Prefix matching" and "Prefix matching while ignoring case": string values only.
    Case("prefix", {"time": [{"prefix": "2017-12-22"}]}),
    Case("prefix not present", {"time": [{"prefix": "2017-10-02"}]}, aws_matches=False),
    Case("prefix never matches a number", {"detail": {"code": [{"prefix": "1"}]}}, {"code": 123}, False),
    Case(
        "prefix ignoring case",
        {"detail": {"service": [{"prefix": {"equals-ignore-case": "EventB"}}]}},
        {"service": "eventbridge"},
    ),
    # -- same page, "Suffix matching" and "Suffix matching while ignoring case".
    Case("suffix", {"detail": {"FileName": [{"suffix": ".png"}]}}, {"FileName": "image.png"}),
    Case("suffix is case-sensitive", {"detail": {"FileName": [{"suffix": ".png"}]}}, {"FileName": "IMAGE.PNG"}, False),
    Case(
        "suffix ignoring case",
        {"detail": {"FileName": [{"suffix": {"equals-ignore-case": ".png"}}]}},
        {"FileName": "IMAGE.PNG"},
    ),
    # -- same page, "Anything-but matching" (strings, numbers, lists, prefix, suffix, ignoring case).
    Case("anything-but a string", {"detail": {"state": [{"anything-but": "initializing"}]}}, {"state": "running"}),
    Case(
        "anything-but the same string",
        {"detail": {"state": [{"anything-but": "initializing"}]}},
        {"state": "initializing"},
        False,
    ),
    Case(
        "anything-but a list",
        {"detail": {"state": [{"anything-but": ["stopped", "overloaded"]}]}},
        {"state": "stopped"},
        False,
    ),
    Case("anything-but a number", {"detail": {"x-limit": [{"anything-but": 123}]}}, {"x-limit": 456}),
    Case(
        "anything-but a prefix",
        {"detail": {"state": [{"anything-but": {"prefix": "init"}}]}},
        {"state": "initializing"},
        False,
    ),
    Case(
        "anything-but a suffix", {"detail": {"FileName": [{"anything-but": {"suffix": ".png"}}]}}, {"FileName": "a.jpg"}
    ),
    Case(
        "anything-but ignoring case",
        {"detail": {"state": [{"anything-but": {"equals-ignore-case": "initializing"}}]}},
        {"state": "INITIALIZING"},
        False,
    ),
    # -- same page, "Numeric matching": JSON numbers only.
    Case(
        "numeric range, upper bound included", {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, {"c-count": 5}
    ),
    Case(
        "numeric range, lower bound excluded",
        {"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}},
        {"c-count": 0},
        False,
    ),
    Case("numeric equals", {"detail": {"x-limit": [{"numeric": ["=", 301.8]}]}}, {"x-limit": 301.8}),
    Case("numeric never matches a string", {"detail": {"c-count": [{"numeric": [">", 0]}]}}, {"c-count": "5"}, False),
    Case(
        "numeric never matches a boolean",
        {"detail": {"c-count": [{"numeric": [">", 0]}]}},
        {"c-count": True},
        False,
        moto_differs="moto compares with isinstance(value, int | float), and a Python bool is an int",
    ),
    # -- same page, "IP address matching".
    Case("cidr inside the block", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, {"source-ip": "10.0.0.255"}),
    Case(
        "cidr outside the block", {"detail": {"source-ip": [{"cidr": "10.0.0.0/24"}]}}, {"source-ip": "10.0.1.1"}, False
    ),
    # -- same page, "Exists matching" (leaf nodes only).
    Case("exists true, present", {"detail": {"c-count": [{"exists": True}]}}, {"c-count": 5}),
    Case("exists true, absent", {"detail": {"c-count": [{"exists": True}]}}, {"d-count": 5}, False),
    Case("exists false, absent", {"detail": {"c-count": [{"exists": False}]}}, {"d-count": 5}),
    Case("exists false, present", {"detail": {"c-count": [{"exists": False}]}}, {"c-count": 5}, False),
    Case(
        "exists false, an object is not a leaf", {"detail": {"c-count": [{"exists": False}]}}, {"c-count": {"c1": 100}}
    ),
    # -- same page, "Equals-ignore-case matching".
    Case("equals ignoring case", {"detail": {"name": [{"equals-ignore-case": "alice"}]}}, {"name": "ALICE"}),
    Case(
        "equals ignoring case, other word",
        {"detail": {"name": [{"equals-ignore-case": "alice"}]}},
        {"name": "alicia"},
        False,
    ),
    # -- same page, "Matching using wildcards": * spans any characters, \\* is a literal star.
    Case("wildcard", {"detail": {"FilePath": [{"wildcard": "dir/*.png"}]}}, {"FilePath": "dir/a.png"}),
    Case(
        "wildcard, other extension",
        {"detail": {"FilePath": [{"wildcard": "dir/*.png"}]}},
        {"FilePath": "dir/a.jpg"},
        False,
    ),
    Case(
        "wildcard on both sides", {"detail": {"FilePath": [{"wildcard": "*/lib/*"}]}}, {"FilePath": "usr/lib/libc.so"}
    ),
    Case("escaped star is literal", {"detail": {"key": [{"wildcard": "a\\*b"}]}}, {"key": "axb"}, False),
    # -- same page, "Complex example with $or matching".
    Case(
        "$or, second branch",
        {"source": ["aws.ec2"], "$or": [{"detail": {"state": ["stopped"]}}, {"region": ["us-west-1"]}]},
        {"state": "running"},
    ),
    Case(
        "$or, no branch",
        {"source": ["aws.ec2"], "$or": [{"detail": {"state": ["stopped"]}}, {"region": ["eu-west-1"]}]},
        {"state": "running"},
        False,
    ),
    Case(
        "$or inside detail",
        {"detail": {"$or": [{"c-count": [{"numeric": [">", 10]}]}, {"d-count": [{"numeric": ["<", 5]}]}]}},
        {"c-count": 1, "d-count": 3},
    ),
    # -- Event Ruler README, "JSON text matching": true is a JSON literal, distinct from the number 1.
    Case(
        "the number 1 does not match true",
        {"detail": {"enabled": [1]}},
        {"enabled": True},
        False,
        moto_differs="moto compares with ==, and in Python True == 1",
    ),
    Case(
        "true does not match the number 1",
        {"detail": {"enabled": [True]}},
        {"enabled": 1},
        False,
        moto_differs="moto compares with ==, and in Python 1 == True",
    ),
]


def moto_matches(case: Case) -> bool:
    return bool(EventPattern.load(json.dumps(case.pattern)).matches_event(cast("EventMessageType", case.event())))


def test_the_table_covers_every_operator_family() -> None:
    operators: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            operators.update(key for key in node if key in OPERATORS)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for case in CASES:
        walk(case.pattern)
    assert operators == OPERATORS
    assert len(CASES) >= 30
    assert len({case.name for case in CASES}) == len(CASES)


OPERATORS = {"prefix", "suffix", "anything-but", "numeric", "exists", "wildcard", "$or", "equals-ignore-case", "cidr"}
AGREEING = [case for case in CASES if not case.moto_differs]
DIVERGING = [case for case in CASES if case.moto_differs]


@pytest.mark.parametrize("case", AGREEING, ids=[case.name for case in AGREEING])
def test_moto_routes_as_aws_documents(case: Case) -> None:
    assert moto_matches(case) is case.aws_matches


@pytest.mark.parametrize("case", DIVERGING, ids=[case.name for case in DIVERGING])
def test_known_divergence_moto_still_answers_the_opposite_of_aws(case: Case) -> None:
    # AWS's answer is case.aws_matches. If this fails, moto now agrees with AWS: clear moto_differs.
    assert moto_matches(case) is not case.aws_matches, f"moto now agrees with AWS on {case.name!r}"


# ---- the program's own patterns, as the router applies them ------------------------------------------


def envelope(detail_type: str, detail: dict[str, Any], source: str = routing.ORDER_EVENT_SOURCE) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "e5a3c7d2-0000-4000-8000-000000000001",
        "detail-type": detail_type,
        "source": source,
        "account": "123456789012",
        "time": "2026-01-01T12:00:00Z",
        "region": "eu-west-1",
        "resources": [],
        "detail": detail,
    }


def matching_rules(system: RecordedSystem, bus: str, event: dict[str, Any]) -> set[str]:
    """Recorded rules of ``bus`` that match ``event``, named without the bus prefix the component adds."""
    return {
        rule.name.removeprefix(f"{system.custom_bus}-")
        for rule in system.rules_on(bus)
        if EventPattern.load(rule.pattern).matches_event(cast("EventMessageType", event))
    }


def test_each_order_event_reaches_exactly_its_rules(system: RecordedSystem) -> None:
    custom = system.custom_bus
    detail = {"orderId": "o-1", "customerId": "c-1", "correlationId": "r-1"}
    assert matching_rules(system, custom, envelope("OrderPlaced", detail)) == {"order-placed", "audit"}
    for status in routing.ORDER_STATUS_DETAIL_TYPES:
        assert matching_rules(system, custom, envelope(status, detail)) == {"order-status", "audit"}
    assert matching_rules(system, custom, envelope("InventoryAdjusted", detail)) == {"audit"}
    assert matching_rules(system, custom, envelope("OrderPlaced", detail, source="someone.else")) == set()


def test_only_receipt_objects_are_forwarded_and_announced(system: RecordedSystem) -> None:
    [bucket] = system.eventbridge_buckets

    def created(bucket_name: str, key: str) -> dict[str, Any]:
        return envelope(
            routing.S3_OBJECT_CREATED,
            {
                "version": "0",
                "bucket": {"name": bucket_name},
                "object": {"key": key, "size": 10},
                "reason": "PutObject",
            },
            source=routing.S3_EVENT_SOURCE,
        )

    receipt = created(bucket, "receipts/c-1/o-1.json")
    assert matching_rules(system, DEFAULT_BUS, receipt) == {"forward-receipts"}
    assert matching_rules(system, system.custom_bus, receipt) == {"receipt-ready"}
    for other in (created(bucket, "exports/o-1.json"), created("another-bucket", "receipts/c-1/o-1.json")):
        assert matching_rules(system, DEFAULT_BUS, other) == set()
        assert matching_rules(system, system.custom_bus, other) == set()
