"""Replay archived events to the bus's rules, and why that is safe for each consumer.

EventBridge replays the archived events of a time window to the bus they came from, to all of its rules
or to the rules named. A replayed event is the archived event with a ``replay-name`` field added (the
archive's own rule ignores it, so nothing is archived twice). Replaying works by rule, not by
detail-type: ``--detail-type X`` picks the rules whose pattern names ``X``, and each of them also gets the
window's other events its pattern matches (they are listed).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from orderflow.ops.aws import EXIT_INTERRUPTED, EXIT_NOT_DONE, Aws, OpsError
from orderflow.ops.outputs import StackOutputs

Progress = Callable[[str], None]

REPLAY_POLL_SECONDS: Final = 5.0
ARCHIVE_DELAY: Final = timedelta(minutes=10)
"""EventBridge may take this long to archive an event: a window ending later may miss some."""
REPLAY_SAFETY: Final[dict[str, str]] = {
    "order-placed": (
        "customer-status: an order no longer PENDING or ACCEPTED is left as it is (DuplicateIgnored), and its "
        "fulfillment starts at most once (the execution is named order-<orderId>; a second start finds it and "
        "announces OrderAccepted again, which consumers record once)"
    ),
    "order-status": (
        "notify: an order's notification of a type already published in the last 25 hours is skipped "
        "(Powertools idempotency on [orderId, type]); an older one notifies the customer again"
    ),
    "receipt-ready": "notify: as for order-status, one ReceiptReady per order for 25 hours",
    "operator-failures": (
        "the operators' topic: a replayed OrderFailed is a second notice naming the same orderId (a work queue "
        "drops the copy by it) and counts again in the failed-orders digest; no customer is told anything"
    ),
    "audit": (
        "audit: one timeline row per lifecycle event of an order (any other event: per event time and id), "
        "written only if absent: a replay adds nothing"
    ),
}
"""What each rule's consumer does with an event it has already processed (a test keeps it complete)."""
_RELATIVE: Final = re.compile(r"^-?(?P<amount>\d+)(?P<unit>[smhd])$")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def parse_time(text: str, now: datetime) -> datetime:
    """``--from``/``--to``: ISO 8601 (``2026-11-30T14:00:00Z``; UTC when no zone), ``now``, or ``2h`` ago.

    Raises
    ------
    OpsError
        For anything else.
    """
    if text == "now":
        return now
    relative = _RELATIVE.match(text)
    if relative:
        return now - timedelta(**{_UNITS[relative["unit"]]: int(relative["amount"])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise OpsError(f"time {text!r}: expected ISO 8601 (2026-11-30T14:00:00Z), 'now' or an age like 2h") from error
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _rule_name_and_bus(rule_arn: str) -> tuple[str, str]:
    path = rule_arn.split(":rule/", 1)[1]
    bus, _, name = path.rpartition("/")
    return name, bus or "default"


def rules_on_bus(aws: Aws, outputs: StackOutputs) -> dict[str, dict[str, Any]]:
    """The bus's rules (role → ARN and pattern); rules of the default bus are not in its archive."""
    bus_name = outputs.bus_arn.rsplit("/", 1)[-1]
    rules = {}
    for role, arn in outputs.rules.items():
        name, bus = _rule_name_and_bus(arn)
        if bus != bus_name:
            continue
        described = aws.client("events").describe_rule(Name=name, EventBusName=bus)
        rules[role] = {"arn": arn, "pattern": json.loads(described.get("EventPattern") or "{}")}
    return rules


def _detail_types(pattern: dict[str, Any]) -> list[str] | None:
    """The detail-types a pattern names, or ``None`` when it matches any."""
    listed = pattern.get("detail-type")
    return [value for value in listed if isinstance(value, str)] if isinstance(listed, list) else None


def plan(rules: dict[str, dict[str, Any]], detail_types: list[str], chosen: list[str]) -> dict[str, dict[str, Any]]:
    """The rules a replay goes to: ``chosen`` by role, or those naming one of ``detail_types``, or all.

    Raises
    ------
    OpsError
        For an unknown rule, or a detail-type no rule names.
    """
    unknown = [role for role in chosen if role not in rules]
    if unknown:
        raise OpsError(f"no rule {', '.join(unknown)} on the bus; rules: {', '.join(sorted(rules))}")
    if chosen:
        picked = {role: rules[role] for role in chosen}
    elif detail_types:
        picked = {
            role: rule for role, rule in rules.items() if set(detail_types) & set(_detail_types(rule["pattern"]) or ())
        }
        if not picked:
            raise OpsError(f"no rule names detail-type {', '.join(detail_types)}; rules: {', '.join(sorted(rules))}")
    else:
        picked = dict(rules)
    return {
        role: {
            "ruleArn": rule["arn"],
            "alsoReceives": sorted(
                set(_detail_types(rule["pattern"]) or ["every event it matches"]) - set(detail_types)
            ),
            "whyItIsSafe": REPLAY_SAFETY.get(role, "no idempotency statement for this rule: check its consumer first"),
        }
        for role, rule in sorted(picked.items())
    }


def replay(
    aws: Aws,
    outputs: StackOutputs,
    *,
    start: datetime,
    end: datetime,
    detail_types: list[str],
    chosen_rules: list[str],
    wait: bool,
    now: datetime,
    progress: Progress,
    sleep: Callable[[float], None] | None = None,
) -> tuple[dict[str, Any], int]:
    """``replay``: start an archive replay of ``[start, end)`` to the planned rules, and follow it.

    ``sleep`` waits between two looks at the replay (``time.sleep`` when None, looked up at each call).

    Returns
    -------
    tuple
        The report and the exit status (1 when the replay failed or was cancelled).
    """
    if end <= start:
        raise OpsError(f"--to {end.isoformat()} must be after --from {start.isoformat()}")
    events = aws.client("events")
    archive_name = outputs.archive_arn.rsplit("/", 1)[-1]
    archive = events.describe_archive(ArchiveName=archive_name)
    warnings = []
    retention = int(archive.get("RetentionDays") or 0)
    if retention and start < now - timedelta(days=retention):
        warnings.append(f"the archive keeps {retention} days: events before {now - timedelta(days=retention)} are gone")
    if end > now - ARCHIVE_DELAY:
        warnings.append("the window ends less than 10 minutes ago: EventBridge may not have archived every event yet")
    targets = plan(rules_on_bus(aws, outputs), detail_types, chosen_rules)
    # Replay names are unique per account and region: the time and a few random characters keep them so.
    name = f"orderflow-{outputs.stack}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"[-64:]
    destination: dict[str, Any] = {"Arn": outputs.bus_arn}
    if chosen_rules or detail_types:
        destination["FilterArns"] = [target["ruleArn"] for target in targets.values()]
    for warning in warnings:
        progress(f"warning: {warning}")
    events.start_replay(
        ReplayName=name,
        Description=f"ops replay of {', '.join(detail_types) or 'every event'} to {', '.join(targets)}",
        EventSourceArn=outputs.archive_arn,
        EventStartTime=start,
        EventEndTime=end,
        Destination=destination,
    )
    progress(f"replay {name} started: {start.isoformat()} to {end.isoformat()} → {', '.join(targets)}")
    report: dict[str, Any] = {
        "replayName": name,
        "archive": outputs.archive_arn,
        "from": start.isoformat(),
        "to": end.isoformat(),
        "rules": targets,
        "warnings": warnings,
        "state": "STARTING",
    }
    if not wait:
        return report, 0
    try:
        while True:
            described = events.describe_replay(ReplayName=name)
            report["state"] = state = described["State"]
            last = described.get("EventLastReplayedTime")
            if last:
                done = min(1.0, max(0.0, (last - start) / (end - start)))
                progress(f"{state}: replayed up to {last.isoformat()} ({done:.0%} of the window)")
            if state in ("COMPLETED", "FAILED", "CANCELLED"):
                if state != "COMPLETED":
                    report["reason"] = described.get("StateReason")
                    return report, EXIT_NOT_DONE
                return report, 0
            (sleep or time.sleep)(REPLAY_POLL_SECONDS)
    except KeyboardInterrupt:
        report["note"] = (
            f"the replay goes on in EventBridge; cancel it with: aws events cancel-replay --replay-name {name}"
        )
        return report, EXIT_INTERRUPTED
