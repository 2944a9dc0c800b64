"""Fulfillment executions: the failed ones, the one of an order, and Step Functions' redrive.

The fulfillment execution of an order is named ``order-<orderId>`` (the customer-status workflow starts it
under that name, so an order is never fulfilled twice); that is how orders and executions are joined.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from botocore.exceptions import ClientError

from orderflow.ops.aws import EXIT_NOT_DONE, Aws, OpsError, error_code
from orderflow.workflows import FulfillmentStates, resume_stage

EXECUTION_NAME_PREFIX: Final = "order-"
FAILED_STATUSES: Final = ("FAILED", "TIMED_OUT", "ABORTED")
RESUMED_NAME: Final = re.compile(r"-resume-(?P<attempt>[0-9]+)$")


def execution_name(order_id: str) -> str:
    """The fulfillment execution's name for an order."""
    return f"{EXECUTION_NAME_PREFIX}{order_id}"


def resume_execution_name(order_id: str, parked_execution_arn: str) -> str:
    """``order-<orderId>-resume-<n>``: the execution resuming the order parked by ``parked_execution_arn``.

    ``n`` is one more than the parked execution's own (0 for the order's first execution), so each parking
    is resumed by exactly one execution: redriving the same parked message again finds it already started.
    """
    parked_name = parked_execution_arn.rsplit(":", 1)[-1]
    found = RESUMED_NAME.search(parked_name)
    attempt = int(found["attempt"]) + 1 if found else 1
    return f"{execution_name(order_id)}-resume-{attempt}"


PARKING_FIELDS: Final = ("attention", "markError", "parkingError", "resume", "stopped", "parked", "standing")
"""What parking added to a fulfillment's state; the execution that resumes it starts without them."""


@dataclass(frozen=True)
class ResumeRequest:
    """The execution that resumes an order parked (or left unparked) by a failed fulfillment execution."""

    name: str
    """``order-<orderId>-resume-<n>`` (:func:`resume_execution_name`): one per parking."""
    stage: str
    """Where it enters the workflow (:func:`orderflow.workflows.resume_stage`)."""
    payload: str
    """Its input: the parked state without what parking added, plus ``resume``."""


def resume_request(order_id: str, state: dict[str, Any], parked_execution_arn: str) -> ResumeRequest:
    """The execution that resumes ``state``, which ``parked_execution_arn`` failed with.

    Raises
    ------
    ValueError
        When the state cannot be resumed (it holds no shipment, failure or error; the message says so).
    """
    stage = resume_stage(state)
    resumed = {key: value for key, value in state.items() if key not in PARKING_FIELDS}
    resumed["resume"] = {"stage": stage, "parkedExecutionArn": parked_execution_arn}
    return ResumeRequest(resume_execution_name(order_id, parked_execution_arn), stage, json.dumps(resumed))


def execution_arn(state_machine_arn: str, name: str) -> str:
    """``arn:…:execution:<state machine>:<name>`` from the state machine's ARN."""
    prefix, _, machine = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{machine}:{name}"


def _summary(described: dict[str, Any]) -> dict[str, Any]:
    name = str(described["name"])
    stop = described.get("stopDate")
    return {
        "orderId": RESUMED_NAME.sub("", name.removeprefix(EXECUTION_NAME_PREFIX))
        if name.startswith(EXECUTION_NAME_PREFIX)
        else None,
        "execution": name,
        "executionArn": described["executionArn"],
        "status": described["status"],
        "startDate": described["startDate"].isoformat(),
        "stopDate": stop.isoformat() if stop else None,
        "error": described.get("error"),
        "cause": described.get("cause"),
        "redriveStatus": described.get("redriveStatus"),
        "redriveCount": described.get("redriveCount", 0),
    }


def failed_executions(aws: Aws, state_machine_arn: str, since: datetime, limit: int = 100) -> list[dict[str, Any]]:
    """Executions that failed, timed out or were aborted since ``since`` (newest first), described."""
    sfn = aws.client("stepfunctions")
    found: list[dict[str, Any]] = []
    for status in FAILED_STATUSES:
        for page in sfn.get_paginator("list_executions").paginate(
            stateMachineArn=state_machine_arn, statusFilter=status
        ):
            for item in page["executions"]:
                stopped = item.get("stopDate") or item["startDate"]
                if stopped >= since:
                    found.append(item)
    found.sort(key=lambda item: item.get("stopDate") or item["startDate"], reverse=True)
    return [_summary(sfn.describe_execution(executionArn=item["executionArn"])) for item in found[:limit]]


def order_execution(aws: Aws, state_machine_arn: str, order_id: str) -> dict[str, Any] | None:
    """The order's fulfillment execution, described; ``None`` when there is none."""
    arn = execution_arn(state_machine_arn, execution_name(order_id))
    try:
        return _summary(aws.client("stepfunctions").describe_execution(executionArn=arn))
    except ClientError as error:
        if error_code(error) == "ExecutionDoesNotExist":
            return None
        raise


def parked_by(aws: Aws, orders_table: str, order_id: str) -> str | None:
    """The ARN of the execution that parked the order for an operator (its ``attention``), if any."""
    item = (
        aws.client("dynamodb")
        .get_item(
            TableName=orders_table,
            Key={"orderId": {"S": order_id}},
            ProjectionExpression="attention",
            ConsistentRead=True,
        )
        .get("Item", {})
    )
    arn = item.get("attention", {}).get("M", {}).get("executionArn", {}).get("S")
    return str(arn) if arn else None


def unparked_state(aws: Aws, arn: str) -> dict[str, Any] | None:
    """The state a fulfillment execution could not park (``$.parked.state`` when ``NotParked`` was entered), if any.

    Read from the execution's history (``states:GetExecutionHistory``): the input of the last state it entered.
    """
    sfn = aws.client("stepfunctions")
    last_entered: dict[str, Any] | None = None
    token: str | None = None
    while True:
        page = sfn.get_execution_history(executionArn=arn, maxResults=1000, **({"nextToken": token} if token else {}))
        for event in page["events"]:
            last_entered = event.get("stateEnteredEventDetails") or last_entered
        token = page.get("nextToken")
        if not token:
            break
    if last_entered is None or last_entered.get("name") != FulfillmentStates.NOT_PARKED:
        return None
    entered = json.loads(str(last_entered.get("input") or "{}"))
    if not isinstance(entered, dict):
        return None
    # What ParkForOperator was sending: the same state a parked message carries.
    parked = entered.get("parked")
    state = parked.get("state") if isinstance(parked, dict) else None
    return state if isinstance(state, dict) else None


def resume_unparked(
    aws: Aws, state_machine_arn: str, order_id: str, execution: dict[str, Any]
) -> dict[str, Any] | None:
    """Resume an order whose execution ended in ``NotParked`` (even the attention queue refused it), once.

    Its state exists only in the execution's history, so it is resumed from there at its stage, like a parked
    message (``order-<orderId>-resume-<n>``; a second run finds that execution started and starts nothing).
    Returns None when the execution did not end in ``NotParked``.

    Raises
    ------
    OpsError
        (exit 1) When the unparked state cannot be resumed.
    """
    state = unparked_state(aws, execution["executionArn"])
    if state is None:
        return None
    try:
        request = resume_request(order_id, state, execution["executionArn"])
    except ValueError as problem:
        raise OpsError(f"order {order_id}'s execution ended NotParked: {problem}", EXIT_NOT_DONE) from problem
    started = True
    try:
        aws.client("stepfunctions").start_execution(
            stateMachineArn=state_machine_arn, name=request.name, input=request.payload
        )
    except ClientError as error:
        if error_code(error) != "ExecutionAlreadyExists":
            raise
        started = False
    return {**execution, "resumedAs": request.name, "resumeAt": request.stage, "started": started}


def redrive_execution(aws: Aws, state_machine_arn: str, order_id: str, orders_table: str) -> dict[str, Any]:
    """``redrive-execution``: Step Functions restarts the order's failed execution from the failed state.

    An execution that parked its order for an operator is refused: it ended in the ``ParkedForOperator``
    Fail state, where a redrive would restart and fail again; ``dlq redrive fulfillment-attention`` resumes
    the parked order instead. An execution that ended in ``NotParked`` (the attention queue refused the
    order too) is resumed at its stage from its history (:func:`resume_unparked`), for the same reason.

    Raises
    ------
    OpsError
        (exit 1) Why it cannot be redriven: no execution, still running, succeeded, parked for an operator,
        or AWS says it is not redrivable (older than 14 days, or redriven too often), with AWS's reason.
    """
    execution = order_execution(aws, state_machine_arn, order_id)
    if execution is None:
        raise OpsError(
            f"order {order_id} has no fulfillment execution ({execution_name(order_id)}): it was never accepted; "
            "`reconcile` says what to do",
            EXIT_NOT_DONE,
        )
    if execution["status"] not in FAILED_STATUSES:
        raise OpsError(
            f"order {order_id}'s execution is {execution['status']}: only a failed, timed-out or aborted execution "
            "can be redriven",
            EXIT_NOT_DONE,
        )
    if execution["status"] == "FAILED" and parked_by(aws, orders_table, order_id) == execution["executionArn"]:
        raise OpsError(
            f"order {order_id}'s execution parked it for an operator (ParkedForOperator): a redrive would restart "
            "at that Fail state and fail again; once the cause is fixed, `dlq redrive fulfillment-attention` "
            "resumes it where it stopped",
            EXIT_NOT_DONE,
        )
    if execution["status"] == "FAILED":
        resumed = resume_unparked(aws, state_machine_arn, order_id, execution)
        if resumed is not None:
            return resumed
    if execution.get("redriveStatus") == "NOT_REDRIVABLE":
        reason = (
            aws.client("stepfunctions")
            .describe_execution(executionArn=execution["executionArn"])
            .get("redriveStatusReason", "Step Functions gives no reason")
        )
        raise OpsError(f"order {order_id}'s execution cannot be redriven: {reason}", EXIT_NOT_DONE)
    try:
        response = aws.client("stepfunctions").redrive_execution(
            executionArn=execution["executionArn"], clientToken=str(uuid.uuid4())
        )
    except ClientError as error:
        if error_code(error) == "ExecutionNotRedrivable":
            message = error.response.get("Error", {}).get("Message", "")
            raise OpsError(f"order {order_id}'s execution cannot be redriven: {message}", EXIT_NOT_DONE) from error
        raise
    return {**execution, "redriveDate": response["redriveDate"].isoformat(), "redriven": True}
