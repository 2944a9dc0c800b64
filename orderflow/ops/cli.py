"""The ``python -m orderflow.ops`` command line (``make ops ARGS="..."``).

Every command takes ``--stack``, ``--outputs``, ``--region``, ``--profile`` and ``--json``. Results go to
standard output (JSON with ``--json``); progress and errors go to standard error. Exit status: 0 done,
1 not done (the message says why), 2 usage or wrong stack, 3 missing permission (the IAM action is named),
4 another AWS error, 130 interrupted (what was done is reported; nothing in flight is lost).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from orderflow.ops import customers, executions, queues, reconcile, replay
from orderflow.ops.aws import (
    EXIT_AWS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_PERMISSION,
    Aws,
    OpsError,
    error_code,
    is_access_denied,
)
from orderflow.ops.outputs import Runner, StackOutputs, read_outputs

Connect = Callable[[str, str | None], Aws]
Result = tuple[Any, list[str], int]
"""A command's JSON result, its text form, and its exit status."""


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--stack", help="the stack (default: the selected Pulumi stack)")
    common.add_argument("--outputs", type=Path, help="a file of `pulumi stack output --json` instead of the CLI")
    common.add_argument("--region", help="the stack's region (default: the region of its resources)")
    common.add_argument("--profile", help="AWS profile (default: the usual credential chain)")
    common.add_argument("--json", action="store_true", help="print the result as JSON")
    return common


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= 500:
        raise argparse.ArgumentTypeError(f"must be between 0 and 500 messages per second, got {text}")
    return value


def parser() -> argparse.ArgumentParser:
    """The argument parser of every command."""
    common = _common()
    root = argparse.ArgumentParser(
        prog="python -m orderflow.ops",
        description="Operate a deployed orderflow stack: failure queues, replays, redrives, stuck orders.",
        epilog="Exit status: 0 done, 1 not done (the message says why), 2 usage or wrong stack, 3 missing "
        "permission (the IAM action is named), 4 another AWS error, 130 interrupted. Runbook: docs/operations.md.",
    )
    commands = root.add_subparsers(dest="command", required=True)

    status = commands.add_parser("status", parents=[common], help="failure queues, failed executions, stuck orders")
    status.add_argument("--since", default="24h", help="failed executions since (ISO 8601 or an age: 24h, 30m)")
    status.add_argument("--stuck-after", type=int, default=15, metavar="MINUTES", help="orders not terminal after")

    dlq = commands.add_parser("dlq", help="look at or redrive a failure queue").add_subparsers(
        dest="dlq_command", required=True
    )
    show = dlq.add_parser("show", parents=[common], help="peek at parked messages, decoded, without consuming")
    show.add_argument("queue", help="the queue's role (order-audit, rule-order-placed...), name or URL")
    show.add_argument("--limit", type=_positive, default=10)
    redrive = dlq.add_parser("redrive", parents=[common], help="deliver parked messages again, then remove them")
    redrive.add_argument("queue", help="the queue's role (order-audit, rule-order-placed...), name or URL")
    redrive.add_argument("--to", help="destination: an ARN, a queue URL or a function role (default: the source)")
    redrive.add_argument("--rate", type=_rate, help="messages per second at most")
    redrive.add_argument("--limit", type=_positive, help="redrive at most this many")
    redrive.add_argument("--dry-run", action="store_true", help="say what would go where; consume nothing")
    redrive.add_argument("--one-by-one", action="store_true", help="receive/deliver/delete even where SQS can move")
    redrive.add_argument(
        "--allow-foreign-target", action="store_true", help="accept a --to outside the stack (refused by default)"
    )

    replay_ = commands.add_parser("replay", parents=[common], help="replay archived events to the bus's rules")
    replay_.add_argument("--from", dest="start", required=True, help="ISO 8601, 'now' or an age (2h)")
    replay_.add_argument("--to", dest="end", required=True, help="ISO 8601, 'now' or an age (10m)")
    replay_.add_argument("--detail-type", action="append", default=[], help="replay to the rules naming it")
    replay_.add_argument("--rule", action="append", default=[], help="replay to this rule (role name)")
    replay_.add_argument("--no-wait", action="store_true", help="start the replay and return")

    execution = commands.add_parser("redrive-execution", parents=[common], help="redrive a failed fulfillment")
    execution.add_argument("order_id", metavar="ORDER_ID")

    reconcile_ = commands.add_parser("reconcile", parents=[common], help="stuck orders and the next safe action")
    reconcile_.add_argument("--stuck-after", type=int, default=15, metavar="MINUTES")

    unblock = commands.add_parser(
        "unblock", parents=[common], help="waive a customer's declined payments so they may order again"
    )
    unblock.add_argument("--customer", required=True, help="the customer's id (the JWT sub)")
    unblock.add_argument("--reason", required=True, help="why (kept on each waived order, with who and when)")
    return root


# ---- commands ------------------------------------------------------------------------------------------


def _age(seconds: int | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60}m"
    return f"{seconds // 3600}h"


def cmd_status(aws: Aws, outputs: StackOutputs, args: argparse.Namespace, now: datetime) -> Result:
    """Every failure queue, failed executions in the window, and orders not terminal after N minutes."""
    since = replay.parse_time(args.since, now)
    depths = [queues.queue_status(aws, queue, now) for queue in outputs.failure_queues.values()]
    failed = executions.failed_executions(aws, outputs.fulfillment_arn, since)
    stuck = reconcile.stuck_orders(aws, outputs.orders_table, now - timedelta(minutes=args.stuck_after), _progress)
    result = {
        "stack": outputs.stack,
        "failureQueues": depths,
        "failedExecutions": {"since": since.isoformat(), "executions": failed},
        "stuckOrders": {"after_minutes": args.stuck_after, "orders": stuck},
    }
    width = max(len(depth["queue"]) for depth in depths) if depths else 5
    lines = [f"Stack {outputs.stack} ({outputs.region}, account {outputs.account})", ""]
    lines.append(f"{'failure queue':<{width}}  {'visible':>7}  {'in flight':>9}  oldest")
    for depth in depths:
        flag = "  <- dlq show " + depth["queue"] if depth["visible"] else ""
        lines.append(
            f"{depth['queue']:<{width}}  {depth['visible']:>7}  {depth['inFlight']:>9}  "
            f"{_age(depth['oldestAgeSeconds']):>6}{flag}"
        )
    lines += ["", f"Failed fulfillment executions since {since:%Y-%m-%d %H:%M} UTC: {len(failed)}"]
    lines += [f"  {item['execution']}  {item['status']}  {item['stopDate']}  {item['error'] or ''}" for item in failed]
    lines += ["", f"Orders not terminal after {args.stuck_after} minutes: {len(stuck)}"]
    lines += [f"  {order['orderId']}  {order['status']}  placed {order['createdAt']}" for order in stuck]
    if failed or stuck:
        lines += ["", "Next: `reconcile` gives the next safe step for each order."]
    return result, lines, EXIT_OK


def cmd_dlq_show(aws: Aws, outputs: StackOutputs, args: argparse.Namespace, now: datetime) -> Result:
    """Parked messages, decoded, left where they are."""
    queue = outputs.queue(args.queue)
    shown = queues.show(aws, queue, args.limit)
    lines = [f"{queue.role} ({queue.kind}): {len(shown)} message(s) shown, none consumed"]
    for message in shown:
        event = message["event"] or {}
        lines.append("")
        lines.append(
            f"- message {message['messageId']} parked {message['sentAt']} (received {message['receiveCount']}x)"
        )
        if event:
            lines.append(
                f"  event {event['detailType']} from {event['source']} id {event['id']} at {event['time']}"
                + (f", order {event['orderId']}" if event.get("orderId") else "")
            )
        for key, value in message["failure"].items():
            if value not in (None, ""):
                lines.append(f"  {key}: {value}")
        if message["target"]:
            lines.append(f"  was going to: {message['target']}")
    return {"queue": queue.role, "kind": queue.kind, "messages": shown}, lines, EXIT_OK


def cmd_dlq_redrive(aws: Aws, outputs: StackOutputs, args: argparse.Namespace, now: datetime) -> Result:
    """Deliver parked messages again (SQS's move task where it applies), then remove them."""
    queue = outputs.queue(args.queue)
    report = queues.redrive(
        aws,
        outputs,
        queue,
        to=args.to,
        rate=args.rate,
        limit=args.limit,
        dry_run=args.dry_run,
        one_by_one=args.one_by_one,
        progress=_progress,
        allow_foreign_target=args.allow_foreign_target,
    )
    if report.dry_run:
        lines = [f"dry run: {len(report.would_move)} message(s) of {queue.role} would be delivered:"]
        lines += [
            f"  {item['messageId']} ({(item['event'] or {}).get('detailType', 'message')}) -> {item['deliverTo']}"
            for item in report.would_move
        ]
    else:
        lines = [f"{queue.role}: {report.moved} message(s) redriven ({report.method})"]
        if report.stopped:
            lines.append(f"stopped: {report.stopped}; the rest is still parked, run the command again to go on")
    return report.as_dict(), lines, report.exit_code


def cmd_replay(aws: Aws, outputs: StackOutputs, args: argparse.Namespace, now: datetime) -> Result:
    """Replay archived events of a window to the bus's rules."""
    report, code = replay.replay(
        aws,
        outputs,
        start=replay.parse_time(args.start, now),
        end=replay.parse_time(args.end, now),
        detail_types=args.detail_type,
        chosen_rules=args.rule,
        wait=not args.no_wait,
        now=now,
        progress=_progress,
    )
    lines = [f"replay {report['replayName']}: {report['state']}"]
    for role, rule in report["rules"].items():
        lines.append(f"  rule {role}: {rule['whyItIsSafe']}")
        if rule["alsoReceives"] and args.detail_type:
            lines.append(f"    (also receives the window's {', '.join(rule['alsoReceives'])})")
    lines += [f"  warning: {warning}" for warning in report["warnings"]]
    if report.get("note"):
        lines.append(report["note"])
    return report, lines, code


def cmd_redrive_execution(aws: Aws, outputs: StackOutputs, args: argparse.Namespace, now: datetime) -> Result:
    """Redrive an order's failed fulfillment execution from the state that failed."""
    result = executions.redrive_execution(aws, outputs.fulfillment_arn, args.order_id, outputs.orders_table)
    if "resumedAs" in result:
        started = "started" if result["started"] else "already started earlier: nothing new"
        lines = [
            f"order {args.order_id}: execution {result['execution']} ended NotParked ({result['error']}); "
            f"{result['resumedAs']} resumes it at {result['resumeAt']} ({started}); follow it with `status`"
        ]
        return result, lines, EXIT_OK
    lines = [
        f"order {args.order_id}: execution {result['execution']} ({result['status']}, {result['error']}) redriven at "
        f"{result['redriveDate']}; follow it with `status`"
    ]
    return result, lines, EXIT_OK


def cmd_reconcile(aws: Aws, outputs: StackOutputs, args: argparse.Namespace, now: datetime) -> Result:
    """Stuck orders with the next safe action for each."""
    report = reconcile.reconcile(aws, outputs, older_than=now - timedelta(minutes=args.stuck_after), progress=_progress)
    lines = [f"{len(report)} order(s) not terminal after {args.stuck_after} minutes"]
    for order in report:
        action = order["action"]
        lines.append(f"- {order['orderId']} {order['status']} (placed {order['createdAt']})")
        lines.append(f"    {action['why']}")
        if action["command"]:
            lines.append(f'    run: make ops ARGS="{action["command"]} --stack {outputs.stack}"')
    return {"stack": outputs.stack, "orders": report}, lines, EXIT_OK


def cmd_unblock(aws: Aws, outputs: StackOutputs, args: argparse.Namespace, now: datetime) -> Result:
    """Waive the declined payments that block a customer."""
    result = customers.unblock(aws, outputs.orders_table, args.customer, args.reason, now)
    lines = [
        f"customer {args.customer}: {len(result['waived'])} declined payment(s) waived; their next order is "
        "classified without them"
    ]
    lines += [f"  {order_id}" for order_id in result["waived"]]
    return result, lines, EXIT_OK


COMMANDS: dict[str, Callable[[Aws, StackOutputs, argparse.Namespace, datetime], Result]] = {
    "status": cmd_status,
    "dlq show": cmd_dlq_show,
    "dlq redrive": cmd_dlq_redrive,
    "replay": cmd_replay,
    "redrive-execution": cmd_redrive_execution,
    "reconcile": cmd_reconcile,
    "unblock": cmd_unblock,
}


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def _connect(outputs: StackOutputs, args: argparse.Namespace, connect: Connect) -> Aws:
    """A session in the stack's region and account, or a clear refusal."""
    if args.region and args.region != outputs.region:
        raise OpsError(f"stack {outputs.stack!r} lives in {outputs.region}, not {args.region}: wrong region")
    aws = connect(outputs.region, args.profile)
    account = aws.account()
    if account != outputs.account:
        raise OpsError(
            f"these credentials act in account {account}, but stack {outputs.stack!r} is in account "
            f"{outputs.account}: wrong profile or wrong stack"
        )
    return aws


def main(
    argv: Sequence[str] | None = None,
    *,
    connect: Connect = Aws.connect,
    run: Runner = subprocess.run,
    now: datetime | None = None,
) -> int:
    """Run one command; return its exit status."""
    args = parser().parse_args(argv)
    name = f"dlq {args.dlq_command}" if args.command == "dlq" else args.command
    aws: Aws | None = None
    try:
        outputs = read_outputs(args.stack, args.outputs, run)
        aws = _connect(outputs, args, connect)
        result, lines, code = COMMANDS[name](aws, outputs, args, now or datetime.now(UTC))
    except OpsError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except ClientError as error:
        message = error.response.get("Error", {}).get("Message", "")
        if is_access_denied(error) and aws is not None:
            print(f"error: missing permission {aws.iam_action(error)} ({message})", file=sys.stderr)
            return EXIT_PERMISSION
        print(f"error: AWS {error.operation_name} failed: {error_code(error)}: {message}", file=sys.stderr)
        return EXIT_AWS
    except BotoCoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_AWS
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        print("\n".join(lines))
    return code
