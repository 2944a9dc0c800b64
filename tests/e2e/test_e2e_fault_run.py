"""The measured fault run of ``make test``: seeded orders, every event delivered twice, faults everywhere.

The run itself happens in a background process (see ``conftest.py``); this test waits for its report,
publishes the figures to the terminal summary and asserts the invariants the run checked (see
``faultkit.invariant_violations``):

* every accepted order is terminal, or parked on an alarmed queue with its cause;
* nobody is charged without an order, charged twice, refunded while shipped, or shipped without payment;
* stock is never negative and always equals initial − what booked shipments hold;
* every terminal status has exactly one timeline entry and one notification of its event;
* no event is lost and a duplicated ``OrderPlaced`` never fulfils twice;
* no customer sees another customer's data or an internal error text.

A longer run over other seeds is ``benchmarks/fault_run.py`` (``make bench``).
"""

from __future__ import annotations

from tests.e2e.faultkit import REPORTED_LINES, SERVICES, BackgroundFaultRun, FaultRunConfig

# Far above the run's ~1 minute on 2 cores: a hung run fails here instead of hanging CI.
REPORT_TIMEOUT_SECONDS = 900


def test_a_seeded_fault_run_keeps_every_invariant(background_fault_run: BackgroundFaultRun) -> None:
    config = FaultRunConfig()

    report = background_fault_run.report(REPORT_TIMEOUT_SECONDS)
    REPORTED_LINES.extend(report.lines)

    assert report.config == background_fault_run.config.__dict__
    assert report.config["deliveries_per_event"] == 2
    assert report.placed + report.not_placed == config.orders
    assert report.violations == []
    # The run exercised what it claims: every terminal state, both business failures, parked orders, faults
    # of every kind in the Lambda steps, the deliveries and each service the workflows call themselves,
    # suppressed duplicates everywhere, and the poison events dead-lettered.
    assert all(report.terminal[status] > 0 for status in ("FULFILLED", "FAILED", "REJECTED"))
    assert {"OUT_OF_STOCK", "PAYMENT_DECLINED"} <= set(report.failure_reasons)
    assert sum(report.parked.values()) > 0
    assert min(report.faults[f"lambda {kind}"] for kind in ("throttle", "lost-response")) > 0
    assert report.faults["eventbridge delivery"] > 0
    for service in SERVICES:
        assert sum(count for name, count in report.faults.items() if name.startswith(f"{service} ")) > 0, service
    assert {name.split(" ")[1] for name in report.faults if name.split(" ")[0] in SERVICES} >= {
        "error",
        "throttle",
        "lost-response",
    }
    assert min(report.duplicates_suppressed.values()) > 0
    assert sum(report.dead_letters.values()) >= config.deliveries_per_event * config.poison_events
