"""The stack outputs the ops tool works from: ``pulumi stack output --json`` or a file of them."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from orderflow.ops.aws import OpsError

REQUIRED: Final = (
    "stack",
    "failureQueues",
    "ordersTableName",
    "fulfillmentStateMachineArn",
    "customerStatusStateMachineArn",
    "eventBusArn",
    "eventArchiveArn",
    "eventRules",
    "functions",
)
QUEUE_KINDS: Final = frozenset({"sqs", "eventbridge-target", "lambda-destination", "workflow", "sns-subscription"})

Runner = Callable[..., subprocess.CompletedProcess[str]]


@dataclass(frozen=True)
class FailureQueue:
    """A queue where failures are parked (a DLQ, an on-failure destination, a workflow's failure queue).

    Attributes
    ----------
    role:
        Its name in the outputs and in its alarm (``ops-dlq-<role>``), e.g. ``order-audit``.
    name, url, arn:
        The SQS queue.
    kind:
        What parks there: ``sqs``, ``eventbridge-target``, ``lambda-destination``, ``workflow`` or
        ``sns-subscription``.
    redrive_to:
        Where a redrive delivers by default (``None`` for ``eventbridge-target``: each message names its target).
    """

    role: str
    name: str
    url: str
    arn: str
    kind: str
    redrive_to: str | None


@dataclass(frozen=True)
class StackOutputs:
    """What the ops tool needs to know about one deployed stack."""

    stack: str
    partition: str
    region: str
    account: str
    failure_queues: dict[str, FailureQueue]
    orders_table: str
    fulfillment_arn: str
    customer_status_arn: str
    bus_arn: str
    archive_arn: str
    rules: dict[str, str]
    functions: dict[str, str]

    @classmethod
    def parse(cls, values: Mapping[str, Any], *, source: str) -> StackOutputs:
        """Check and read the outputs of an orderflow stack.

        Raises
        ------
        OpsError
            When outputs are missing (another project's stack, or one deployed before they existed).
        """
        missing = [key for key in REQUIRED if key not in values]
        if missing:
            raise OpsError(
                f"{source} lacks {', '.join(missing)}: not an orderflow stack, or deployed before these outputs "
                "existed (run `pulumi up` for this stack first)"
            )
        arn = str(values["fulfillmentStateMachineArn"]).split(":")
        queues = {}
        for role, queue in dict(values["failureQueues"]).items():
            if queue.get("kind") not in QUEUE_KINDS:
                raise OpsError(f"{source}: failure queue {role!r} has unknown kind {queue.get('kind')!r}")
            queues[role] = FailureQueue(
                role=role,
                name=str(queue["name"]),
                url=str(queue["url"]),
                arn=str(queue["arn"]),
                kind=str(queue["kind"]),
                redrive_to=queue.get("redriveTo"),
            )
        return cls(
            stack=str(values["stack"]),
            partition=arn[1],
            region=arn[3],
            account=arn[4],
            failure_queues=queues,
            orders_table=str(values["ordersTableName"]),
            fulfillment_arn=str(values["fulfillmentStateMachineArn"]),
            customer_status_arn=str(values["customerStatusStateMachineArn"]),
            bus_arn=str(values["eventBusArn"]),
            archive_arn=str(values["eventArchiveArn"]),
            rules={str(k): str(v) for k, v in dict(values["eventRules"]).items()},
            functions={str(k): str(v) for k, v in dict(values["functions"]).items()},
        )

    def own_arns(self) -> frozenset[str]:
        """ARNs of the stack's resources a redrive may deliver to: functions, state machines, bus, queues."""
        queues = {queue.arn for queue in self.failure_queues.values()}
        sources = {queue.redrive_to for queue in self.failure_queues.values() if queue.redrive_to}
        machines = {self.fulfillment_arn, self.customer_status_arn}
        return frozenset({*self.functions.values(), *machines, self.bus_arn, *queues, *sources})

    def queue(self, name: str) -> FailureQueue:
        """A failure queue by role (``order-audit``), queue name or URL.

        Raises
        ------
        OpsError
            Naming the known roles when none matches.
        """
        for queue in self.failure_queues.values():
            if name in (queue.role, queue.name, queue.url, queue.arn):
                return queue
        raise OpsError(f"no failure queue {name!r} in stack {self.stack!r}; known: {', '.join(self.failure_queues)}")


def read_outputs(stack: str | None, outputs_file: Path | None, run: Runner = subprocess.run) -> StackOutputs:
    """The stack's outputs, from ``outputs_file`` or from ``pulumi stack output --json``.

    Parameters
    ----------
    stack:
        The stack (``pulumi stack output --stack``); when given with a file, the file must be that stack's.
    outputs_file:
        A file written by ``pulumi stack output --json``.
    run:
        How the ``pulumi`` CLI is run (``subprocess.run``).

    Raises
    ------
    OpsError
        For a missing file or CLI, an unknown stack, or the outputs of another stack or project.
    """
    if outputs_file is not None:
        source = str(outputs_file)
        try:
            values = json.loads(outputs_file.read_text())
        except FileNotFoundError as error:
            raise OpsError(f"--outputs {outputs_file}: no such file") from error
        except json.JSONDecodeError as error:
            raise OpsError(f"--outputs {outputs_file}: not JSON ({error})") from error
    else:
        if shutil.which("pulumi") is None:
            raise OpsError(
                "no pulumi CLI on PATH: give the stack's outputs with --outputs FILE "
                "(written by `pulumi stack output --json --stack NAME > FILE`)"
            )
        command = ["pulumi", "stack", "output", "--json", *(["--stack", stack] if stack else [])]
        result = run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            said = (result.stderr or result.stdout).strip().splitlines()
            raise OpsError(f"stack {stack or '(selected)'}: `{' '.join(command)}` failed: {said[-1] if said else ''}")
        source = f"stack {stack or '(selected)'}'s outputs"
        values = json.loads(result.stdout or "{}")
    if not isinstance(values, dict):
        raise OpsError(f"{source}: expected a JSON object of outputs")
    outputs = StackOutputs.parse(values, source=source)
    if stack and outputs.stack != stack:
        raise OpsError(f"{source} are stack {outputs.stack!r}'s, not {stack!r}: wrong stack")
    return outputs
