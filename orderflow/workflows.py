"""ASL documents of the two order workflows (architecture steps 2 and 3, ``docs/contracts.md``).

Both builders are pure functions of plain strings (ARNs, names), so the ``Workflow`` component can call
them with placeholders to validate the graph and again with resolved outputs to deploy. Every document
is checked by :func:`components.asl.validate_definition` before it is returned.

Retry policy (every Task):

* Lambda Tasks retry ``TransientDependencyError`` (raised by our handlers when a dependency throttles) and
  the Lambda service errors AWS recommends retrying, with capped, fully jittered exponential backoff.
  Business errors (``OutOfStock``, ``PaymentDeclined``) and bugs are not retried.
* Service-integration Tasks (DynamoDB, EventBridge, S3, Step Functions) first exempt the errors that
  are final answers (a failed condition, an existing execution) and then retry ``States.TaskFailed``:
  their transient error names differ per service and a missed name would mean no retry at all, while a
  useless retry of a permanent error only costs a few seconds before the Catch takes over.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from components.asl import TRANSIENT_LAMBDA_ERRORS, jittered_retry, no_retry, validate_definition
from orderflow.routing import (
    ORDER_ACCEPTED,
    ORDER_EVENT_SOURCE,
    ORDER_FAILED,
    ORDER_FULFILLED,
    ORDER_REJECTED,
    RECEIPTS_KEY_PREFIX,
)

LAMBDA_INVOKE: Final = "arn:aws:states:::lambda:invoke"
DYNAMODB_UPDATE_ITEM: Final = "arn:aws:states:::dynamodb:updateItem"
EVENTS_PUT_EVENTS: Final = "arn:aws:states:::events:putEvents"
SFN_START_EXECUTION: Final = "arn:aws:states:::states:startExecution"
SQS_SEND_MESSAGE: Final = "arn:aws:states:::sqs:sendMessage"
S3_PUT_OBJECT: Final = "arn:aws:states:::aws-sdk:s3:putObject"

TRANSIENT_DEPENDENCY_ERROR: Final = "TransientDependencyError"
BUSINESS_ERRORS: Final[tuple[str, ...]] = ("OutOfStock", "PaymentDeclined")
CONDITIONAL_CHECK_FAILED: Final = "DynamoDB.ConditionalCheckFailedException"
# Step Functions names a failed startExecution "StepFunctions.<error code>Exception" (AWS and moto alike).
EXECUTION_ALREADY_EXISTS: Final = "StepFunctions.ExecutionAlreadyExistsException"
TASK_FAILED: Final = "States.TaskFailed"
STATES_ALL: Final = "States.ALL"

BLOCKED_TIER: Final = "BLOCKED"
ACCEPTED_TIERS: Final[tuple[str, ...]] = ("NEW", "RETURNING", "VIP")
CUSTOMER_BLOCKED_REASON: Final = "CUSTOMER_BLOCKED"
"""``reason`` of ``OrderRejected`` and of the REJECTED order row."""

# Key of the receipt object, as a States.Format call on the fulfillment state.
_RECEIPT_KEY: Final = f"States.Format('{RECEIPTS_KEY_PREFIX}{{}}/{{}}.json', $.customerId, $.orderId)"
_NOW: Final = {"S.$": "$$.State.EnteredTime"}


class CustomerStatusStates:
    """State names of the customer-status workflow."""

    CLASSIFY_CUSTOMER: Final = "ClassifyCustomer"
    CHECK_TIER: Final = "CheckTier"
    MARK_REJECTED: Final = "MarkRejected"
    PUT_ORDER_REJECTED: Final = "PutOrderRejected"
    REJECTED: Final = "Rejected"
    MARK_ACCEPTED: Final = "MarkAccepted"
    START_FULFILLMENT: Final = "StartFulfillment"
    PUT_ORDER_ACCEPTED: Final = "PutOrderAccepted"
    ACCEPTED: Final = "Accepted"
    DUPLICATE_IGNORED: Final = "DuplicateIgnored"
    ALREADY_FULFILLING: Final = "AlreadyFulfilling"
    PARK_FOR_REDRIVE: Final = "ParkForRedrive"
    PARKED: Final = "Parked"
    PARKING_FAILED: Final = "ParkingFailed"


class FulfillmentStates:
    """State names of the fulfillment workflow."""

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
    FULFILLED_EVENT_NOT_PUBLISHED: Final = "FulfilledEventNotPublished"
    REFUND_PAYMENT: Final = "RefundPayment"
    RELEASE_INVENTORY: Final = "ReleaseInventory"
    MARK_FAILED: Final = "MarkFailed"
    PUT_ORDER_FAILED: Final = "PutOrderFailed"
    WAS_BUSINESS_FAILURE: Final = "WasBusinessFailure"
    FAILED_AND_COMPENSATED: Final = "FailedAndCompensated"
    FAILED_UNEXPECTEDLY: Final = "FailedUnexpectedly"
    COMPENSATION_FAILED: Final = "CompensationFailed"
    FAILURE_NOT_RECORDED: Final = "FailureNotRecorded"


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
) -> dict[str, Any]:
    parameters: dict[str, Any] = {"FunctionName": function_arn}
    if isinstance(payload, str):
        parameters["Payload.$"] = payload
    else:
        parameters["Payload"] = payload
    state: dict[str, Any] = {"Type": "Task", "Resource": LAMBDA_INVOKE, "Parameters": parameters}
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
    extra: dict[str, dict[str, str]],
) -> dict[str, Any]:
    """DynamoDB UpdateItem parameters moving an order to ``status`` only from ``allowed_from``."""
    names = {"#status": "status", "#updatedAt": "updatedAt"}
    values: dict[str, Any] = {":status": {"S": status}, ":updatedAt": _NOW}
    assignments = ["#status = :status", "#updatedAt = :updatedAt"]
    for attribute, value in extra.items():
        names[f"#{attribute}"] = attribute
        values[f":{attribute}"] = value
        assignments.append(f"#{attribute} = :{attribute}")
    allowed = []
    for index, previous in enumerate(allowed_from):
        values[f":from{index}"] = {"S": previous}
        allowed.append(f":from{index}")
    condition = f"#status = {allowed[0]}" if len(allowed) == 1 else f"#status IN ({', '.join(allowed)})"
    return {
        "TableName": table_name,
        "Key": {"orderId": {"S.$": order_id_path}},
        "UpdateExpression": "SET " + ", ".join(assignments),
        "ConditionExpression": condition,
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
) -> dict[str, Any]:
    """Build the customer-status workflow (EXPRESS; input: the ``OrderPlaced`` EventBridge event).

    ``customer_status`` classifies the customer. ``BLOCKED`` marks the order REJECTED (only from PENDING)
    and puts ``OrderRejected``. ``NEW``/``RETURNING``/``VIP`` mark it ACCEPTED with the tier (from PENDING
    or ACCEPTED, so a duplicated ``OrderPlaced`` passes but a finished order is never overwritten), start
    the fulfillment execution named ``order-<orderId>`` with the detail plus ``tier``, and put
    ``OrderAccepted``. A failed condition ends in ``DuplicateIgnored``; an execution that already exists
    ends in ``AlreadyFulfilling`` without a second ``OrderAccepted``. Any other tier fails the execution
    (no Choice default). An error left after a Task's retries is caught: the state (the original
    ``OrderPlaced`` event plus ``error``) is parked on the failure queue for redrive and the execution
    fails (``Parked``), so the order is never silently left PENDING: EventBridge has already handed the
    event over when an EXPRESS execution fails, and this queue is its dead-letter queue.

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
            ),
            s.CHECK_TIER: {
                "Type": "Choice",
                "Comment": "No Default on purpose: a tier outside the contract fails the execution instead of "
                "accepting the order (States.NoChoiceMatched).",
                "Choices": [
                    {"Variable": tier_path, "StringEquals": BLOCKED_TIER, "Next": s.MARK_REJECTED},
                    {
                        "Or": [{"Variable": tier_path, "StringEquals": tier} for tier in ACCEPTED_TIERS],
                        "Next": s.MARK_ACCEPTED,
                    },
                ],
            },
            s.MARK_REJECTED: {
                "Type": "Task",
                "Resource": DYNAMODB_UPDATE_ITEM,
                "Parameters": _set_order_status(
                    orders_table_name,
                    "$.detail.orderId",
                    status="REJECTED",
                    allowed_from=("PENDING",),
                    extra={"reason": {"S": CUSTOMER_BLOCKED_REASON}},
                ),
                "ResultPath": None,
                "Retry": retries.for_service((CONDITIONAL_CHECK_FAILED,)),
                "Catch": [_catch([CONDITIONAL_CHECK_FAILED], s.DUPLICATE_IGNORED), park],
                "Next": s.PUT_ORDER_REJECTED,
            },
            s.PUT_ORDER_REJECTED: {
                "Type": "Task",
                "Resource": EVENTS_PUT_EVENTS,
                "Parameters": _put_event(
                    event_bus_name, ORDER_REJECTED, {**_correlated("$.detail"), "reason": CUSTOMER_BLOCKED_REASON}
                ),
                "ResultPath": None,
                "Retry": retries.for_service(),
                "Catch": [park],
                "Next": s.REJECTED,
            },
            s.REJECTED: {"Type": "Succeed"},
            s.MARK_ACCEPTED: {
                "Type": "Task",
                "Resource": DYNAMODB_UPDATE_ITEM,
                "Parameters": _set_order_status(
                    orders_table_name,
                    "$.detail.orderId",
                    status="ACCEPTED",
                    # ACCEPTED too, so a duplicated OrderPlaced (or a re-run after a failure) gets through.
                    allowed_from=("PENDING", "ACCEPTED"),
                    extra={"tier": {"S.$": tier_path}},
                ),
                "ResultPath": None,
                "Retry": retries.for_service((CONDITIONAL_CHECK_FAILED,)),
                "Catch": [_catch([CONDITIONAL_CHECK_FAILED], s.DUPLICATE_IGNORED), park],
                "Next": s.START_FULFILLMENT,
            },
            s.START_FULFILLMENT: {
                "Type": "Task",
                "Resource": SFN_START_EXECUTION,
                "Parameters": {
                    "StateMachineArn": fulfillment_state_machine_arn,
                    # One execution name per order: Step Functions refuses a second one for 90 days.
                    "Name.$": "States.Format('order-{}', $.detail.orderId)",
                    "Input.$": "States.JsonMerge($.detail, $.classification, false)",
                },
                "ResultPath": None,
                "Retry": retries.for_service((EXECUTION_ALREADY_EXISTS,)),
                "Catch": [_catch([EXECUTION_ALREADY_EXISTS], s.ALREADY_FULFILLING), park],
                "Next": s.PUT_ORDER_ACCEPTED,
            },
            s.PUT_ORDER_ACCEPTED: {
                "Type": "Task",
                "Resource": EVENTS_PUT_EVENTS,
                "Parameters": _put_event(
                    event_bus_name, ORDER_ACCEPTED, {**_correlated("$.detail"), "tier.$": tier_path}
                ),
                "ResultPath": None,
                "Retry": retries.for_service(),
                "Catch": [park],
                "Next": s.ACCEPTED,
            },
            s.ACCEPTED: {"Type": "Succeed"},
            s.DUPLICATE_IGNORED: {
                "Type": "Succeed",
                "Comment": "The order is no longer PENDING/ACCEPTED: this OrderPlaced is a late duplicate.",
            },
            s.ALREADY_FULFILLING: {
                "Type": "Succeed",
                "Comment": "The fulfillment execution for this order exists: a duplicate counts as success.",
            },
            s.PARK_FOR_REDRIVE: {
                "Type": "Task",
                "Resource": SQS_SEND_MESSAGE,
                "Comment": "The original event and the error, kept for redrive once the cause is fixed.",
                "Parameters": {"QueueUrl": failure_queue_url, "MessageBody.$": "$"},
                "ResultPath": None,
                "Retry": retries.for_service(),
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
    validate_definition(definition)
    return definition


def fulfillment_definition(
    *,
    reserve_inventory_function_arn: str,
    process_payment_function_arn: str,
    create_shipment_function_arn: str,
    refund_payment_function_arn: str,
    release_inventory_function_arn: str,
    orders_table_name: str,
    event_bus_name: str,
    receipts_bucket_name: str,
    retry_interval_seconds: int = 1,
    retry_backoff_rate: float = 2.0,
    retry_max_attempts: int = 3,
    retry_max_delay_seconds: int = 20,
    compensation_max_attempts: int = 6,
) -> dict[str, Any]:
    """Build the fulfillment workflow (STANDARD; input: the ``OrderPlaced`` detail plus ``tier``).

    Forward path: reserve inventory (``$.reservation``) → process payment (``$.payment``) → create
    shipment (``$.shipment``) → write the receipt (``$.receipt``) to ``receipts/<customerId>/<orderId>.json``
    → mark the order FULFILLED (only from ACCEPTED) → put ``OrderFulfilled`` → ``Fulfilled``.

    Failure path: any error left after the retries, business or not, is caught into ``$.error`` and
    compensated in reverse: ``refund_payment`` (skipped when reserving failed, as nothing was charged) then
    ``release_inventory``; both are idempotent and safe when nothing was done. The order is marked FAILED
    with ``reason`` = the error name and ``OrderFailed`` is put. Business failures then end in Succeed
    (``FailedAndCompensated``), anything else in Fail (``FailedUnexpectedly``). A compensation that still
    fails ends in ``CompensationFailed``; failing to record the failure ends in ``FailureNotRecorded``;
    failing to announce a fulfilled order ends in ``FulfilledEventNotPublished`` (never compensated:
    the order is complete, a redrive republishes).

    Parameters
    ----------
    reserve_inventory_function_arn, process_payment_function_arn, create_shipment_function_arn:
        ARNs of the forward step functions.
    refund_payment_function_arn, release_inventory_function_arn:
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
        Retries of the compensation Lambdas; higher than the forward steps' because giving up leaves money
        or stock held.

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
        refund_payment_function_arn=refund_payment_function_arn,
        release_inventory_function_arn=release_inventory_function_arn,
        orders_table_name=orders_table_name,
        event_bus_name=event_bus_name,
        receipts_bucket_name=receipts_bucket_name,
    )
    retries = _Retries(retry_interval_seconds, retry_backoff_rate, retry_max_attempts, retry_max_delay_seconds)
    s = FulfillmentStates
    compensate_all = [_catch([STATES_ALL], s.REFUND_PAYMENT)]

    def forward_step(function_arn: str, result_key: str, keep_state: str, on_error: str) -> dict[str, Any]:
        return _lambda_task(
            function_arn,
            "$",
            retries.for_lambda(),
            result_selector={"Payload.$": "$.Payload"},
            result_path=f"$.{result_key}",
            catch=[_catch([STATES_ALL], on_error)],
            next_state=keep_state,
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
            catch=[_catch([STATES_ALL], s.COMPENSATION_FAILED, "$.compensationError")],
            next_state=next_state,
        )

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
    definition: dict[str, Any] = {
        "Comment": "orderflow fulfillment: reserve, pay, ship, receipt; compensate in reverse on failure",
        "StartAt": s.RESERVE_INVENTORY,
        "States": {
            # Nothing charged yet: a failed reservation only needs its own release.
            s.RESERVE_INVENTORY: forward_step(
                reserve_inventory_function_arn, "reservation", s.KEEP_RESERVATION, s.RELEASE_INVENTORY
            ),
            s.KEEP_RESERVATION: keep_result("reservation", s.PROCESS_PAYMENT),
            s.PROCESS_PAYMENT: forward_step(process_payment_function_arn, "payment", s.KEEP_PAYMENT, s.REFUND_PAYMENT),
            s.KEEP_PAYMENT: keep_result("payment", s.CREATE_SHIPMENT),
            s.CREATE_SHIPMENT: forward_step(
                create_shipment_function_arn, "shipment", s.KEEP_SHIPMENT, s.REFUND_PAYMENT
            ),
            s.KEEP_SHIPMENT: keep_result("shipment", s.BUILD_RECEIPT),
            s.BUILD_RECEIPT: {
                "Type": "Pass",
                "Parameters": receipt_body,
                "ResultPath": "$.receipt",
                "Next": s.WRITE_RECEIPT,
            },
            s.WRITE_RECEIPT: {
                "Type": "Task",
                "Resource": S3_PUT_OBJECT,
                "Parameters": {
                    "Bucket": receipts_bucket_name,
                    "Key.$": _RECEIPT_KEY,
                    "ContentType": "application/json",
                    # An explicit JSON string: the object body is serialised the same way everywhere.
                    "Body.$": "States.JsonToString($.receipt)",
                },
                "ResultPath": None,
                "Retry": retries.for_service(),
                "Catch": compensate_all,
                "Next": s.MARK_FULFILLED,
            },
            s.MARK_FULFILLED: {
                "Type": "Task",
                "Resource": DYNAMODB_UPDATE_ITEM,
                "Parameters": _set_order_status(
                    orders_table_name,
                    "$.orderId",
                    status="FULFILLED",
                    allowed_from=("ACCEPTED",),
                    extra={"shipmentId": {"S.$": "$.shipment.shipmentId"}, "receiptKey": {"S.$": _RECEIPT_KEY}},
                ),
                "ResultPath": None,
                "Retry": retries.for_service((CONDITIONAL_CHECK_FAILED,)),
                "Catch": compensate_all,
                "Next": s.PUT_ORDER_FULFILLED,
            },
            s.PUT_ORDER_FULFILLED: {
                "Type": "Task",
                "Resource": EVENTS_PUT_EVENTS,
                "Parameters": _put_event(
                    event_bus_name,
                    ORDER_FULFILLED,
                    {**_correlated("$"), "shipmentId.$": "$.shipment.shipmentId", "receiptKey.$": _RECEIPT_KEY},
                ),
                "ResultPath": None,
                "Retry": retries.for_service(),
                "Catch": [_catch([STATES_ALL], s.FULFILLED_EVENT_NOT_PUBLISHED)],
                "Next": s.FULFILLED,
            },
            s.FULFILLED: {"Type": "Succeed"},
            s.FULFILLED_EVENT_NOT_PUBLISHED: {
                "Type": "Fail",
                "Comment": "The order is FULFILLED but OrderFulfilled was not put. Not compensated (the order is "
                "complete); the failed execution alarms and a redrive republishes the event.",
                "ErrorPath": "$.error.Error",
                "CausePath": "$.error.Cause",
            },
            s.REFUND_PAYMENT: compensation(refund_payment_function_arn, s.RELEASE_INVENTORY),
            s.RELEASE_INVENTORY: compensation(release_inventory_function_arn, s.MARK_FAILED),
            s.MARK_FAILED: {
                "Type": "Task",
                "Resource": DYNAMODB_UPDATE_ITEM,
                "Parameters": _set_order_status(
                    orders_table_name,
                    "$.orderId",
                    status="FAILED",
                    allowed_from=("ACCEPTED",),
                    extra={"reason": {"S.$": "$.error.Error"}},
                ),
                "ResultPath": None,
                "Retry": retries.for_service((CONDITIONAL_CHECK_FAILED,)),
                "Catch": [_catch([STATES_ALL], s.FAILURE_NOT_RECORDED, "$.recordError")],
                "Next": s.PUT_ORDER_FAILED,
            },
            s.PUT_ORDER_FAILED: {
                "Type": "Task",
                "Resource": EVENTS_PUT_EVENTS,
                "Parameters": _put_event(
                    event_bus_name,
                    ORDER_FAILED,
                    {**_correlated("$"), "reason.$": "$.error.Error", "error.$": "$.error.Cause"},
                ),
                "ResultPath": None,
                "Retry": retries.for_service(),
                "Catch": [_catch([STATES_ALL], s.FAILURE_NOT_RECORDED, "$.recordError")],
                "Next": s.WAS_BUSINESS_FAILURE,
            },
            # Business failures end in Succeed: an out-of-stock item or a declined card is an expected
            # outcome the workflow fully handled (compensated, recorded, announced), and failed
            # executions (and their alarm) stay reserved for what needs an operator. Exhausted retries
            # and unexpected errors are compensated the same way but end in Fail so they are seen.
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
                "ErrorPath": "$.error.Error",
                "CausePath": "$.error.Cause",
            },
            s.COMPENSATION_FAILED: {
                "Type": "Fail",
                "Comment": "A compensation still failed after its retries: money or stock may be held.",
                "ErrorPath": "$.compensationError.Error",
                "CausePath": "$.compensationError.Cause",
            },
            s.FAILURE_NOT_RECORDED: {
                "Type": "Fail",
                "Comment": "Compensated, but marking the order FAILED or putting OrderFailed did not succeed.",
                "ErrorPath": "$.recordError.Error",
                "CausePath": "$.recordError.Cause",
            },
        },
    }
    validate_definition(definition)
    return definition
