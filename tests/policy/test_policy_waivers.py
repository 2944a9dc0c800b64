"""Waivers: by pack config (rule + resource pattern) or by tag, with a mandatory reason and an optional expiry."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from policy_cases import BASELINES, PUBLIC_ACCESS_BLOCK, QUEUE, TABLE
from policy_stack_cases import baseline, drop
from policy_testkit import PROVIDER_URN, patched, program_run, recorded, stack_of

from offline.policy_client import PACK_DIR, PolicyConfigError, run_policy_pack
from policy_pack import rule
from policy_pack._core import WAIVER_TAG_PREFIX, tag_waiver

TODAY = date(2026, 6, 1)
OPEN_BLOCK = patched(BASELINES[PUBLIC_ACCESS_BLOCK], {"blockPublicPolicy": False, "restrictPublicBuckets": False})
PAY_PER_REQUEST_OFF = patched(BASELINES[TABLE], {"billingMode": "PROVISIONED"})


def _outcome(props: dict[str, Any], config: dict[str, Any] | None = None, name: str = "site-block") -> Any:
    return rule("s3-block-public-access").outcome(
        props,
        PUBLIC_ACCESS_BLOCK,
        config,
        urn=f"urn:pulumi:dev::p::{PUBLIC_ACCESS_BLOCK}::{name}",
        name=name,
        today=TODAY,
    )


def test_policy_config_waiver_by_name_pattern_waives_with_its_reason() -> None:
    config = {"waivers": [{"resource": "site-*", "reason": "static website, public on purpose", "until": "2026-12-31"}]}
    outcome = _outcome(OPEN_BLOCK, config)
    assert outcome.findings == []
    [(finding, waiver)] = outcome.waived
    assert "blockPublicPolicy" in finding.message
    assert waiver.describe() == "waived by config (static website, public on purpose; until 2026-12-31)"
    assert _outcome(OPEN_BLOCK, config, name="receipts-block").findings, "the pattern matches only what it names"


def test_policy_config_waiver_matches_urns_too() -> None:
    config = {"waivers": [{"resource": "*BucketPublicAccessBlock::site-block", "reason": "public site"}]}
    assert _outcome(OPEN_BLOCK, config).waived


def test_policy_tag_waiver_with_expiry_in_either_separator() -> None:
    for value in ("public website; until 2026-12-31", "public website until 2026-12-31"):
        tags = {f"{WAIVER_TAG_PREFIX}s3-block-public-access": value}
        outcome = _outcome({**OPEN_BLOCK, "tags": tags})
        [(_, waiver)] = outcome.waived
        assert (waiver.reason, str(waiver.until), waiver.source) == (
            "public website",
            "2026-12-31",
            "tag policy:waive:s3-block-public-access",
        )


def test_policy_expired_waiver_is_itself_a_violation() -> None:
    tags = {f"{WAIVER_TAG_PREFIX}s3-block-public-access": "launch campaign until 2026-01-31"}
    outcome = _outcome({**OPEN_BLOCK, "tags": tags})
    assert outcome.waived == []
    [finding] = outcome.findings
    assert "expired on 2026-01-31" in finding.message and "blockPublicPolicy" in finding.message
    # Still a violation when the resource has since been fixed: the stale waiver must go.
    fixed = _outcome({**BASELINES[PUBLIC_ACCESS_BLOCK], "tags": tags})
    assert [f.message for f in fixed.findings] == [
        "waiver waived by tag policy:waive:s3-block-public-access (launch campaign; until 2026-01-31) expired on "
        "2026-01-31: remove it (nothing to waive any more) or renew it"
    ]


def test_policy_tag_waiver_without_a_reason_waives_nothing() -> None:
    assert isinstance(tag_waiver("r", {f"{WAIVER_TAG_PREFIX}r": " until 2026-12-31"}), str)
    outcome = _outcome({**OPEN_BLOCK, "tags": {f"{WAIVER_TAG_PREFIX}s3-block-public-access": ""}})
    assert outcome.waived == []
    assert "has no reason" in outcome.findings[0].message


def test_policy_waiver_with_an_impossible_date_is_reported() -> None:
    outcome = _outcome(OPEN_BLOCK, {"waivers": [{"resource": "*", "reason": "r", "until": "2026-02-30"}]})
    assert any("is not a date" in f.message for f in outcome.findings)


def test_policy_stack_rule_findings_are_waived_by_the_tag_of_the_resource_they_name() -> None:
    stack = drop(baseline(), "receipts-versioning")
    for res in stack:
        if res.name == "receipts":
            res.props["tags"] = {f"{WAIVER_TAG_PREFIX}s3-bucket-versioning": "scratch bucket, rebuilt nightly"}
    outcome = rule("s3-bucket-versioning").outcome(stack_of(*stack), today=TODAY)
    assert outcome.findings == [] and len(outcome.waived) == 1


# ---- on the engine path ------------------------------------------------------------------------------------


def test_policy_grpc_waived_finding_is_advisory_with_its_reason() -> None:
    run = program_run(recorded(TABLE, "orders", PAY_PER_REQUEST_OFF))
    config = {"dynamodb-on-demand": {"waivers": [{"resource": "orders", "reason": "steady load, reserved capacity"}]}}
    report = run_policy_pack(run, PACK_DIR, config)
    assert report.of_policy("dynamodb-on-demand") == []
    [note] = [v for v in report.violations if v.rule == "dynamodb-on-demand"]
    assert note.enforcement_level == "advisory" and note.policy_name == "pack-notes"
    assert "waived by config (steady load, reserved capacity)" in note.message
    assert note.resource_name == "orders"


def test_policy_grpc_waiver_without_a_reason_is_rejected_when_the_pack_starts() -> None:
    run = program_run(recorded(QUEUE, "q", {"name": "q"}))
    with pytest.raises(PolicyConfigError, match=r"sqs-redrive-policy\.waivers\.0: 'reason' is a required property"):
        run_policy_pack(run, PACK_DIR, {"sqs-redrive-policy": {"waivers": [{"resource": "q"}]}})
    with pytest.raises(PolicyConfigError, match=r"waivers\.0\.reason"):
        run_policy_pack(run, PACK_DIR, {"sqs-redrive-policy": {"waivers": [{"resource": "q", "reason": "  "}]}})


def test_policy_grpc_provider_record_is_never_waived_or_flagged() -> None:
    report = run_policy_pack(program_run(), PACK_DIR)
    assert not [v for v in report.violations if v.urn == PROVIDER_URN]
