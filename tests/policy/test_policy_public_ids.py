"""The public rule ids the pack claims: the README's table is true to the rules' anchors, and verdicts by id hold.

A claim is a promise that the rule's verdicts follow that id's own test cases, so the ids are checked two
ways: the table in ``policy/README.md`` (claimed by which rule, or why not) against every rule's anchors, and,
for the ids whose cases the pack used to get wrong, the verdict of every rule that claims the id on a case
from that id's own tests.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from policy_cases import BUCKET_POLICY, HTTP_ROUTE, ROLE, TOPIC_POLICY, policy_doc
from policy_testkit import UNKNOWN, findings
from pulumi_policy.proxy import unknown_checking_proxy

from policy_pack import ALL_RULES
from policy_pack._core import CannotEvaluateError, ResourceRule

README = Path(__file__).resolve().parents[2] / "policy" / "README.md"

# Every rule serverless-rules documents (docs/rules/index.md of awslabs/serverless-rules): cfn-lint ids.
SERVERLESS_RULES = frozenset(
    {
        *("WS1000", "ES1001", "WS1002", "WS1003", "WS1004", "ES1005", "ES1006", "ES1007", "E2531"),
        *("ES2000", "WS2001", "WS2002", "ES2003", "WS3000", "ES4000", "WS5000", "ES6000", "ES7000"),
    }
)
# The checkov ids issue 25 names: the five wrong-verdict classes and the rules added for the serverless lens.
REQUIRED_CHECKOV = frozenset(
    {
        *("CKV_AWS_61", "CKV_AWS_309", "CKV_AWS_70", "CKV_AWS_385", "CKV_AWS_272", "CKV_AWS_258", "CKV_AWS_168"),
        *("CKV_AWS_169", "CKV_AWS_284", "CKV_AWS_285", "CKV_AWS_76", "CKV_AWS_95", "CKV_AWS_206", "CKV_AWS_28"),
        "CKV_AWS_119",
    }
)
_IDS: dict[str, re.Pattern[str]] = {
    "checkov": re.compile(r"\bCKV2?_AWS_\d+\b"),
    "serverless-rules": re.compile(r"\b[EW]S?\d{4}\b"),
}


def claims() -> dict[str, set[str]]:
    """``"<anchor set> <id>"`` -> the rules whose anchors claim it (an ``(inverted)`` anchor claims nothing)."""
    found: dict[str, set[str]] = {}
    for rule in ALL_RULES:
        for anchor in rule.info.anchors:
            source = anchor.split(" ", 1)[0]
            if source in _IDS and "(inverted)" not in anchor:
                for public_id in _IDS[source].findall(anchor):
                    found.setdefault(f"{source} {public_id}", set()).add(rule.name)
    return found


def readme_section(heading: str) -> list[str]:
    """The README's lines under ``heading``, up to the next heading of the same level."""
    lines = README.read_text().splitlines()
    start = lines.index(heading) + 1
    level = heading.split(" ", 1)[0] + " "
    end = next((i for i in range(start, len(lines)) if lines[i].startswith(level)), len(lines))
    return lines[start:end]


def table() -> dict[str, tuple[str, str]]:
    """The README's public-id rows: ``"<anchor set> <id>"`` -> (claiming rule or ``""``, reason)."""
    rows = {}
    for line in readme_section("## Public rule ids"):
        if line.startswith(("| checkov ", "| serverless-rules ")):
            public_id, rule, reason = (cell.strip() for cell in line.strip("|").split("|"))
            rows[public_id] = (rule.strip("`") if rule != "—" else "", reason)
    return rows


def test_policy_readme_tables_have_whole_rows_only() -> None:
    # A row with too few cells renders as a broken line of the table (a public-id row once landed in the rules').
    for heading, cells in (("## Rules", 8), ("## Public rule ids", 3)):
        rows = [line for line in readme_section(heading) if line.startswith("| ") and not line.startswith("|---")]
        assert rows, heading
        short = [row for row in rows if len(row.strip().strip("|").split("|")) != cells]
        assert not short, f"{heading}: rows without {cells} cells: {short}"


def test_policy_every_serverless_rules_id_is_claimed_by_the_rule_the_table_names() -> None:
    rows = {key: value for key, value in table().items() if key.startswith("serverless-rules ")}
    assert set(rows) == {f"serverless-rules {public_id}" for public_id in SERVERLESS_RULES}
    claimed = claims()
    for public_id, (rule, _) in rows.items():
        assert rule and rule in claimed.get(public_id, set()), f"{public_id}: not claimed by {rule or 'any rule'}"


def test_policy_claimed_checkov_ids_are_in_the_named_rules_anchors() -> None:
    claimed = claims()
    rows = {key: value for key, value in table().items() if key.startswith("checkov ")}
    for public_id, (rule, reason) in rows.items():
        if rule:
            assert rule in claimed.get(public_id, set()), f"README says {rule} claims {public_id}; its anchors do not"
            assert not reason, public_id
        else:
            assert reason, f"{public_id} is not claimed and the README does not say why"
            assert public_id not in claimed, (
                f"README says {public_id} is not claimed, but {claimed[public_id]} claim it"
            )


def test_policy_claims_at_least_thirty_checkov_ids_including_the_required_ones() -> None:
    rows = table()
    claimed_rows = {key for key, (rule, _) in rows.items() if key.startswith("checkov ") and rule}
    assert len(claimed_rows) >= 30, len(claimed_rows)
    assert {f"checkov {public_id}" for public_id in REQUIRED_CHECKOV} <= claimed_rows


def test_policy_every_checkov_claim_of_the_inspected_services_is_in_the_table() -> None:
    rows = table()
    mine = {"lambda", "apigateway", "sqs", "sns", "stepfunctions", "dynamodb", "s3", "logs", "iam", "kms"}
    services = {rule.name: rule.info.service for rule in ALL_RULES}
    for public_id, rules in claims().items():
        if public_id.startswith("checkov ") and any(services[name] in mine for name in rules):
            assert public_id in rows, f"{public_id} (claimed by {sorted(rules)}) has no row in the README's table"


# ---- verdicts by id: every rule that claims the id agrees with the id's own case ---------------------------


def verdict(public_id: str, resource_type: str, props: dict[str, Any]) -> dict[str, list[str]]:
    """What each resource rule claiming ``public_id`` reports for one resource (only rules that inspect it)."""
    judges = [
        rule
        for rule in ALL_RULES
        if isinstance(rule, ResourceRule)
        and rule.name in claims().get(public_id, set())
        and rule.applies_to(resource_type)
    ]
    assert judges, f"no resource rule claiming {public_id} inspects {resource_type}"
    return {rule.name: rule.findings(unknown_checking_proxy(copy.deepcopy(props)), resource_type) for rule in judges}


LAMBDA_TRUST = policy_doc(
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
)


def lambda_role(action: Any, resource: Any) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Action": action, "Resource": resource}
    return {"assumeRolePolicy": LAMBDA_TRUST, "inlinePolicies": [{"name": "fn", "policy": policy_doc(statement)}]}


def topic_policy(principal: Any) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Principal": principal,
        "Action": ["SNS:Publish"],
        "Resource": "arn:aws:sns:eu-west-1:123456789012:t",
    }
    return {"arn": "arn:aws:sns:eu-west-1:123456789012:t", "policy": policy_doc(statement)}


def bucket_policy(condition: dict[str, Any]) -> dict[str, Any]:
    statement = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::bucket/*",
        "Condition": condition,
    }
    return {"bucket": "bucket", "policy": policy_doc(statement)}


@pytest.mark.parametrize(
    ("public_id", "resource_type", "props", "fails"),
    [
        ("serverless-rules WS1003", ROLE, lambda_role(["dynamodb:Query"], "*"), False),
        ("serverless-rules WS1003", ROLE, lambda_role("s3:Get*", "arn:aws:s3:::b/*"), False),
        ("serverless-rules WS1003", ROLE, lambda_role(["dynamodb:*"], "*"), True),
        ("checkov CKV_AWS_385", TOPIC_POLICY, topic_policy("*"), False),
        ("checkov CKV_AWS_385", TOPIC_POLICY, topic_policy({"AWS": ["*"]}), False),
        ("checkov CKV_AWS_385", TOPIC_POLICY, topic_policy({"AWS": ["arn:aws:iam::111122223333:role/sns"]}), True),
        ("checkov CKV_AWS_309", HTTP_ROUTE, {"apiId": "a", "routeKey": "$default"}, True),
        ("checkov CKV_AWS_309", HTTP_ROUTE, {"apiId": "a", "routeKey": "$default", "authorizationType": "NONE"}, True),
        ("checkov CKV_AWS_309", HTTP_ROUTE, {"apiId": "a", "routeKey": "$default", "authorizationType": "JWT"}, False),
        (
            "checkov CKV_AWS_70",
            BUCKET_POLICY,
            bucket_policy({"StringEquals": {"aws:VpceAccount": "123456789012"}}),
            False,
        ),
        ("checkov CKV_AWS_70", BUCKET_POLICY, bucket_policy({"StringEquals": {"aws:sourceVpce": "vpce-1a2b"}}), False),
        ("checkov CKV_AWS_70", BUCKET_POLICY, bucket_policy({"Bool": {"aws:SecureTransport": "true"}}), True),
        (
            "checkov CKV_AWS_61",
            ROLE,
            {
                "assumeRolePolicy": policy_doc(
                    {"Effect": "Allow", "Principal": {"AWS": "123123123123"}, "Action": "sts:AssumeRole"}
                )
            },
            True,
        ),
    ],
    ids=lambda value: value if isinstance(value, str) else None,
)
def test_policy_rules_claiming_an_id_agree_with_its_own_cases(
    public_id: str, resource_type: str, props: dict[str, Any], fails: bool
) -> None:
    found = verdict(public_id, resource_type, props)
    if fails:
        assert any(found.values()), found
    else:
        assert not any(found.values()), found


def test_policy_cross_account_grant_waits_for_an_unknown_topic_arn() -> None:
    # During a first preview the topic's ARN (so its account) is unknown: a grant to an account is undecided,
    # never a finding the update might not make.
    props = topic_policy({"AWS": "arn:aws:iam::123456789012:role/publisher"}) | {"arn": UNKNOWN}
    props["policy"] = props["policy"].replace('"Resource": "arn:aws:sns:eu-west-1:123456789012:t"', '"Resource": "*"')
    with pytest.raises(CannotEvaluateError, match="the topic's account"):
        findings("sns-topic-policy-no-cross-account", TOPIC_POLICY, props)
