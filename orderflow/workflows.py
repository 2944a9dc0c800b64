"""ASL documents of the two order workflows (architecture steps 2 and 3, ``docs/contracts.md``).

Both builders are pure functions of plain strings (ARNs, names), so the ``Workflow`` component can call
them with placeholders to validate the graph and again with resolved outputs to deploy. Every document
is checked by :func:`components.asl.validate_definition` before it is returned.

Retry policy (every Task):

* Lambda Tasks retry ``TransientDependencyError`` (raised by our handlers when a dependency throttles) and
  the Lambda service errors AWS recommends retrying, with capped, fully jittered exponential backoff.
  Business errors (``OutOfStock``, ``PaymentDeclined``) and bugs are not retried.
* Service-integration Tasks (DynamoDB, EventBridge, S3, SQS, Step Functions) first exempt the errors that
  are final answers (a failed condition, an existing execution) and then retry ``States.TaskFailed``:
  their transient error names differ per service and a missed name would mean no retry at all, while a
  useless retry of a permanent error only costs a few seconds before the Catch takes over.
* Every such call may be retried after it took effect (a lost response), so each one is idempotent:
  a status transition admits its own target status, and an event put twice carries the same
  ``orderId`` and detail-type, which consumers record once (see ``docs/contracts.md``, Exactly once).

Events carry a reason code and a customer-safe message (:data:`CUSTOMER_BLOCKED`, :data:`FAILURE_REASONS`,
:data:`FULFILLMENT_ERROR`), never a raw error cause: causes stay in execution history and ops queues.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from components.asl import STATES_ALL, TRANSIENT_LAMBDA_ERRORS, jittered_retry, no_retry, validate_definition
from components.aws_context import build_arn
from orderflow.routing import (
    ORDER_ACCEPTED,
    ORDER_EVENT_SOURCE,
    ORDER_FAILED,
    ORDER_FULFILLED,
    ORDER_REJECTED,
    RECEIPTS_KEY_PREFIX,
)

# Service integrations the workflows call; a Task's Resource is their ARN in the deployment's partition.
LAMBDA_INVOKE: Final = "lambda:invoke"
DYNAMODB_UPDATE_ITEM: Final = "dynamodb:updateItem"
DYNAMODB_GET_ITEM: Final = "dynamodb:getItem"
EVENTS_PUT_EVENTS: Final = "events:putEvents"
SFN_START_EXECUTION: Final = "states:startExecution"
# Starts an execution and waits for it; ":2" returns its output as JSON (an object), not a string.
SFN_START_EXECUTION_SYNC: Final = "states:startExecution.sync:2"
SQS_SEND_MESSAGE: Final = "sqs:sendMessage"
S3_PUT_OBJECT: Final = "aws-sdk:s3:putObject"

TRANSIENT_DEPENDENCY_ERROR: Final = "TransientDependencyError"
BUSINESS_ERRORS: Final[tuple[str, ...]] = ("OutOfStock", "PaymentDeclined")
CONDITIONAL_CHECK_FAILED: Final = "DynamoDB.ConditionalCheckFailedException"
# Step Functions names a failed startExecution "StepFunctions.<error code>Exception" (AWS and moto alike).
EXECUTION_ALREADY_EXISTS: Final = "StepFunctions.ExecutionAlreadyExistsException"
TASK_FAILED: Final = "States.TaskFailed"
# A refused start: the run never began, so starting it again is safe. Not a 5xx: that run may have started, and a
# second one running beside it could compensate what the first booked.
START_REFUSED_ERRORS: Final[tuple[str, ...]] = (
    "StepFunctions.ExecutionLimitExceededException",
    "StepFunctions.ThrottlingException",
)
EXPRESS_MAX_SECONDS: Final = 300
"""Step Functions quotas, "Maximum execution time": an EXPRESS execution runs at most 5 minutes."""
ORDER_FAILED_STATUS: Final = "FAILED"
RESERVATION_RELEASED: Final = "RELEASED"
"""``status`` of a reservation a compensation released (``release_inventory``); ``reserve_inventory`` returns it."""
NEEDS_OPERATOR_ERROR: Final = "NeedsOperator"
"""Error of a fulfillment-steps run that stopped with work left for an operator (cause: its state as JSON)."""
FAILED_UNEXPECTEDLY_ERROR: Final = "FailedUnexpectedly"
"""Error of a run compensated and recorded after an error that is not a business failure."""

BLOCKED_TIER: Final = "BLOCKED"
ACCEPTED_TIERS: Final[tuple[str, ...]] = ("NEW", "RETURNING", "VIP")
UNKNOWN_TIER_ERROR: Final = "UnknownTier"
"""Error parked for redrive when ``customer_status`` answers a tier outside the contract."""


@dataclass(frozen=True)
class CustomerReason:
    """Why an order did not go through, as the customer is told: a stable code and one short sentence."""

    code: str
    message: str


CUSTOMER_MESSAGES_PATH: Final = Path(__file__).resolve().parents[1] / "handlers" / "shared" / "customer_messages.json"
"""Reason code → customer sentence; the consumers (``notify``, ``get_order``) show only these sentences."""
_MESSAGES: Final[dict[str, str]] = json.loads(CUSTOMER_MESSAGES_PATH.read_text())


def _reason(code: str) -> CustomerReason:
    return CustomerReason(code, _MESSAGES[code])


CUSTOMER_BLOCKED: Final = _reason("CUSTOMER_BLOCKED")
"""``reason``/``message`` of ``OrderRejected`` and of the REJECTED order row."""
FAILURE_REASONS: Final[dict[str, CustomerReason]] = {
    "OutOfStock": _reason("OUT_OF_STOCK"),
    "PaymentDeclined": _reason("PAYMENT_DECLINED"),
}
"""``reason``/``message`` of ``OrderFailed`` for each business error a step raises."""
FULFILLMENT_ERROR: Final = _reason("FULFILLMENT_ERROR")
"""``reason``/``message`` of ``OrderFailed`` for any other error (the cause stays in the execution history)."""

# Key of the receipt object, as a States.Format call on the fulfillment state.
_RECEIPT_KEY: Final = f"States.Format('{RECEIPTS_KEY_PREFIX}{{}}/{{}}.json', $.customerId, $.orderId)"
_NOW: Final = {"S.$": "$$.State.EnteredTime"}


class CustomerStatusStates:
    """State names of the customer-status workflow."""

    CLASSIFY_CUSTOMER: Final = "ClassifyCustomer"
    CHECK_TIER: Final = "CheckTier"
    TIER_OUTSIDE_CONTRACT: Final = "TierOutsideContract"
    MARK_REJECTED: Final = "MarkRejected"
    PUT_ORDER_REJECTED: Final = "PutOrderRejected"
    REJECTED: Final = "Rejected"
    MARK_ACCEPTED: Final = "MarkAccepted"
    START_FULFILLMENT: Final = "StartFulfillment"
    PUT_ORDER_ACCEPTED: Final = "PutOrderAccepted"
    ACCEPTED: Final = "Accepted"
    DUPLICATE_IGNORED: Final = "DuplicateIgnored"
    PARK_FOR_REDRIVE: Final = "ParkForRedrive"
    PARKED: Final = "Parked"
    PARKING_FAILED: Final = "ParkingFailed"


class FulfillmentStates:
    """State names of the fulfillment workflow (STANDARD parent) and of its steps (EXPRESS child)."""

    RUN_STEPS: Final = "RunSteps"
    HOW_STEPS_STOPPED: Final = "HowStepsStopped"
    READ_STOPPED_RUN: Final = "ReadStoppedRun"
    WHY_STEPS_FAILED: Final = "WhyStepsFailed"
    PARK_STEPS_STATE: Final = "ParkStepsState"
    KEEP_STEPS_STATE: Final = "KeepStepsState"
    PARK_ORDER_INPUT: Final = "ParkOrderInput"
    MAY_RESTART: Final = "MayRestart"
    FIRST_RESTART: Final = "FirstRestart"
    NEXT_RESTART: Final = "NextRestart"
    WAIT_OUT_STOPPED_RUN: Final = "WaitOutStoppedRun"
    RESTART_STEPS: Final = "RestartSteps"
    NEEDS_OPERATOR: Final = "NeedsOperator"
    LOOK_UP_ORDER: Final = "LookUpOrder"
    WHERE_ORDER_STANDS: Final = "WhereOrderStands"
    ALREADY_BOOKED: Final = "AlreadyBooked"
    ALREADY_FAILED: Final = "AlreadyFailed"
    WAS_RESERVATION_RELEASED: Final = "WasReservationReleased"
    INTERRUPTED: Final = "Interrupted"
    RELEASE_UNLESS_BOOKED: Final = "ReleaseUnlessBooked"
    REFUND_UNLESS_BOOKED: Final = "RefundUnlessBooked"
    CANCEL_UNLESS_BOOKED: Final = "CancelUnlessBooked"
    BOOKED_NEEDS_OPERATOR: Final = "BookedNeedsOperator"
    START_OR_RESUME: Final = "StartOrResume"
    RESUME_AT_STAGE: Final = "ResumeAtStage"
    RESERVE_INVENTORY: Final = "ReserveInventory"
    KEEP_RESERVATION: Final = "KeepReservation"
    PROCESS_PAYMENT: Final = "ProcessPayment"
    KEEP_PAYMENT: Final = "KeepPayment"
    CREATE_SHIPMENT: Final = "CreateShipment"
    KEEP_SHIPMENT: Final = "KeepShipment"
    BUILD_RECEIPT: Final = "BuildReceipt"
    WRITE_RECEIPT: Final = "WriteReceipt"
    MARK_FULFILLED: Final = "MarkFulfilled"
    PUT_ORDER_FULFILLED: Final = "PutOrderFulfilled"
    FULFILLED: Final = "Fulfilled"
    CANCEL_SHIPMENT: Final = "CancelShipment"
    REFUND_PAYMENT: Final = "RefundPayment"
    RELEASE_INVENTORY: Final = "ReleaseInventory"
    DESCRIBE_FAILURE: Final = "DescribeFailure"
    EXPLAIN_FULFILLMENT_ERROR: Final = "ExplainFulfillmentError"
    MARK_FAILED: Final = "MarkFailed"
    PUT_ORDER_FAILED: Final = "PutOrderFailed"
    WAS_BUSINESS_FAILURE: Final = "WasBusinessFailure"
    FAILED_AND_COMPENSATED: Final = "FailedAndCompensated"
    FAILED_UNEXPECTEDLY: Final = "FailedUnexpectedly"
    PARK_FOR_OPERATOR: Final = "ParkForOperator"
    MARK_FOR_ATTENTION: Final = "MarkForAttention"
    PARKED_FOR_OPERATOR: Final = "ParkedForOperator"
    NOT_PARKED: Final = "NotParked"

    @staticmethod
    def explain(error: str) -> str:
        """Name of the Pass state that sets the customer reason for business error ``error``."""
        return f"Explain{error}"


class ResumeStage:
    """Where a resumed fulfillment (input ``resume: {stage}``) picks up a parked order.

    Each stage's steps are idempotent, so running them again after a partial run changes nothing done.
    """

    FINISH: Final = "finish"
    """The shipment is booked: write the receipt, mark FULFILLED, put OrderFulfilled (never compensate)."""
    COMPENSATE: Final = "compensate"
    """A step failed before booking and a compensation kept failing: cancel, refund, release, record."""
    RECORD_FAILURE: Final = "record-failure"
    """Compensated, but marking FAILED or putting OrderFailed kept failing: record the failure."""
    RESTART: Final = "restart"
    """The steps stopped where nothing says (the 5-minute limit, a start that failed): the order row says where
    the order stands. FAILED: an earlier run compensated and recorded it, nothing runs. Booked: the steps run
    again from the top but never compensate (each returns what it did). A cancellation marker: compensate.
    Neither: run again from the top (a reservation a compensation released is compensated, never charged)."""


def resume_stage(parked_state: dict[str, Any]) -> str:
    """The :class:`ResumeStage` of a state parked by ``ParkForOperator``, from what the state holds.

    A booked shipment (``shipment``) always means :data:`ResumeStage.FINISH`, whatever else is there: a
    shipped order is never refunded. Otherwise a described failure (``failure``) is recorded, a caught
    error (``error``) is compensated, and the bare order (the steps stopped where nothing says) restarts.

    Raises
    ------
    ValueError
        When the state holds none of them, not even ``orderId`` (not a state this workflow parks).
    """
    if isinstance(parked_state.get("shipment"), dict):
        return ResumeStage.FINISH
    if parked_state.get("booked") is True:
        # A restart found the shipment booked, then a step failed: the order row decides again.
        return ResumeStage.RESTART
    if isinstance(parked_state.get("failure"), dict):
        return ResumeStage.RECORD_FAILURE
    if isinstance(parked_state.get("error"), dict):
        return ResumeStage.COMPENSATE
    if isinstance(parked_state.get("orderId"), str):
        return ResumeStage.RESTART
    raise ValueError("the parked state holds no order, shipment, failure or error: it cannot be resumed")


@dataclass(frozen=True)
class _Retries:
    """The backoff every Retrier of one document shares."""

    interval_seconds: int
    backoff_rate: float
    max_attempts: int
    max_delay_seconds: int

    def backoff(self, errors: list[str], max_attempts: int | None = None) -> dict[str, Any]:
        return jittered_retry(
            errors,
            interval_seconds=self.interval_seconds,
            backoff_rate=self.backoff_rate,
            max_attempts=self.max_attempts if max_attempts is None else max_attempts,
            max_delay_seconds=self.max_delay_seconds,
        )

    def for_lambda(self, max_attempts: int | None = None) -> list[dict[str, Any]]:
        return [self.backoff([TRANSIENT_DEPENDENCY_ERROR, *TRANSIENT_LAMBDA_ERRORS], max_attempts)]

    def for_service(self, final_errors: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        retriers = [no_retry(list(final_errors))] if final_errors else []
        return [*retriers, self.backoff([TASK_FAILED])]


def _require_strings(**values: Any) -> None:
    for name, value in values.items():
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{name} must be a non-empty string, got {value!r}")


def integration_arn(integration: str, partition: str = "aws") -> str:
    """``arn:<partition>:states:::<integration>``: the Resource of a Task calling ``integration``.

    Parameters
    ----------
    integration:
        The service integration, e.g. :data:`LAMBDA_INVOKE` (``lambda:invoke``).
    partition:
        The deployment's partition (``aws``, ``aws-cn``, ``aws-us-gov``…).
    """
    return build_arn(partition, "states", "", "", integration)


def _catch(errors: list[str], next_state: str, result_path: str = "$.error") -> dict[str, Any]:
    # ResultPath under the state keeps the original input next to the error for the handler state.
    return {"ErrorEquals": errors, "ResultPath": result_path, "Next": next_state}


def _lambda_task(
    function_arn: str,
    payload: dict[str, Any] | str,
    retry: list[dict[str, Any]],
    *,
    next_state: str,
    catch: list[dict[str, Any]] | None = None,
    result_selector: dict[str, Any] | None = None,
    result_path: str | None = None,
    partition: str,
) -> dict[str, Any]:
    parameters: dict[str, Any] = {"FunctionName": function_arn}
    if isinstance(payload, str):
        parameters["Payload.$"] = payload
    else:
        parameters["Payload"] = payload
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": integration_arn(LAMBDA_INVOKE, partition),
        "Parameters": parameters,
    }
    if result_selector is not None:
        state["ResultSelector"] = result_selector
    state["ResultPath"] = result_path
    state["Retry"] = retry
    if catch:
        state["Catch"] = catch
    state["Next"] = next_state
    return state


def _set_order_status(
    table_name: str,
    order_id_path: str,
    *,
    status: str,
    allowed_from: tuple[str, ...],
    extra: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    """DynamoDB UpdateItem parameters moving an order to ``status`` from ``allowed_from`` or from ``status``.

    The condition always admits the target status: a retry after a lost response finds the order already
    moved, sets the same values again and succeeds, instead of being told the order is in the wrong state.
    """
    names = {"#status": "status", "#updatedAt": "updatedAt"}
    values: dict[str, Any] = {":status": {"S": status}, ":updatedAt": _NOW}
    assignments = ["#status = :status", "#updatedAt = :updatedAt"]
    for attribute, value in extra.items():
        names[f"#{attribute}"] = attribute
        values[f":{attribute}"] = value
        assignments.append(f"#{attribute} = :{attribute}")
    allowed = [":status"]
    for index, previous in enumerate(previous for previous in allowed_from if previous != status):
        values[f":from{index}"] = {"S": previous}
        allowed.append(f":from{index}")
    return {
        "TableName": table_name,
        "Key": {"orderId": {"S.$": order_id_path}},
        "UpdateExpression": "SET " + ", ".join(assignments),
        "ConditionExpression": f"#status IN ({', '.join(allowed)})",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def _put_event(event_bus_name: str, detail_type: str, detail: dict[str, Any]) -> dict[str, Any]:
    return {
        "Entries": [
            {
                "EventBusName": event_bus_name,
                "Source": ORDER_EVENT_SOURCE,
                "DetailType": detail_type,
                "Detail": detail,
            }
        ]
    }


def _service_task(
    resource: str,
    parameters: dict[str, Any],
    retry: list[dict[str, Any]],
    catch: list[dict[str, Any]],
    next_state: str,
    comment: str = "",
) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Task", "Resource": resource}
    if comment:
        state["Comment"] = comment
    state |= {"Parameters": parameters, "ResultPath": None, "Retry": retry, "Catch": catch, "Next": next_state}
    return state


def _bound_every_task(states: dict[str, Any], timeout_seconds: int) -> None:
    # ASL sets no default timeout: without one, a hung attempt would run into the EXPRESS 5-minute limit.
    for state in states.values():
        if state["Type"] == "Task":
            state["TimeoutSeconds"] = timeout_seconds


def _reason_attributes(path: str) -> dict[str, dict[str, str]]:
    """``reason`` and ``message`` order attributes read from ``<path>.reason`` / ``<path>.message``."""
    return {"reason": {"S.$": f"{path}.reason"}, "message": {"S.$": f"{path}.message"}}


def _correlated(root: str) -> dict[str, str]:
    """Map the three fields every event carries to JSONPaths under ``root`` (``$.detail`` or ``$``)."""
    return {f"{field}.$": f"{root}.{field}" for field in ("orderId", "customerId", "correlationId")}


def customer_status_definition(
    *,
    customer_status_function_arn: str,
    orders_table_name: str,
    event_bus_name: str,
    fulfillment_state_machine_arn: str,
    failure_queue_url: str,
    retry_interval_seconds: int = 1,
    retry_backoff_rate: float = 2.0,
    retry_max_attempts: int = 3,
    retry_max_delay_seconds: int = 20,
    parking_max_attempts: int = 8,
    task_timeout_seconds: int = 5,
    partition: str = "aws",
) -> dict[str, Any]:
    """Build the customer-status workflow (EXPRESS; input: the ``OrderPlaced`` EventBridge event).

    ``customer_status`` classifies the customer. ``BLOCKED`` marks the order REJECTED (from PENDING) with
    reason ``CUSTOMER_BLOCKED`` and a customer message, and puts ``OrderRejected`` with both.
    ``NEW``/``RETURNING``/``VIP`` mark it ACCEPTED with the tier (from PENDING), start the fulfillment
    execution named ``order-<orderId>`` with the detail plus ``tier``, and put ``OrderAccepted``. Every
    transition admits its own target status, so a retry after a lost response, or a duplicated
    ``OrderPlaced`` while the order is still ACCEPTED, goes through; an order that has moved on ends in
    ``DuplicateIgnored``. An execution that already exists counts as started (a duplicate, or our own
    start whose response was lost) and ``OrderAccepted`` is put again: consumers record it once per order.

    Nothing is left PENDING silently: a tier outside the contract (``TierOutsideContract``) and any error
    left after a Task's retries park the state (the original ``OrderPlaced`` event plus ``error``) on the
    failure queue for redrive, and the execution fails (``Parked``). EventBridge has already handed the
    event over when an EXPRESS execution fails, so this queue is its dead-letter queue.

    Parameters
    ----------
    customer_status_function_arn:
        ARN of the ``customer_status`` function.
    orders_table_name:
        Name of the orders table.
    event_bus_name:
        Name (or ARN) of the orderflow event bus.
    fulfillment_state_machine_arn:
        ARN of the fulfillment state machine.
    failure_queue_url:
        URL of the SQS queue that keeps failed executions' input for redrive.
    retry_interval_seconds, retry_backoff_rate, retry_max_attempts, retry_max_delay_seconds:
        Backoff shared by every Retrier (see :func:`components.asl.jittered_retry`).
    parking_max_attempts:
        Retries of parking on the failure queue, the last record of the order: more than the other steps',
        within the 5 minutes an EXPRESS execution may run (8 attempts wait at most about 90 s).
    task_timeout_seconds:
        ``TimeoutSeconds`` of every Task (one attempt): with the retries, it bounds a run under the 5-minute
        EXPRESS limit (:func:`worst_case_duration_seconds`).
    partition:
        The deployment's partition, in every service integration's ARN (see :func:`integration_arn`).

    Returns
    -------
    dict
        The ASL document, already validated.

    Raises
    ------
    ValueError
        When a name/ARN is empty or a retry setting is out of range (the message names it).
    """
    _require_strings(
        customer_status_function_arn=customer_status_function_arn,
        orders_table_name=orders_table_name,
        event_bus_name=event_bus_name,
        fulfillment_state_machine_arn=fulfillment_state_machine_arn,
        failure_queue_url=failure_queue_url,
        partition=partition,
    )
    retries = _Retries(retry_interval_seconds, retry_backoff_rate, retry_max_attempts, retry_max_delay_seconds)
    s = CustomerStatusStates
    tier_path = "$.classification.tier"
    # Last in every Catch list: whatever is left after the retries is parked for redrive.
    park = _catch([STATES_ALL], s.PARK_FOR_REDRIVE)
    definition: dict[str, Any] = {
        "Comment": "orderflow customer-status: classify the customer, then reject or accept and start fulfillment",
        "StartAt": s.CLASSIFY_CUSTOMER,
        "States": {
            s.CLASSIFY_CUSTOMER: _lambda_task(
                customer_status_function_arn,
                _correlated("$.detail"),
                retries.for_lambda(),
                result_selector={"tier.$": "$.Payload.tier"},
                result_path="$.classification",
                catch=[park],
                next_state=s.CHECK_TIER,
                partition=partition,
            ),
            s.CHECK_TIER: {
                "Type": "Choice",
                "Choices": [
                    {"Variable": tier_path, "StringEquals": BLOCKED_TIER, "Next": s.MARK_REJECTED},
                    {
                        "Or": [{"Variable": tier_path, "StringEquals": tier} for tier in ACCEPTED_TIERS],
                        "Next": s.MARK_ACCEPTED,
                    },
                ],
                "Default": s.TIER_OUTSIDE_CONTRACT,
            },
            s.TIER_OUTSIDE_CONTRACT: {
                "Type": "Pass",
                "Comment": "A tier outside the contract is never accepted: it is parked like any other failure.",
                # The parked state keeps $.classification, so the operator sees the tier that was answered.
                "Parameters": {
                    "Error": UNKNOWN_TIER_ERROR,
                    "Cause": "customer_status answered a tier outside the contract",
                },
                "ResultPath": "$.error",
                "Next": s.PARK_FOR_REDRIVE,
            },
            s.MARK_REJECTED: _service_task(
                integration_arn(DYNAMODB_UPDATE_ITEM, partition),
                _set_order_status(
                    orders_table_name,
                    "$.detail.orderId",
                    status="REJECTED",
                    allowed_from=("PENDING",),
                    extra={"reason": {"S": CUSTOMER_BLOCKED.code}, "message": {"S": CUSTOMER_BLOCKED.message}},
                ),
                retries.for_service((CONDITIONAL_CHECK_FAILED,)),
                [_catch([CONDITIONAL_CHECK_FAILED], s.DUPLICATE_IGNORED), park],
                s.PUT_ORDER_REJECTED,
            ),
            s.PUT_ORDER_REJECTED: _service_task(
                integration_arn(EVENTS_PUT_EVENTS, partition),
                _put_event(
                    event_bus_name,
                    ORDER_REJECTED,
                    {**_correlated("$.detail"), "reason": CUSTOMER_BLOCKED.code, "message": CUSTOMER_BLOCKED.message},
                ),
                retries.for_service(),
                [park],
                s.REJECTED,
            ),
            s.REJECTED: {"Type": "Succeed"},
            s.MARK_ACCEPTED: _service_task(
                integration_arn(DYNAMODB_UPDATE_ITEM, partition),
                _set_order_status(
                    orders_table_name,
                    "$.detail.orderId",
                    status="ACCEPTED",
                    # A duplicated OrderPlaced (or a re-run after a failure) finds ACCEPTED and gets through.
                    allowed_from=("PENDING",),
                    extra={"tier": {"S.$": tier_path}},
                ),
                retries.for_service((CONDITIONAL_CHECK_FAILED,)),
                [_catch([CONDITIONAL_CHECK_FAILED], s.DUPLICATE_IGNORED), park],
                s.START_FULFILLMENT,
            ),
            s.START_FULFILLMENT: _service_task(
                integration_arn(SFN_START_EXECUTION, partition),
                {
                    "StateMachineArn": fulfillment_state_machine_arn,
                    # One execution name per order: Step Functions refuses a second one for 90 days.
                    "Name.$": "States.Format('order-{}', $.detail.orderId)",
                    "Input.$": "States.JsonMerge($.detail, $.classification, false)",
                },
                retries.for_service((EXECUTION_ALREADY_EXISTS,)),
                # The execution exists (a duplicate, or our own start whose response was lost): announce anyway,
                # consumers record one OrderAccepted per order.
                [_catch([EXECUTION_ALREADY_EXISTS], s.PUT_ORDER_ACCEPTED), park],
                s.PUT_ORDER_ACCEPTED,
            ),
            s.PUT_ORDER_ACCEPTED: _service_task(
                integration_arn(EVENTS_PUT_EVENTS, partition),
                _put_event(event_bus_name, ORDER_ACCEPTED, {**_correlated("$.detail"), "tier.$": tier_path}),
                retries.for_service(),
                [park],
                s.ACCEPTED,
            ),
            s.ACCEPTED: {"Type": "Succeed"},
            s.DUPLICATE_IGNORED: {
                "Type": "Succeed",
                "Comment": "The order has moved past this decision (or does not exist): a late duplicate.",
            },
            s.PARK_FOR_REDRIVE: {
                "Type": "Task",
                "Resource": integration_arn(SQS_SEND_MESSAGE, partition),
                "Comment": "The original event and the error, kept for redrive once the cause is fixed.",
                "Parameters": {"QueueUrl": failure_queue_url, "MessageBody.$": "$"},
                "ResultPath": None,
                "Retry": [retries.backoff([TASK_FAILED], parking_max_attempts)],
                "Catch": [_catch([STATES_ALL], s.PARKING_FAILED, "$.parkingError")],
                "Next": s.PARKED,
            },
            s.PARKED: {
                "Type": "Fail",
                "Error": "CustomerStatusFailed",
                "Cause": "A step failed after its retries; the event is parked on the failure queue for redrive.",
            },
            s.PARKING_FAILED: {
                "Type": "Fail",
                "Error": "CustomerStatusFailedAndNotParked",
                "Cause": "A step failed and the failure queue refused the event: see this execution's logs.",
            },
        },
    }
    _bound_every_task(definition["States"], task_timeout_seconds)
    validate_definition(definition)
    return definition


def fulfillment_steps_definition(
    *,
    reserve_inventory_function_arn: str,
    process_payment_function_arn: str,
    create_shipment_function_arn: str,
    cancel_shipment_function_arn: str,
    refund_payment_function_arn: str,
    release_inventory_function_arn: str,
    orders_table_name: str,
    event_bus_name: str,
    receipts_bucket_name: str,
    retry_interval_seconds: int = 1,
    retry_backoff_rate: float = 2.0,
    retry_max_attempts: int = 3,
    retry_max_delay_seconds: int = 20,
    compensation_max_attempts: int = 3,
    task_timeout_seconds: int = 5,
    partition: str = "aws",
) -> dict[str, Any]:
    """Build the fulfillment steps (EXPRESS, run by :func:`fulfillment_definition`; input: its input).

    Forward path: reserve inventory (``$.reservation``) → process payment (``$.payment``) → create
    shipment (``$.shipment``) → write the receipt (``$.receipt``) to ``receipts/<customerId>/<orderId>.json``
    → mark the order FULFILLED → put ``OrderFulfilled`` → ``Fulfilled``.

    Before the shipment is booked, any error left after the retries, business or not, is caught into
    ``$.error`` and compensated in reverse: ``cancel_shipment`` (when booking itself failed: its response
    may have been lost after the carrier booked), ``refund_payment`` (skipped when reserving failed), then
    ``release_inventory``; each is idempotent and safe when nothing was done. The failure is then described
    for the customer (``$.failure``: reason code and message, :data:`FAILURE_REASONS` or
    :data:`FULFILLMENT_ERROR`), the order is marked FAILED with both, and ``OrderFailed`` is put with both.
    Business failures end in Succeed (``FailedAndCompensated``), anything else in Fail
    (``FailedUnexpectedly``, whose cause is the raw error).

    Booking the shipment is the point of no return: after it the steps only move forward. Whatever still
    fails after its retries (after booking, while recording a failure, or in a compensation) ends the run in
    ``NeedsOperator``, a Fail whose error is the step's (``$.attention``) and whose cause is the whole state
    as JSON: the STANDARD parent parks it for an operator, and :func:`resume_stage` reads where to resume.

    An EXPRESS run is at-least-once and may be started again from the top (``resume.stage`` ``restart``, or
    a retry of the parent): every step is idempotent and no forward step acts once its compensation has left
    its marker (``RELEASED``, ``REFUNDED``, a ``CANCELLED`` shipment), so a second run never books, charges
    or reserves what the first one undid. Every Task has ``TimeoutSeconds``, so a run's worst case
    (:func:`worst_case_duration_seconds`, every attempt timing out) stays under the 5-minute EXPRESS limit.

    Parameters
    ----------
    reserve_inventory_function_arn, process_payment_function_arn, create_shipment_function_arn:
        ARNs of the forward step functions.
    cancel_shipment_function_arn, refund_payment_function_arn, release_inventory_function_arn:
        ARNs of the compensation functions.
    orders_table_name:
        Name of the orders table.
    event_bus_name:
        Name (or ARN) of the orderflow event bus.
    receipts_bucket_name:
        Name of the receipts bucket.
    retry_interval_seconds, retry_backoff_rate, retry_max_attempts, retry_max_delay_seconds:
        Backoff shared by every Retrier (see :func:`components.asl.jittered_retry`).
    compensation_max_attempts:
        Retries of the compensation Lambdas (giving up leaves money or stock held, for an operator).
    task_timeout_seconds:
        ``TimeoutSeconds`` of every Task (one attempt), which bounds the run under 5 minutes.
    partition:
        The deployment's partition, in every service integration's ARN (see :func:`integration_arn`).

    Returns
    -------
    dict
        The ASL document, already validated.

    Raises
    ------
    ValueError
        When a name/ARN is empty or a retry setting is out of range (the message names it).
    """
    _require_strings(
        reserve_inventory_function_arn=reserve_inventory_function_arn,
        process_payment_function_arn=process_payment_function_arn,
        create_shipment_function_arn=create_shipment_function_arn,
        cancel_shipment_function_arn=cancel_shipment_function_arn,
        refund_payment_function_arn=refund_payment_function_arn,
        release_inventory_function_arn=release_inventory_function_arn,
        orders_table_name=orders_table_name,
        event_bus_name=event_bus_name,
        receipts_bucket_name=receipts_bucket_name,
        partition=partition,
    )
    retries = _Retries(retry_interval_seconds, retry_backoff_rate, retry_max_attempts, retry_max_delay_seconds)
    s = FulfillmentStates
    park = [_catch([STATES_ALL], s.NEEDS_OPERATOR, "$.attention")]

    def forward_step(function_arn: str, result_key: str, keep_state: str, on_error: str) -> dict[str, Any]:
        return _lambda_task(
            function_arn,
            "$",
            retries.for_lambda(),
            result_selector={"Payload.$": "$.Payload"},
            result_path=f"$.{result_key}",
            catch=[_catch([STATES_ALL], on_error)],
            next_state=keep_state,
            partition=partition,
        )

    def keep_result(result_key: str, next_state: str) -> dict[str, Any]:
        # lambda:invoke wraps the function's return value in Payload; the contract keeps the bare result.
        return {
            "Type": "Pass",
            "InputPath": f"$.{result_key}.Payload",
            "ResultPath": f"$.{result_key}",
            "Next": next_state,
        }

    def compensation(function_arn: str, next_state: str) -> dict[str, Any]:
        return _lambda_task(
            function_arn,
            "$",
            retries.for_lambda(compensation_max_attempts),
            catch=park,
            next_state=next_state,
            partition=partition,
        )

    def explain(reason: CustomerReason) -> dict[str, Any]:
        return {
            "Type": "Pass",
            "Result": {"reason": reason.code, "message": reason.message},
            "ResultPath": "$.failure",
            "Next": s.MARK_FAILED,
        }

    receipt_body = {
        **_correlated("$"),
        "tier.$": "$.tier",
        "items.$": "$.items",
        "totalCents.$": "$.totalCents",
        "currency.$": "$.currency",
        "placedAt.$": "$.placedAt",
        "payment.$": "$.payment",
        "shipment.$": "$.shipment",
        "issuedAt.$": "$$.State.EnteredTime",
    }
    resume_at = {
        ResumeStage.RESTART: s.LOOK_UP_ORDER,
        ResumeStage.FINISH: s.BUILD_RECEIPT,
        ResumeStage.COMPENSATE: s.CANCEL_SHIPMENT,
        ResumeStage.RECORD_FAILURE: s.MARK_FAILED,
    }
    states: dict[str, Any] = {
        s.START_OR_RESUME: {
            "Type": "Choice",
            "Comment": "An operator's resume of a parked order (input resume.stage) skips what is done.",
            "Choices": [{"Variable": "$.resume", "IsPresent": True, "Next": s.RESUME_AT_STAGE}],
            "Default": s.RESERVE_INVENTORY,
        },
        s.RESUME_AT_STAGE: {
            "Type": "Choice",
            "Choices": [
                {"Variable": "$.resume.stage", "StringEquals": stage, "Next": state}
                for stage, state in resume_at.items()
            ],
            # No Default: an unknown stage fails the run (States.NoChoiceMatched) before any step runs.
        },
        # ---- a restart reads where the order stands: a booked shipment is never compensated ----
        s.LOOK_UP_ORDER: _service_task(
            integration_arn(DYNAMODB_GET_ITEM, partition),
            {
                "TableName": orders_table_name,
                "Key": {"orderId": {"S.$": "$.orderId"}},
                "ConsistentRead": True,
                "ProjectionExpression": "#shipment, #status",
                "ExpressionAttributeNames": {"#shipment": "shipment", "#status": "status"},
            },
            retries.for_service(),
            park,
            s.WHERE_ORDER_STANDS,
        )
        # GetItem answers {"Item": ...} or {} (no order): the Choice tests the path is present before reading it.
        | {"ResultPath": "$.standing"},
        s.WHERE_ORDER_STANDS: {
            "Type": "Choice",
            "Choices": [
                {
                    # An earlier run compensated and recorded the failure: running forward again would charge
                    # and ship an order the customer was told failed.
                    "And": [
                        {"Variable": "$.standing.Item.status.S", "IsPresent": True},
                        {"Variable": "$.standing.Item.status.S", "StringEquals": ORDER_FAILED_STATUS},
                    ],
                    "Next": s.ALREADY_FAILED,
                },
                {"Variable": "$.standing.Item.shipment.M.status.S", "IsPresent": False, "Next": s.RESERVE_INVENTORY},
                {"Variable": "$.standing.Item.shipment.M.status.S", "StringEquals": "BOOKED", "Next": s.ALREADY_BOOKED},
            ],
            # A cancellation marker: a compensation had begun, and it is finished.
            "Default": s.INTERRUPTED,
        },
        s.ALREADY_BOOKED: {"Type": "Pass", "Result": True, "ResultPath": "$.booked", "Next": s.RESERVE_INVENTORY},
        s.ALREADY_FAILED: {"Type": "Succeed", "Comment": "Compensated and recorded by an earlier run."},
        s.INTERRUPTED: {
            "Type": "Pass",
            "Result": {"Error": "FulfillmentInterrupted", "Cause": "The steps stopped while compensating."},
            "ResultPath": "$.error",
            "Next": s.CANCEL_SHIPMENT,
        },
        # Nothing charged yet: a failed reservation only needs its own release.
        s.RESERVE_INVENTORY: forward_step(
            reserve_inventory_function_arn, "reservation", s.KEEP_RESERVATION, s.RELEASE_UNLESS_BOOKED
        ),
        s.KEEP_RESERVATION: keep_result("reservation", s.WAS_RESERVATION_RELEASED),
        s.WAS_RESERVATION_RELEASED: {
            "Type": "Choice",
            "Comment": "A compensation released it first (a run stopped while compensating): finish failing it.",
            "Choices": [
                {
                    "And": [
                        {"Variable": "$.booked", "IsPresent": False},
                        {"Variable": "$.reservation.status", "StringEquals": RESERVATION_RELEASED},
                    ],
                    "Next": s.INTERRUPTED,
                }
            ],
            "Default": s.PROCESS_PAYMENT,
        },
        s.PROCESS_PAYMENT: forward_step(
            process_payment_function_arn, "payment", s.KEEP_PAYMENT, s.REFUND_UNLESS_BOOKED
        ),
        s.KEEP_PAYMENT: keep_result("payment", s.CREATE_SHIPMENT),
        s.CREATE_SHIPMENT: forward_step(
            create_shipment_function_arn, "shipment", s.KEEP_SHIPMENT, s.CANCEL_UNLESS_BOOKED
        ),
        **{
            guard: {
                "Type": "Choice",
                "Comment": "A restart that found the shipment booked never compensates it: an operator looks.",
                "Choices": [
                    {"Variable": "$.booked", "IsPresent": True, "Next": s.BOOKED_NEEDS_OPERATOR},
                    # A restart cannot know what an earlier run charged or held: it compensates every step,
                    # each of which is safe when there is nothing to undo.
                    {"Variable": "$.standing", "IsPresent": True, "Next": s.CANCEL_SHIPMENT},
                ],
                "Default": compensation_start,
            }
            for guard, compensation_start in (
                (s.RELEASE_UNLESS_BOOKED, s.RELEASE_INVENTORY),
                (s.REFUND_UNLESS_BOOKED, s.REFUND_PAYMENT),
                (s.CANCEL_UNLESS_BOOKED, s.CANCEL_SHIPMENT),
            )
        },
        s.BOOKED_NEEDS_OPERATOR: {
            "Type": "Pass",
            "InputPath": "$.error",
            "ResultPath": "$.attention",
            "Next": s.NEEDS_OPERATOR,
        },
        s.KEEP_SHIPMENT: keep_result("shipment", s.BUILD_RECEIPT),
        # ---- booked: from here on, only forward (retry, then an operator) ----
        s.BUILD_RECEIPT: {
            "Type": "Pass",
            "Parameters": receipt_body,
            "ResultPath": "$.receipt",
            "Next": s.WRITE_RECEIPT,
        },
        s.WRITE_RECEIPT: _service_task(
            integration_arn(S3_PUT_OBJECT, partition),
            {
                "Bucket": receipts_bucket_name,
                "Key.$": _RECEIPT_KEY,
                "ContentType": "application/json",
                # An explicit JSON string: the object body is serialised the same way everywhere.
                "Body.$": "States.JsonToString($.receipt)",
            },
            retries.for_service(),
            park,
            s.MARK_FULFILLED,
        ),
        s.MARK_FULFILLED: _service_task(
            integration_arn(DYNAMODB_UPDATE_ITEM, partition),
            _set_order_status(
                orders_table_name,
                "$.orderId",
                status="FULFILLED",
                allowed_from=("ACCEPTED",),
                extra={"shipmentId": {"S.$": "$.shipment.shipmentId"}, "receiptKey": {"S.$": _RECEIPT_KEY}},
            ),
            # A failed condition means the order was moved by someone else: an operator must look.
            retries.for_service((CONDITIONAL_CHECK_FAILED,)),
            park,
            s.PUT_ORDER_FULFILLED,
        ),
        s.PUT_ORDER_FULFILLED: _service_task(
            integration_arn(EVENTS_PUT_EVENTS, partition),
            _put_event(
                event_bus_name,
                ORDER_FULFILLED,
                {**_correlated("$"), "shipmentId.$": "$.shipment.shipmentId", "receiptKey.$": _RECEIPT_KEY},
            ),
            retries.for_service(),
            park,
            s.FULFILLED,
        ),
        s.FULFILLED: {"Type": "Succeed"},
        # ---- not booked: compensate in reverse ----
        s.CANCEL_SHIPMENT: compensation(cancel_shipment_function_arn, s.REFUND_PAYMENT),
        s.REFUND_PAYMENT: compensation(refund_payment_function_arn, s.RELEASE_INVENTORY),
        s.RELEASE_INVENTORY: compensation(release_inventory_function_arn, s.DESCRIBE_FAILURE),
        s.DESCRIBE_FAILURE: {
            "Type": "Choice",
            "Comment": "The customer is told a reason code and a short message, never the raw error.",
            "Choices": [
                {"Variable": "$.error.Error", "StringEquals": error, "Next": s.explain(error)}
                for error in FAILURE_REASONS
            ],
            "Default": s.EXPLAIN_FULFILLMENT_ERROR,
        },
        **{s.explain(error): explain(reason) for error, reason in FAILURE_REASONS.items()},
        s.EXPLAIN_FULFILLMENT_ERROR: explain(FULFILLMENT_ERROR),
        s.MARK_FAILED: _service_task(
            integration_arn(DYNAMODB_UPDATE_ITEM, partition),
            _set_order_status(
                orders_table_name,
                "$.orderId",
                status=ORDER_FAILED_STATUS,
                allowed_from=("ACCEPTED",),
                extra=_reason_attributes("$.failure"),
            ),
            retries.for_service((CONDITIONAL_CHECK_FAILED,)),
            park,
            s.PUT_ORDER_FAILED,
        ),
        s.PUT_ORDER_FAILED: _service_task(
            integration_arn(EVENTS_PUT_EVENTS, partition),
            _put_event(
                event_bus_name,
                ORDER_FAILED,
                {**_correlated("$"), "reason.$": "$.failure.reason", "message.$": "$.failure.message"},
            ),
            retries.for_service(),
            park,
            s.WAS_BUSINESS_FAILURE,
        ),
        # Business failures end in Succeed: an out-of-stock item or a declined card is an expected
        # outcome the steps fully handled (compensated, recorded, announced), and failed runs (and the
        # parent's alarm) stay reserved for what needs an operator.
        s.WAS_BUSINESS_FAILURE: {
            "Type": "Choice",
            "Comment": "Business failures are expected outcomes: Succeed. Anything else: Fail, so it alarms.",
            "Choices": [
                {
                    "Or": [{"Variable": "$.error.Error", "StringEquals": error} for error in BUSINESS_ERRORS],
                    "Next": s.FAILED_AND_COMPENSATED,
                }
            ],
            "Default": s.FAILED_UNEXPECTEDLY,
        },
        s.FAILED_AND_COMPENSATED: {"Type": "Succeed"},
        s.FAILED_UNEXPECTEDLY: {
            "Type": "Fail",
            "Comment": "Compensated and recorded, but the cause was not a business failure.",
            "Error": FAILED_UNEXPECTEDLY_ERROR,
            "CausePath": "States.JsonToString($.error)",
        },
        s.NEEDS_OPERATOR: {
            "Type": "Fail",
            "Comment": "The parent parks this state (the cause, as JSON); never compensated after booking.",
            "Error": NEEDS_OPERATOR_ERROR,
            "CausePath": "States.JsonToString($)",
        },
    }
    _bound_every_task(states, task_timeout_seconds)
    definition: dict[str, Any] = {
        "Comment": "orderflow fulfillment steps: reserve, pay, ship, receipt; compensate before shipping",
        "StartAt": s.START_OR_RESUME,
        "States": states,
    }
    validate_definition(definition)
    return definition


def fulfillment_definition(
    *,
    steps_state_machine_arn: str,
    orders_table_name: str,
    attention_queue_url: str,
    retry_interval_seconds: int = 1,
    retry_backoff_rate: float = 2.0,
    recovery_max_attempts: int = 10,
    recovery_max_delay_seconds: int = 300,
    steps_timeout_seconds: int = 360,
    restart_wait_seconds: int = 330,
    restart_rounds: int = 2,
    partition: str = "aws",
) -> dict[str, Any]:
    """Build the fulfillment workflow (STANDARD; input: the ``OrderPlaced`` detail plus ``tier``).

    It holds only what needs a STANDARD workflow: its name (``order-<orderId>``, refused a second time for
    90 days, so an order is fulfilled by one execution), a durable record that can be redriven, and parking.
    ``RunSteps`` runs :func:`fulfillment_steps_definition` (EXPRESS) with the same input and waits for it
    (``startExecution.sync:2``); a run that ends well (fulfilled, or a business failure compensated and
    recorded) ends this execution in one state transition.

    A run that fails is read from the task's cause (the run's description, as JSON):

    * ``NeedsOperator``: the run's own state (its cause) is parked: ``ParkForOperator`` sends it with its
      error to the attention queue (alarmed), ``MarkForAttention`` records ``attention`` on the order and the
      execution fails (``ParkedForOperator``). :func:`resume_stage` reads where to resume from that state.
    * ``FailedUnexpectedly``: compensated and recorded already; the execution fails with the run's error.
    * anything else (a start answered with a 5xx or lost, the 5-minute limit, a run lost): nothing says where
      the steps stopped, and a run may still be going. ``WaitOutStoppedRun`` waits until any such run has
      certainly ended (an EXPRESS run stops at 5 minutes), then ``RestartSteps`` runs the steps with
      ``resume.stage`` :data:`ResumeStage.RESTART` (they read the order row first, so nothing is done twice and
      a booked shipment is never compensated). After ``restart_rounds`` such rounds the order input is parked
      as it is, and an operator resumes it from the top the same way.

    Parameters
    ----------
    steps_state_machine_arn:
        ARN of the EXPRESS state machine of :func:`fulfillment_steps_definition`.
    orders_table_name:
        Name of the orders table.
    attention_queue_url:
        URL of the SQS queue where orders that need an operator are parked (alarm on its depth).
    retry_interval_seconds, retry_backoff_rate:
        Backoff of every Retrier (see :func:`components.asl.jittered_retry`).
    recovery_max_attempts, recovery_max_delay_seconds:
        Retries (and the cap on one wait) of starting the steps and of parking, which must not give up
        easily: the defaults keep trying for about 15 minutes.
    steps_timeout_seconds:
        ``TimeoutSeconds`` of ``RunSteps``: above the steps' 5-minute limit, so only a lost run hits it.
    restart_wait_seconds:
        ``Seconds`` of ``WaitOutStoppedRun``: at least the EXPRESS limit (:data:`EXPRESS_MAX_SECONDS`), so a run
        that may have started has ended before the restart; the default adds 30 s of margin.
    restart_rounds:
        How many times (at least once) a stopped run is waited out and restarted before the order is parked.
    partition:
        The deployment's partition, in every service integration's ARN (see :func:`integration_arn`).

    Returns
    -------
    dict
        The ASL document, already validated.

    Raises
    ------
    ValueError
        When a name/ARN is empty or a retry setting is out of range (the message names it).
    """
    _require_strings(
        steps_state_machine_arn=steps_state_machine_arn,
        orders_table_name=orders_table_name,
        attention_queue_url=attention_queue_url,
        partition=partition,
    )
    if isinstance(restart_wait_seconds, bool) or not isinstance(restart_wait_seconds, int):
        raise ValueError(f"restart_wait_seconds must be an integer, got {restart_wait_seconds!r}")
    if restart_wait_seconds < EXPRESS_MAX_SECONDS:
        raise ValueError(
            f"restart_wait_seconds must be at least the EXPRESS limit ({EXPRESS_MAX_SECONDS} s), "
            f"got {restart_wait_seconds}: a run that may have started could still be going"
        )
    if isinstance(restart_rounds, bool) or not isinstance(restart_rounds, int) or restart_rounds < 1:
        raise ValueError(f"restart_rounds must be an integer >= 1, got {restart_rounds!r}")
    recovery = _Retries(retry_interval_seconds, retry_backoff_rate, recovery_max_attempts, recovery_max_delay_seconds)
    s = FulfillmentStates
    attention = {
        "M": {
            "executionArn": {"S.$": "$$.Execution.Id"},
            "error": {"S.$": "$.parked.error.Error"},
            "since": {"S.$": "$$.State.EnteredTime"},
        }
    }

    def run_steps(name: str, comment: str) -> dict[str, Any]:
        return {
            "Type": "Task",
            "Resource": integration_arn(SFN_START_EXECUTION_SYNC, partition),
            "Comment": comment,
            "Parameters": {
                "StateMachineArn": steps_state_machine_arn,
                # Named after the order's execution (and the attempt), to find a run's logs from the order.
                "Name.$": name,
                "Input.$": "$",
            },
            "TimeoutSeconds": steps_timeout_seconds,
            "ResultPath": None,
            # Only a refused start is retried here: a failed run already retried its own steps.
            "Retry": [recovery.backoff(list(START_REFUSED_ERRORS))],
            "Catch": [_catch([STATES_ALL], s.HOW_STEPS_STOPPED, "$.attention")],
            "End": True,
        }

    def parked(state_path: str, error_path: str) -> dict[str, Any]:
        return {
            "Type": "Pass",
            "Parameters": {"state.$": state_path, "error.$": error_path},
            "ResultPath": "$.parked",
            "Next": s.PARK_FOR_OPERATOR,
        }

    definition: dict[str, Any] = {
        "Comment": "orderflow fulfillment: one execution per order runs the EXPRESS steps, parks what they leave",
        "StartAt": s.RUN_STEPS,
        "States": {
            s.RUN_STEPS: run_steps(
                "States.Format('{}-{}', $$.Execution.Name, $$.State.RetryCount)",
                "The steps run at least once; their result is not kept (the order row is the record).",
            ),
            s.HOW_STEPS_STOPPED: {
                "Type": "Choice",
                "Comment": "A failed run's description is the cause (JSON); other errors stopped it from outside.",
                "Choices": [{"Variable": "$.attention.Error", "StringEquals": TASK_FAILED, "Next": s.READ_STOPPED_RUN}],
                "Default": s.MAY_RESTART,
            },
            s.READ_STOPPED_RUN: {
                "Type": "Pass",
                "Parameters": {"run.$": "States.StringToJson($.attention.Cause)"},
                "ResultPath": "$.stopped",
                "Next": s.WHY_STEPS_FAILED,
            },
            s.WHY_STEPS_FAILED: {
                "Type": "Choice",
                "Choices": [
                    # A run that timed out may have no error: rules are tried in order, so this one goes first.
                    {"Variable": "$.stopped.run.Error", "IsPresent": False, "Next": s.MAY_RESTART},
                    {
                        "Variable": "$.stopped.run.Error",
                        "StringEquals": NEEDS_OPERATOR_ERROR,
                        "Next": s.PARK_STEPS_STATE,
                    },
                    {
                        "Variable": "$.stopped.run.Error",
                        "StringEquals": FAILED_UNEXPECTEDLY_ERROR,
                        "Next": s.FAILED_UNEXPECTEDLY,
                    },
                ],
                "Default": s.MAY_RESTART,
            },
            s.MAY_RESTART: {
                "Type": "Choice",
                "Comment": "Nothing says where the run stopped, and it may still be going: wait it out and restart.",
                "Choices": [
                    {"Variable": "$.resume.round", "IsPresent": False, "Next": s.FIRST_RESTART},
                    {
                        "Variable": "$.resume.round",
                        "NumericGreaterThanEquals": restart_rounds,
                        "Next": s.PARK_ORDER_INPUT,
                    },
                ],
                "Default": s.NEXT_RESTART,
            },
            s.FIRST_RESTART: {
                "Type": "Pass",
                "Result": {"stage": ResumeStage.RESTART, "round": 1},
                "ResultPath": "$.resume",
                "Next": s.WAIT_OUT_STOPPED_RUN,
            },
            s.NEXT_RESTART: {
                "Type": "Pass",
                "Parameters": {"stage": ResumeStage.RESTART, "round.$": "States.MathAdd($.resume.round, 1)"},
                "ResultPath": "$.resume",
                "Next": s.WAIT_OUT_STOPPED_RUN,
            },
            s.WAIT_OUT_STOPPED_RUN: {
                "Type": "Wait",
                "Comment": "A run whose start failed may be going: an EXPRESS run has certainly ended after 5 minutes.",
                "Seconds": restart_wait_seconds,
                "Next": s.RESTART_STEPS,
            },
            s.RESTART_STEPS: run_steps(
                "States.Format('{}-restart{}-{}', $$.Execution.Name, $.resume.round, $$.State.RetryCount)",
                "The steps again, reading the order row first: nothing done twice, a booked shipment kept.",
            ),
            s.PARK_STEPS_STATE: {
                "Type": "Pass",
                "Parameters": {"state.$": "States.StringToJson($.stopped.run.Cause)"},
                "ResultPath": "$.stopped",
                "Next": s.KEEP_STEPS_STATE,
            },
            s.KEEP_STEPS_STATE: parked("$.stopped.state", "$.stopped.state.attention"),
            s.PARK_ORDER_INPUT: parked("$", "$.attention"),
            s.PARK_FOR_OPERATOR: _service_task(
                integration_arn(SQS_SEND_MESSAGE, partition),
                {
                    "QueueUrl": attention_queue_url,
                    "MessageBody": {
                        "executionArn.$": "$$.Execution.Id",
                        "orderId.$": "$.orderId",
                        "error.$": "$.parked.error",
                        "state.$": "$.parked.state",
                    },
                },
                recovery.for_service(),
                [_catch([STATES_ALL], s.NOT_PARKED, "$.parkingError")],
                s.MARK_FOR_ATTENTION,
                comment="The state and its error, for an operator; the queue's depth alarms.",
            ),
            s.MARK_FOR_ATTENTION: _service_task(
                integration_arn(DYNAMODB_UPDATE_ITEM, partition),
                {
                    "TableName": orders_table_name,
                    "Key": {"orderId": {"S.$": "$.orderId"}},
                    "UpdateExpression": "SET #attention = :attention, #updatedAt = :updatedAt",
                    "ConditionExpression": "attribute_exists(orderId)",
                    "ExpressionAttributeNames": {"#attention": "attention", "#updatedAt": "updatedAt"},
                    "ExpressionAttributeValues": {":attention": attention, ":updatedAt": _NOW},
                },
                recovery.for_service((CONDITIONAL_CHECK_FAILED,)),
                # The queue already holds the order: an unmarked row is a lesser problem than a lost one.
                [_catch([STATES_ALL], s.PARKED_FOR_OPERATOR, "$.markError")],
                s.PARKED_FOR_OPERATOR,
                comment="The order row says an operator has it, so a reconciliation does not act on it twice.",
            ),
            s.PARKED_FOR_OPERATOR: {
                "Type": "Fail",
                "Comment": "Parked on the attention queue; never compensated once the shipment is booked.",
                "ErrorPath": "$.parked.error.Error",
                "CausePath": "$.parked.error.Cause",
            },
            s.NOT_PARKED: {
                "Type": "Fail",
                "Comment": "The attention queue refused the order too: the failed execution is the last record.",
                "ErrorPath": "$.parked.error.Error",
                "CausePath": "$.parked.error.Cause",
            },
            s.FAILED_UNEXPECTEDLY: {
                "Type": "Fail",
                "Comment": "Compensated and recorded by the steps, but the cause was not a business failure.",
                "Error": FAILED_UNEXPECTEDLY_ERROR,
                "CausePath": "$.stopped.run.Cause",
            },
        },
    }
    validate_definition(definition)
    return definition


DEFAULT_RETRY: Final = {"IntervalSeconds": 1, "BackoffRate": 2.0, "MaxAttempts": 3}
"""A Retrier's fields when absent (Amazon States Language: 1 s, rate 2.0, 3 attempts; no delay cap)."""


def retrier_wait_seconds(retrier: dict[str, Any]) -> float:
    """The longest a Retrier waits in all: every retry's interval, grown by the rate and capped, before jitter.

    ``JitterStrategy: FULL`` draws each wait from ``[0, that interval]``, so this is an upper bound either way.
    """
    settings = DEFAULT_RETRY | retrier
    cap = float(settings.get("MaxDelaySeconds", float("inf")))
    interval, rate = float(settings["IntervalSeconds"]), float(settings["BackoffRate"])
    return sum(min(interval * rate**retry, cap) for retry in range(int(settings["MaxAttempts"])))


def worst_case_duration_seconds(definition: dict[str, Any]) -> float:
    """The longest a run of ``definition`` can last: the slowest path, every Task exhausting every Retrier.

    A Task lasts at most ``TimeoutSeconds`` per attempt; it makes one attempt plus each Retrier's
    ``MaxAttempts`` (an error may match a different Retrier each time, and each counts its own), and waits
    :func:`retrier_wait_seconds` for each. Choice, Pass, Succeed and Fail take no time; a Wait takes its
    ``Seconds``. The path is the slowest of ``Next``, ``Default``, the Choices' and the Catchers' targets.
    Use it to check an EXPRESS workflow stays within its 5-minute limit.

    Parameters
    ----------
    definition:
        An ASL document without Parallel or Map states.

    Returns
    -------
    float
        Seconds.

    Raises
    ------
    ValueError
        Naming the state: a Task without ``TimeoutSeconds`` (ASL sets no timeout, so nothing bounds it), a Wait
        without ``Seconds``, a Parallel or Map state, or a loop.
    """
    states: dict[str, dict[str, Any]] = definition["States"]
    longest: dict[str, float] = {}

    def from_state(name: str, visiting: frozenset[str]) -> float:
        if name in visiting:
            raise ValueError(f"state {name!r} is on a loop: a run has no worst case")
        if name in longest:
            return longest[name]
        state = states[name]
        kind = state["Type"]
        if kind == "Task":
            if "TimeoutSeconds" not in state:
                raise ValueError(f"Task {name!r} has no TimeoutSeconds: nothing bounds how long it runs")
            retriers = state.get("Retry", [])
            attempts = 1 + sum(int((DEFAULT_RETRY | retrier)["MaxAttempts"]) for retrier in retriers)
            own = attempts * float(state["TimeoutSeconds"]) + sum(retrier_wait_seconds(r) for r in retriers)
        elif kind == "Wait":
            if "Seconds" not in state:
                raise ValueError(f"Wait {name!r} has no Seconds: its duration depends on the input")
            own = float(state["Seconds"])
        elif kind in ("Choice", "Pass", "Succeed", "Fail"):
            own = 0.0
        else:
            raise ValueError(f"state {name!r} is a {kind}: only Task, Wait, Choice, Pass, Succeed and Fail are known")
        targets = [state.get("Next"), state.get("Default")]
        targets += [rule.get("Next") for rule in state.get("Choices", []) + state.get("Catch", [])]
        after = [from_state(target, visiting | {name}) for target in targets if target]
        longest[name] = own + max(after, default=0.0)
        return longest[name]

    return from_state(definition["StartAt"], frozenset())
