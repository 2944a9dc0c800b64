"""``replay``: archived events replayed to the rules that consume them, and why that is safe.

moto's StartReplay is partial (it ignores the time window and ``FilterArns``, and gives replayed events new
ids): the command runs against moto for the calls moto checks (the archive, the bus, the rules), the
progress it follows is covered with recorded DescribeReplay answers, and the safety claim is proved on the
flow itself, with events replayed as EventBridge replays them (the archived event plus ``replay-name``).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from moto.events.models import events_backends

from offline.recording import ProgramRun
from orderflow.ops import replay
from tests.ops.opskit import ops, place_orders, stubbed, with_clients
from tests.workflows.flowkit import OrderFlow
from tests.workflows.flowkit_orders import new_customer, place_order

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def bus_rules(program: ProgramRun) -> dict[str, str]:
    bus = program.outputs["eventBusArn"].rsplit("/", 1)[-1]
    return {role: arn for role, arn in program.outputs["eventRules"].items() if f"rule/{bus}/" in arn}


def test_every_rule_on_the_bus_says_why_a_replay_is_safe(recorded_program: ProgramRun) -> None:
    assert set(bus_rules(recorded_program)) == set(replay.REPLAY_SAFETY)


def snapshot(flow: OrderFlow, order_id: str) -> dict[str, Any]:
    return {
        "order": flow.item("orders", {"orderId": order_id}),
        "executions": sorted(e.name for e in flow.executions("fulfillment")),
        "timeline": sorted(row["eventKey"] for row in flow.scan("timeline") if row["orderId"] == order_id),
        "published": sorted(json.dumps(p, sort_keys=True) for _, p in flow.iot_publishes()),
        "payments": flow.scan("payments"),
        "inventory": flow.scan("inventory"),
    }


def test_replaying_an_orders_events_to_every_rule_changes_nothing(flow: OrderFlow) -> None:
    order_id = place_order(flow, new_customer(), {"MUG-BLK": 2, "TEE-L": 1})["orderId"]
    before = snapshot(flow, order_id)
    assert len(before["published"]) == 3
    archived = [event for event in flow.bus_events() if event["source"] == "orderflow.orders"]
    assert sorted(event["detail-type"] for event in archived) == ["OrderAccepted", "OrderFulfilled", "OrderPlaced"]

    # EventBridge replays each archived event, as archived, with replay-name added, to the bus's rules.
    for event in archived:
        flow.router.accept(flow.system.custom_bus, {**event, "replay-name": "orderflow-dev-test"})
    flow.router.pump()

    assert snapshot(flow, order_id) == before
    assert before["order"]["status"] == "FULFILLED" and len(before["executions"]) == 1


def archive_and_rules(flow: OrderFlow, program: ProgramRun) -> None:
    """What `pulumi up` creates and the flow leaves to its router: the archive and the bus's rules."""
    flow.events.create_archive(
        ArchiveName=program.outputs["eventArchiveArn"].rsplit("/", 1)[-1],
        EventSourceArn=program.outputs["eventBusArn"],
        RetentionDays=3,
    )
    rules = {rule.arn: rule for rule in flow.system.rules}
    for arn in bus_rules(program).values():
        bus, name = arn.split(":rule/", 1)[1].split("/")
        flow.events.put_rule(Name=name, EventBusName=bus, EventPattern=rules[arn].pattern)


def test_replay_of_one_detail_type_goes_to_the_rules_naming_it(
    flow: OrderFlow, recorded_program: ProgramRun, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    archive_and_rules(flow, recorded_program)
    place_orders(flow, 1)

    run = ops(capsys, outputs, "replay", "--from", "1h", "--to", "now", "--detail-type", "OrderPlaced", "--json")

    assert run.code == 0, run.err
    assert run.json["state"] == "COMPLETED"
    assert list(run.json["rules"]) == ["order-placed"]
    assert "fulfillment starts at most once" in run.json["rules"]["order-placed"]["whyItIsSafe"]
    assert any("less than 10 minutes ago" in warning for warning in run.json["warnings"])
    [started] = events_backends[flow.system.account][flow.system.region].replays.values()
    assert started.destination == {
        "Arn": recorded_program.outputs["eventBusArn"],
        "FilterArns": [recorded_program.outputs["eventRules"]["order-placed"]],
    }
    assert started.source_arn == recorded_program.outputs["eventArchiveArn"]

    text = ops(capsys, outputs, "replay", "--from", "2h", "--to", "1h", "--detail-type", "OrderFailed")
    assert "rule order-status: notify: an order's notification of a type already published" in text.out
    assert "(also receives the window's OrderAccepted, OrderFulfilled, OrderRejected)" in text.out


def test_replay_follows_progress_and_reports_a_failed_replay(
    flow: OrderFlow,
    recorded_program: ProgramRun,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    outputs: Path,
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(replay.time, "sleep", slept.append)
    now = datetime.now(UTC).replace(microsecond=0)
    start, end = now - timedelta(hours=3), now - timedelta(hours=1)
    rules = {rule.arn: rule for rule in flow.system.rules}

    def events_client(final_state: str) -> Any:
        client, stubber = stubbed("events", flow.system.region)
        stubber.add_response("describe_archive", {"ArchiveName": "a", "State": "ENABLED", "RetentionDays": 30})
        for arn in bus_rules(recorded_program).values():
            stubber.add_response("describe_rule", {"Name": "r", "EventPattern": rules[arn].pattern})
        stubber.add_response("start_replay", {"State": "STARTING", "ReplayArn": "arn:aws:events:eu-west-1:1:replay/r"})
        stubber.add_response(
            "describe_replay", {"State": "RUNNING", "EventLastReplayedTime": start + timedelta(hours=1)}
        )
        stubber.add_response(
            "describe_replay",
            {"State": final_state, "EventLastReplayedTime": end, "StateReason": "The archive was deleted"},
        )
        return client

    window = ["--from", start.isoformat(), "--to", end.isoformat()]
    done = ops(capsys, outputs, "replay", *window, connect=with_clients(events=events_client("COMPLETED")))
    failed = ops(capsys, outputs, "replay", *window, connect=with_clients(events=events_client("FAILED")))

    assert done.code == 0, done.err
    assert "RUNNING: replayed up to" in done.err and "(50% of the window)" in done.err
    assert "COMPLETED" in done.out
    assert failed.code == 1
    assert "FAILED" in failed.out
    # Each run looked again once after RUNNING, pausing between the two looks.
    assert slept.count(replay.REPLAY_POLL_SECONDS) == 2
