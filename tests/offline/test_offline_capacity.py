"""make capacity and make burst on the real program: hand-computed figures, config changes, the guardrail."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline import burst, capacity
from offline.harness import PROJECT_DIR, run_program
from offline.order_path import DEFAULT_PROFILE, ProfileError, load_profile, walk_order
from offline.recording import ProgramRun
from tests.recorded import recorded_program

DATA = PROJECT_DIR / "policy" / "policy_pack" / "data"


def data_rows(name: str) -> list[dict[str, str]]:
    lines = [line for line in (DATA / name).read_text().splitlines() if not line.startswith("#")]
    return list(csv.DictReader(lines))


def figure(name: str, service: str, item: str, region: str) -> float:
    rows = {(r["service"], r["item"], r["region"]): float(r["value"]) for r in data_rows(name)}
    for candidate in (region, "*", "us-east-1"):
        if (service, item, candidate) in rows:
            return rows[(service, item, candidate)]
    raise KeyError(item)


@pytest.fixture(scope="module")
def prod() -> ProgramRun:
    return recorded_program("prod")


@pytest.fixture(scope="module")
def profile_document() -> dict[str, Any]:
    return yaml.safe_load(DEFAULT_PROFILE.read_text())


def test_capacity_function_ceiling_matches_a_hand_computation(
    prod: ProgramRun, profile_document: dict[str, Any]
) -> None:
    report = capacity.analyse(prod, load_profile(), 100)
    spec = profile_document["functions"]["create_order"]
    latency = profile_document["latencyMs"]
    warm_ms = spec["cpuMs"] + sum(call.get("requests", 1) * latency[next(iter(call))] for call in spec["calls"])
    duration_s = (warm_ms + profile_document["coldStartShare"] * spec["initMs"]) / 1000
    reserved = prod.named("create-order-function").inputs["reservedConcurrentExecutions"]
    hop = next(h for h in report.hops if h.name == "orderflow-prod-create-order (Lambda, sync)")
    # One invocation per order: the ceiling in orders/s is reserved concurrency over the mean duration.
    assert hop.ceiling_orders == pytest.approx(reserved / duration_s)
    assert hop.utilisation(100) == pytest.approx(100 / (reserved / duration_s))


def test_capacity_state_transition_ceiling_uses_the_quota_file(prod: ProgramRun) -> None:
    report = capacity.analyse(prod, load_profile(), 100)
    hop = next(h for h in report.hops if h.kind == "sfn-transitions")
    usage = walk_order(prod, load_profile())
    fulfillment = next(urn for urn, m in usage.state_machines.items() if m.inputs["type"] == "STANDARD")
    refill = figure("quotas.csv", "stepfunctions", "standard_state_transition_rate", "eu-west-1")
    assert refill == 1500
    assert hop.ceiling_orders == pytest.approx(refill / usage.transitions[fulfillment])
    # Transitions come from the recorded definition: an accepted order's fulfillment enters one state (the
    # steps run in EXPRESS, billed per run); a blocked customer's order never starts one.
    definition = json.loads(usage.state_machines[fulfillment].inputs["definition"])
    accepted = sum(outcome.share for outcome in load_profile().outcomes if "BLOCKED" not in outcome.choices.values())
    assert definition["States"][definition["StartAt"]]["End"] is True
    assert usage.transitions[fulfillment] == pytest.approx(accepted)


def test_capacity_api_gateway_cost_matches_a_hand_computation(
    prod: ProgramRun, profile_document: dict[str, Any]
) -> None:
    report = capacity.analyse(prod, load_profile(), 100)
    requests_per_order = sum(r["perOrder"] for r in profile_document["page"]["requests"])
    price = figure("prices.csv", "apigateway", "http_api_request", "eu-west-1")
    assert dict(report.by_service())["API Gateway"] == pytest.approx(1000 * requests_per_order * price)
    assert report.per_thousand == pytest.approx(sum(amount for _, amount in report.by_service()))
    assert "prices: no eu-west-1 figure: the us-east-1 figure is used" in report.notes


def test_capacity_prod_has_no_hop_below_its_api_limit_and_no_email_per_order(prod: ProgramRun) -> None:
    report = capacity.analyse(prod, load_profile(), 100)
    assert [hop.name for hop in report.hops if hop.ceiling_orders < 100] == []
    # No order e-mails anyone: the operators' e-mail gets alarm digests, which no order's path publishes.
    assert not [hop for hop in report.hops if hop.kind in ("sns-email", "sns-publish")]
    assert "SNS" not in dict(report.by_service())
    assert report.idle_monthly > 0 and report.monthly > report.idle_monthly


def test_capacity_lowering_reserved_concurrency_moves_the_bottleneck_and_trips_the_guardrail(prod: ProgramRun) -> None:
    from offline.policy_client import run_policy_pack
    from offline.preview import POLICY_DIR

    profile = load_profile()
    before_run = prod  # the committed stack file, recorded once for the module
    before = capacity.analyse(before_run, profile, 100)
    after_run = run_program("prod", config_overrides={"orderflow:apiReservedConcurrency": "2"})
    after = capacity.analyse(after_run, profile, 100)
    # create_order is the slowest API function (one call per order, 57 ms): it chokes first.
    create_order = "orderflow-prod-create-order (Lambda, sync)"
    assert before.bottleneck.name != create_order
    assert after.bottleneck.name == create_order
    assert after.bottleneck.ceiling_orders < before.bottleneck.ceiling_orders
    assert "orderflow:apiReservedConcurrency" in after.bottleneck.change
    assert "First bottleneck: orderflow-prod-create-order" in capacity.format_report(after)

    config = POLICY_DIR / "config" / "prod.json"
    guardrail = "capacity-no-silent-choke-point"
    clean = run_policy_pack(before_run, POLICY_DIR, config)
    choked = run_policy_pack(after_run, POLICY_DIR, config)
    assert not [v for v in clean.violations if v.policy_name == guardrail]
    found = [v for v in choked.violations if v.policy_name == guardrail]
    assert any("create-order-function" in v.message and v.enforcement_level == "advisory" for v in found)


def test_capacity_cli_writes_json_and_reports_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report.json"
    assert capacity.main(["--stack", "dev", "--rate", "1", "--json", str(out)]) == 0
    document = json.loads(out.read_text())
    assert document["bottleneck"]["hop"] and document["costPer1000Orders"] > 0
    assert "Unit cost at 1 orders/s" in capsys.readouterr().out

    assert capacity.main(["--stack", "nope"]) == 2
    assert "Pulumi.nope.yaml not found" in capsys.readouterr().err

    bad = tmp_path / "profile.yaml"
    bad.write_text(DEFAULT_PROFILE.read_text().replace("share: 0.95", "share: 0.5"))
    assert capacity.main(["--stack", "dev", "--profile", str(bad)]) == 2
    assert "shares must add up to 1" in capsys.readouterr().err


def test_capacity_profile_outcome_without_a_branch_names_the_choice_state(tmp_path: Path, prod: ProgramRun) -> None:
    document = yaml.safe_load(DEFAULT_PROFILE.read_text())
    document["outcomes"][0]["choices"] = {}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(ProfileError, match=r"CheckTier .*\$\.classification\.tier"):
        walk_order(prod, load_profile(path))


def test_capacity_unknown_profile_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(DEFAULT_PROFILE.read_text().replace("cpuMs: 14", "cpuMS: 14"))
    with pytest.raises(ProfileError, match=r"functions\.create_order"):
        load_profile(path)


def test_burst_is_deterministic_and_accounts_for_every_order(prod: ProgramRun) -> None:
    profile = load_profile()
    report = capacity.analyse(prod, profile, 100)
    first = burst.simulate(prod, profile, rate=100, factor=10, seconds=5, seed=7, report=report)
    again = burst.simulate(prod, profile, rate=100, factor=10, seconds=5, seed=7, report=report)
    other = burst.simulate(prod, profile, rate=100, factor=10, seconds=5, seed=8, report=report)
    assert first.to_json() == again.to_json()
    assert first.to_json() != other.to_json()
    accounted = first.completed + first.refused_at_edge + first.parked + first.compensated
    assert accounted + sum(1 for s in first.stages if s.kind in burst.CHAIN_KINDS and s.lost) == first.orders
    edge = first.stages[0]
    assert edge.kind == "api-route" and edge.throttled > 0
    assert first.refused_at_edge > 0 and first.lost == 0
    assert "refused at the edge" in burst.format_result(first)


def test_burst_throttled_workflow_steps_end_on_their_catch_path() -> None:
    run = run_program("prod", config_overrides={"orderflow:reservedConcurrency": "1"})
    result = burst.simulate(run, load_profile(), rate=100, factor=10, seconds=5, seed=3)
    reserve = next(s for s in result.stages if "reserve-inventory" in s.name)
    # One execution at a time cannot keep up with the 100 orders/s the edge admits: the Task's Retry runs
    # out and its Catch compensates the order; nothing is lost.
    assert reserve.throttled > 0 and reserve.to_failure_path > 0
    assert "ReserveInventory Catch" in reserve.failure_path and "(compensation)" in reserve.failure_path
    assert result.compensated >= reserve.to_failure_path and result.lost == 0
    assert result.completed + result.refused_at_edge + result.parked + result.compensated == result.orders


def test_capacity_cloudfront_requests_are_the_page_api_calls_it_serves(
    prod: ProgramRun, profile_document: dict[str, Any]
) -> None:
    report = capacity.analyse(prod, load_profile(), 100)
    # Every route of the page is under the distribution's /orders and /orders/* behaviours.
    behaviours = prod.named("web-distribution").inputs["orderedCacheBehaviors"]
    assert sorted(b["pathPattern"] for b in behaviours) == ["/orders", "/orders/*"]
    requests_per_order = sum(r["perOrder"] for r in profile_document["page"]["requests"])
    assert requests_per_order == 3  # place, read the order, list the orders once (web/public/js/main.js)
    price = figure("prices.csv", "cloudfront", "https_request", "eu-west-1")
    assert dict(report.by_service())["CloudFront"] == pytest.approx(1000 * requests_per_order * price)


def test_capacity_cloudfront_leaves_out_a_route_no_behaviour_serves(prod: ProgramRun) -> None:
    usage = walk_order(prod, load_profile())
    context = capacity.Context(prod, usage, load_profile(), capacity.prices(), capacity.quotas())
    all_routes = capacity.cloudfront_requests(context)
    [distribution] = prod.of_type(capacity.DISTRIBUTION)
    recorded = [p for p in (distribution.inputs, distribution.outputs) if "orderedCacheBehaviors" in p]
    behaviours = distribution.inputs["orderedCacheBehaviors"]
    for properties in recorded:
        properties["orderedCacheBehaviors"] = [b for b in behaviours if b["pathPattern"] == "/orders"]
    try:
        only_list_and_place = capacity.cloudfront_requests(context)
    finally:
        for properties in recorded:
            properties["orderedCacheBehaviors"] = behaviours
    # GET /orders/{orderId} (once per order) matches only /orders/*.
    assert all_routes - only_list_and_place == pytest.approx(1.0)


def test_capacity_declined_payment_is_not_charged_a_write(tmp_path: Path, prod: ProgramRun) -> None:
    document = yaml.safe_load(DEFAULT_PROFILE.read_text())
    declined = next(o["share"] for o in document["outcomes"] if "ProcessPayment" in o.get("failures", {}))
    del document["functions"]["process_payment"]["failedCalls"]
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(document))
    charged_always = walk_order(prod, load_profile(path))
    as_the_code_does = walk_order(prod, load_profile())
    payments = next(urn for urn, t in as_the_code_does.tables.items() if "payments" in t.name)
    # process_payment writes one unit when it charges, nothing when the charge is declined.
    assert charged_always.write_units[payments] - as_the_code_does.write_units[payments] == pytest.approx(declined)


SCALE_1000 = [
    *("--config", "orderflow:apiThrottleRate=1000", "--config", "orderflow:apiThrottleBurst=2000"),
    *("--config", "orderflow:apiReservedConcurrency=100", "--config", "orderflow:reservedConcurrency=40"),
    *("--config", "orderflow:notifyReservedConcurrency=200", "--config", "orderflow:queueConsumerMaxConcurrency=30"),
    *("--config", "orderflow:tableWarmWriteUnits=12000"),
    *("--quota", "stepfunctions.standard_start_execution_rate=1500", "--quota", "iot.connect_rate=1500"),
]
"""docs/scaling.md, "1,000 orders/s": the settings and the quota increases, as ARGS of make capacity."""


def test_capacity_at_1000_orders_with_the_documented_settings_stops_only_at_the_apis_own_limit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.json"

    assert capacity.main(["--stack", "prod", "--rate", "1000", *SCALE_1000, "--json", str(out)]) == 0

    hops = json.loads(out.read_text())["hops"]
    assert [hop["name"] for hop in hops if hop["ceilingOrdersPerSecond"] < 1000] == []
    assert {hop["kind"] for hop in hops if hop["ceilingOrdersPerSecond"] == 1000} == {"api-route"}
    origins = {hop["name"]: hop["origin"] for hop in hops}
    assert origins["IoT Core connects (account)"] == "requested quota increase (--quota)"
    assert {origin for name, origin in origins.items() if name.endswith(" writes")} == {
        "configured warm throughput 12000 WRU/s"
    }
    assert "First bottleneck: API route" in capsys.readouterr().out


def test_capacity_with_the_settings_but_without_the_increases_names_a_quota_first_at_1000_orders(
    tmp_path: Path,
) -> None:
    out = tmp_path / "report.json"
    settings = [
        argument
        for pair in zip(SCALE_1000[::2], SCALE_1000[1::2], strict=True)
        if pair[0] == "--config"
        for argument in pair
    ]

    assert capacity.main(["--stack", "prod", "--rate", "1000", *settings, "--json", str(out)]) == 0

    document = json.loads(out.read_text())
    first = document["hops"][0]
    assert first["name"] == document["bottleneck"]["hop"]
    assert first["origin"].startswith("AWS default quota") and first["ceilingOrdersPerSecond"] < 1000
    # What is left below 1,000 orders/s is quotas only: the stack config has done its part.
    below = [hop for hop in document["hops"] if hop["ceilingOrdersPerSecond"] < 1000]
    assert all(hop["origin"].startswith("AWS default quota") for hop in below), below


def test_capacity_cli_refuses_a_quota_or_config_it_cannot_read(capsys: pytest.CaptureFixture[str]) -> None:
    assert capacity.main(["--stack", "prod", "--quota", "sns.email=100"]) == 2
    assert "quotas.csv has no figure for sns email" in capsys.readouterr().err
    assert capacity.main(["--stack", "prod", "--quota", "iot.connect_rate=-1"]) == 2
    assert "expected a positive number" in capsys.readouterr().err
    assert capacity.main(["--stack", "prod", "--config", "apiThrottleRate=1000"]) == 2
    assert "--config 'apiThrottleRate=1000': expected NAME:NAME=VALUE" in capsys.readouterr().err
