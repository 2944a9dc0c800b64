"""Running ``python -m orderflow.ops`` against the recorded stack in moto, and breaking that stack first.

The stack's outputs are the recorded program's (what ``pulumi stack output --json`` would print); the
failures are real ones: handlers whose AWS calls are throttled until their retries run out, and rule
deliveries that keep failing, so every parked message is parked by the workflow, Lambda or EventBridge
code path that parks it in AWS (the router and the on-failure records are ``tests/workflows`` plumbing).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from offline.recording import ProgramRun
from orderflow.ops.aws import Aws
from orderflow.ops.cli import main
from tests.workflows.flowkit import FaultInjector, FaultKind, OrderFlow
from tests.workflows.flowkit_orders import new_customer, place_order

LINES = {"MUG-BLK": 1}


class Throttled(FaultInjector):
    """Every AWS call of the named handlers is throttled (until ``heal``)."""

    def __init__(self, *packages: str) -> None:
        self.packages = set(packages)

    def decide(self, package: str, event: Any) -> FaultKind | None:
        return "throttle" if package in self.packages else None

    def heal(self) -> None:
        """The cause is fixed: nothing is throttled any more."""
        self.packages.clear()


@dataclass(frozen=True)
class OpsRun:
    """One command's exit status and output."""

    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        """The ``--json`` result (the handlers running in-process may have logged one-line JSON before it)."""
        lines = self.out.splitlines()
        return json.loads("\n".join(lines[lines.index("{") :]))


def write_outputs(program: ProgramRun, directory: Path, **changes: Any) -> Path:
    """The stack's outputs as ``pulumi stack output --json`` writes them."""
    path = directory / f"outputs-{program.stack}.json"
    path.write_text(json.dumps({**program.outputs, **changes}))
    return path


def ops(
    capsys: pytest.CaptureFixture[str],
    outputs: Path,
    *args: str,
    connect: Callable[[str, str | None], Aws] = Aws.connect,
) -> OpsRun:
    """``python -m orderflow.ops ARGS --outputs FILE`` in-process (inside the flow's moto account)."""
    capsys.readouterr()
    code = main([*args, "--outputs", str(outputs)], connect=connect)
    captured = capsys.readouterr()
    return OpsRun(code, captured.out, captured.err)


def with_clients(**clients: Any) -> Callable[[str, str | None], Aws]:
    """A ``connect`` that uses the given clients (e.g. wrapped in a Stubber) for their services."""

    def connect(region: str, profile: str | None) -> Aws:
        aws = Aws.connect(region, profile)
        for service, client in clients.items():
            aws.use(service, client)
        return aws

    return connect


def stubbed(service: str, region: str) -> tuple[Any, Stubber]:
    """A client of ``service`` and its Stubber (activated)."""
    client = boto3.client(service, region_name=region)  # type: ignore[call-overload]
    stubber = Stubber(client)
    stubber.activate()
    return client, stubber


def place_orders(flow: OrderFlow, count: int) -> list[str]:
    """Place ``count`` orders through the API and let the flow settle; their ids."""
    return [place_order(flow, new_customer(), LINES)["orderId"] for _ in range(count)]


def visible(flow: OrderFlow, url: str) -> int:
    """Messages that can be received now."""
    attributes = flow.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def order_ids_in(bodies: Iterable[str]) -> list[str]:
    """The order ids of the EventBridge events (or records holding one) in message bodies."""
    ids = []
    for body in bodies:
        value = json.loads(body)
        event = value.get("requestPayload", value)
        ids.append(event["detail"]["orderId"])
    return ids
