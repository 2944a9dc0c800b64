"""``unblock``: an operator lets a customer blocked by declined payments order again (issue 20, item 3)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ops.opskit import ops
from tests.workflows.flowkit import OrderFlow
from tests.workflows.flowkit_orders import history_for_tier, new_customer, place_order, seed_history

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish")


def test_a_blocked_customer_is_unblocked_and_their_next_order_goes_through(
    flow: OrderFlow, capsys: pytest.CaptureFixture[str], outputs: Path
) -> None:
    customer = new_customer()
    history_for_tier(flow, customer, "BLOCKED")
    rejected = place_order(flow, customer, {"MUG-BLK": 1})["orderId"]
    assert flow.item("orders", {"orderId": rejected})["reason"] == "CUSTOMER_BLOCKED"

    run = ops(capsys, outputs, "unblock", "--customer", customer, "--reason", "new card, ticket 4711", "--json")

    assert run.code == 0, run.err
    assert len(run.json["waived"]) == 3
    for order_id in run.json["waived"]:
        waiver = flow.item("orders", {"orderId": order_id})["declineWaived"]
        assert waiver["reason"] == "new card, ticket 4711"
        assert waiver["by"].startswith("arn:aws:")
    accepted = place_order(flow, customer, {"MUG-BLK": 1})["orderId"]
    assert flow.item("orders", {"orderId": accepted})["status"] == "FULFILLED"

    again = ops(capsys, outputs, "unblock", "--customer", customer, "--reason", "once more")
    assert again.code == 1
    assert f"customer {customer} has no declined payment counting against them" in again.err


def test_unblocking_needs_a_reason(flow: OrderFlow, capsys: pytest.CaptureFixture[str], outputs: Path) -> None:
    customer = new_customer()
    seed_history(flow, customer, failed=1)

    assert ops(capsys, outputs, "unblock", "--customer", customer, "--reason", "  ").code == 2
    run = ops(capsys, outputs, "unblock", "--customer", customer, "--reason", "goodwill", "--json")

    assert run.code == 0, run.err
    assert len(run.json["waived"]) == 1
