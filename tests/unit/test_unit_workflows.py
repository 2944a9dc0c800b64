"""orderflow.workflows: structure of the two ASL documents (execution is covered by the workflow suite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from components.asl import TRANSIENT_LAMBDA_ERRORS, validate_definition
from orderflow import routing
from orderflow.workflows import (
    BUSINESS_ERRORS,
    CONDITIONAL_CHECK_FAILED,
    EXECUTION_ALREADY_EXISTS,
    CustomerStatusStates,
    FulfillmentStates,
    customer_status_definition,
    fulfillment_definition,
)

ACCOUNT = "123456789012"
CUSTOMER_STATUS_INPUTS = {
    "customer_status_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:customer-status",
    "orders_table_name": "orders",
    "event_bus_name": "orderflow",
    "fulfillment_state_machine_arn": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:fulfillment",
    "failure_queue_url": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/customer-status-failures",
}
FULFILLMENT_INPUTS = {
    "reserve_inventory_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:reserve",
    "process_payment_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:pay",
    "create_shipment_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:ship",
    "refund_payment_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:refund",
    "release_inventory_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:release",
    "orders_table_name": "orders",
    "event_bus_name": "orderflow",
    "receipts_bucket_name": "receipts-bucket",
}
LAMBDA_RETRY_ERRORS = ["TransientDependencyError", *TRANSIENT_LAMBDA_ERRORS]


def customer_status(**overrides: Any) -> dict[str, Any]:
    return customer_status_definition(**{**CUSTOMER_STATUS_INPUTS, **overrides})


def fulfillment(**overrides: Any) -> dict[str, Any]:
    return fulfillment_definition(**{**FULFILLMENT_INPUTS, **overrides})


BUILDERS = {"customer-status": customer_status, "fulfillment": fulfillment}


def tasks(definition: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, state in definition["States"].items():
        if state["Type"] == "Task":
            yield name, state


def path_from(definition: dict[str, Any], start: str) -> list[str]:
    """States visited from ``start`` following Next only (the success path of each state)."""
    visited = [start]
    state = definition["States"][start]
    while "Next" in state:
        visited.append(state["Next"])
        state = definition["States"][state["Next"]]
    return visited


# ---- both documents --------------------------------------------------------------------------


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_definition_is_valid_and_parses_with_moto(workflow: str) -> None:
    definition = BUILDERS[workflow]()

    validate_definition(definition)
    AmazonStateLanguageParser.parse(json.dumps(definition))


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_definition_builds_from_the_workflow_components_placeholders(workflow: str) -> None:
    # components/workflow.py validates the graph with "placeholder-<input>" strings before values resolve.
    inputs = CUSTOMER_STATUS_INPUTS if workflow == "customer-status" else FULFILLMENT_INPUTS
    definition = BUILDERS[workflow](**{key: f"placeholder-{key}" for key in inputs})

    validate_definition(definition)


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_every_task_retries_with_capped_full_jitter(workflow: str) -> None:
    for name, state in tasks(BUILDERS[workflow]()):
        backoff = [r for r in state["Retry"] if r.get("MaxAttempts", 3) > 0]
        assert backoff, name
        for retrier in backoff:
            assert retrier["JitterStrategy"] == "FULL", name
            assert retrier["MaxDelaySeconds"] >= retrier["IntervalSeconds"], name
            assert retrier["BackoffRate"] >= 1.0, name


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_lambda_tasks_retry_only_transient_errors(workflow: str) -> None:
    lambda_tasks = [(n, s) for n, s in tasks(BUILDERS[workflow]()) if s["Resource"] == "arn:aws:states:::lambda:invoke"]
    assert lambda_tasks
    for name, state in lambda_tasks:
        assert [r["ErrorEquals"] for r in state["Retry"]] == [LAMBDA_RETRY_ERRORS], name


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_service_tasks_never_retry_final_answers(workflow: str) -> None:
    for name, state in tasks(BUILDERS[workflow]()):
        if state["Resource"] == "arn:aws:states:::lambda:invoke":
            continue
        caught = {error for catcher in state.get("Catch", []) for error in catcher["ErrorEquals"]}
        final = caught & {CONDITIONAL_CHECK_FAILED, EXECUTION_ALREADY_EXISTS}
        retriers = state["Retry"]
        if final:
            assert retriers[0] == {"ErrorEquals": sorted(final), "MaxAttempts": 0}, name
        assert retriers[-1]["ErrorEquals"] == ["States.TaskFailed"], name


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_catchers_keep_the_original_input(workflow: str) -> None:
    for name, state in BUILDERS[workflow]()["States"].items():
        for catcher in state.get("Catch", []):
            assert catcher["ResultPath"].startswith("$.") and catcher["ResultPath"] != "$", name


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_every_event_is_an_order_event_with_the_correlation_fields(workflow: str) -> None:
    put_events = [s for _, s in tasks(BUILDERS[workflow]()) if s["Resource"] == "arn:aws:states:::events:putEvents"]
    assert put_events
    for state in put_events:
        (entry,) = state["Parameters"]["Entries"]
        assert entry["Source"] == routing.ORDER_EVENT_SOURCE
        assert entry["EventBusName"] == "orderflow"
        assert entry["DetailType"] in routing.ORDER_STATUS_DETAIL_TYPES
        assert {"orderId.$", "customerId.$", "correlationId.$"} <= set(entry["Detail"])


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"retry_interval_seconds": 0}, "interval_seconds"),
        ({"retry_backoff_rate": 0.5}, "backoff_rate"),
        ({"retry_max_attempts": -1}, "max_attempts"),
        ({"retry_max_delay_seconds": 0}, "max_delay_seconds"),
    ],
)
@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_bad_retry_settings_are_refused(workflow: str, kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        BUILDERS[workflow](**kwargs)


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_retry_settings_reach_every_backoff_retrier(workflow: str) -> None:
    definition = BUILDERS[workflow](
        retry_interval_seconds=2, retry_backoff_rate=3.0, retry_max_attempts=4, retry_max_delay_seconds=40
    )
    for name, state in tasks(definition):
        for retrier in (r for r in state["Retry"] if r.get("MaxAttempts") != 0):
            assert (retrier["IntervalSeconds"], retrier["BackoffRate"], retrier["MaxDelaySeconds"]) == (2, 3.0, 40)
            if name not in (FulfillmentStates.REFUND_PAYMENT, FulfillmentStates.RELEASE_INVENTORY):
                assert retrier["MaxAttempts"] == 4, name


@pytest.mark.parametrize("argument", sorted(CUSTOMER_STATUS_INPUTS))
def test_customer_status_refuses_an_empty_input_naming_it(argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        customer_status(**{argument: " "})


@pytest.mark.parametrize("argument", sorted(FULFILLMENT_INPUTS))
def test_fulfillment_refuses_an_empty_input_naming_it(argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        fulfillment(**{argument: ""})


# ---- customer-status -----------------------------------------------------------------------

CS = CustomerStatusStates


def test_customer_status_classifies_with_the_correlation_fields_only() -> None:
    state = customer_status()["States"][CS.CLASSIFY_CUSTOMER]

    assert state["Parameters"] == {
        "FunctionName": CUSTOMER_STATUS_INPUTS["customer_status_function_arn"],
        "Payload": {
            "orderId.$": "$.detail.orderId",
            "customerId.$": "$.detail.customerId",
            "correlationId.$": "$.detail.correlationId",
        },
    }
    assert state["ResultSelector"] == {"tier.$": "$.Payload.tier"}


def test_blocked_customers_are_rejected_and_others_accepted() -> None:
    definition = customer_status()
    choice = definition["States"][CS.CHECK_TIER]

    blocked, accepted = choice["Choices"]
    assert blocked == {"Variable": "$.classification.tier", "StringEquals": "BLOCKED", "Next": CS.MARK_REJECTED}
    assert sorted(rule["StringEquals"] for rule in accepted["Or"]) == ["NEW", "RETURNING", "VIP"]
    assert accepted["Next"] == CS.MARK_ACCEPTED
    assert "Default" not in choice
    assert path_from(definition, CS.MARK_REJECTED) == [CS.MARK_REJECTED, CS.PUT_ORDER_REJECTED, CS.REJECTED]
    assert path_from(definition, CS.MARK_ACCEPTED) == [
        CS.MARK_ACCEPTED,
        CS.START_FULFILLMENT,
        CS.PUT_ORDER_ACCEPTED,
        CS.ACCEPTED,
    ]


def test_rejection_only_moves_a_pending_order() -> None:
    parameters = customer_status()["States"][CS.MARK_REJECTED]["Parameters"]

    assert parameters["ConditionExpression"] == "#status = :from0"
    assert parameters["ExpressionAttributeValues"][":from0"] == {"S": "PENDING"}
    assert parameters["ExpressionAttributeValues"][":status"] == {"S": "REJECTED"}


def test_acceptance_lets_duplicates_through_but_never_overwrites_a_finished_order() -> None:
    parameters = customer_status()["States"][CS.MARK_ACCEPTED]["Parameters"]
    values = parameters["ExpressionAttributeValues"]

    assert parameters["ConditionExpression"] == "#status IN (:from0, :from1)"
    assert {values[":from0"]["S"], values[":from1"]["S"]} == {"PENDING", "ACCEPTED"}
    assert values[":tier"] == {"S.$": "$.classification.tier"}
    assert parameters["Key"] == {"orderId": {"S.$": "$.detail.orderId"}}


@pytest.mark.parametrize("state", [CS.MARK_REJECTED, CS.MARK_ACCEPTED])
def test_a_failed_condition_ends_as_an_ignored_duplicate(state: str) -> None:
    definition = customer_status()

    assert definition["States"][state]["Catch"] == [
        {"ErrorEquals": [CONDITIONAL_CHECK_FAILED], "ResultPath": "$.error", "Next": CS.DUPLICATE_IGNORED},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": CS.PARK_FOR_REDRIVE},
    ]
    assert definition["States"][CS.DUPLICATE_IGNORED]["Type"] == "Succeed"


def test_fulfillment_starts_once_per_order_and_a_duplicate_counts_as_success() -> None:
    definition = customer_status()
    state = definition["States"][CS.START_FULFILLMENT]

    assert state["Resource"] == "arn:aws:states:::states:startExecution"
    assert state["Parameters"] == {
        "StateMachineArn": CUSTOMER_STATUS_INPUTS["fulfillment_state_machine_arn"],
        "Name.$": "States.Format('order-{}', $.detail.orderId)",
        "Input.$": "States.JsonMerge($.detail, $.classification, false)",
    }
    assert state["Catch"] == [
        {"ErrorEquals": [EXECUTION_ALREADY_EXISTS], "ResultPath": "$.error", "Next": CS.ALREADY_FULFILLING},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": CS.PARK_FOR_REDRIVE},
    ]
    assert definition["States"][CS.ALREADY_FULFILLING] == {
        "Type": "Succeed",
        "Comment": definition["States"][CS.ALREADY_FULFILLING]["Comment"],
    }


def test_accepted_event_carries_the_tier_and_rejected_the_reason() -> None:
    states = customer_status()["States"]

    accepted = states[CS.PUT_ORDER_ACCEPTED]["Parameters"]["Entries"][0]
    rejected = states[CS.PUT_ORDER_REJECTED]["Parameters"]["Entries"][0]
    assert (accepted["DetailType"], accepted["Detail"]["tier.$"]) == ("OrderAccepted", "$.classification.tier")
    assert (rejected["DetailType"], rejected["Detail"]["reason"]) == ("OrderRejected", "CUSTOMER_BLOCKED")


# ---- fulfillment ---------------------------------------------------------------------------

F = FulfillmentStates


def test_forward_path_runs_in_contract_order() -> None:
    assert path_from(fulfillment(), F.RESERVE_INVENTORY) == [
        F.RESERVE_INVENTORY,
        F.KEEP_RESERVATION,
        F.PROCESS_PAYMENT,
        F.KEEP_PAYMENT,
        F.CREATE_SHIPMENT,
        F.KEEP_SHIPMENT,
        F.BUILD_RECEIPT,
        F.WRITE_RECEIPT,
        F.MARK_FULFILLED,
        F.PUT_ORDER_FULFILLED,
        F.FULFILLED,
    ]


@pytest.mark.parametrize(
    ("step", "keep", "result_key"),
    [
        (F.RESERVE_INVENTORY, F.KEEP_RESERVATION, "reservation"),
        (F.PROCESS_PAYMENT, F.KEEP_PAYMENT, "payment"),
        (F.CREATE_SHIPMENT, F.KEEP_SHIPMENT, "shipment"),
    ],
)
def test_each_step_gets_the_whole_state_and_its_bare_result_is_kept(step: str, keep: str, result_key: str) -> None:
    states = fulfillment()["States"]

    assert states[step]["Parameters"]["Payload.$"] == "$"
    assert states[step]["ResultPath"] == f"$.{result_key}"
    # lambda:invoke wraps the result in Payload; the Pass after it keeps only the function's own result.
    assert states[keep] == {
        "Type": "Pass",
        "InputPath": f"$.{result_key}.Payload",
        "ResultPath": f"$.{result_key}",
        "Next": states[keep]["Next"],
    }


def test_receipt_is_written_under_the_contract_key() -> None:
    states = fulfillment()["States"]
    receipt_key = "States.Format('receipts/{}/{}.json', $.customerId, $.orderId)"

    write = states[F.WRITE_RECEIPT]
    assert write["Resource"] == "arn:aws:states:::aws-sdk:s3:putObject"
    assert write["Parameters"]["Bucket"] == "receipts-bucket"
    assert write["Parameters"]["Key.$"] == receipt_key
    assert write["Parameters"]["Body.$"] == "States.JsonToString($.receipt)"
    assert {"orderId.$", "customerId.$", "correlationId.$", "payment.$", "shipment.$"} <= set(
        states[F.BUILD_RECEIPT]["Parameters"]
    )
    fulfilled = states[F.PUT_ORDER_FULFILLED]["Parameters"]["Entries"][0]["Detail"]
    assert fulfilled["receiptKey.$"] == receipt_key
    assert fulfilled["shipmentId.$"] == "$.shipment.shipmentId"


@pytest.mark.parametrize(
    ("state", "compensation_start"),
    [
        (F.RESERVE_INVENTORY, F.RELEASE_INVENTORY),
        (F.PROCESS_PAYMENT, F.REFUND_PAYMENT),
        (F.CREATE_SHIPMENT, F.REFUND_PAYMENT),
        (F.WRITE_RECEIPT, F.REFUND_PAYMENT),
        (F.MARK_FULFILLED, F.REFUND_PAYMENT),
    ],
)
def test_forward_failures_compensate_in_reverse(state: str, compensation_start: str) -> None:
    definition = fulfillment()

    assert definition["States"][state]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": compensation_start}
    ]
    assert path_from(definition, F.REFUND_PAYMENT) == [
        F.REFUND_PAYMENT,
        F.RELEASE_INVENTORY,
        F.MARK_FAILED,
        F.PUT_ORDER_FAILED,
        F.WAS_BUSINESS_FAILURE,
    ]


@pytest.mark.parametrize("state", [F.REFUND_PAYMENT, F.RELEASE_INVENTORY])
def test_a_compensation_that_still_fails_ends_in_fail(state: str) -> None:
    definition = fulfillment(compensation_max_attempts=7)
    compensation = definition["States"][state]

    assert compensation["Parameters"]["Payload.$"] == "$"
    assert compensation["ResultPath"] is None
    assert compensation["Retry"][0]["MaxAttempts"] == 7
    assert compensation["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.compensationError", "Next": F.COMPENSATION_FAILED}
    ]
    assert definition["States"][F.COMPENSATION_FAILED]["Type"] == "Fail"


def test_the_failed_order_is_recorded_with_the_error_name() -> None:
    states = fulfillment()["States"]

    parameters = states[F.MARK_FAILED]["Parameters"]
    assert parameters["ExpressionAttributeValues"][":status"] == {"S": "FAILED"}
    assert parameters["ExpressionAttributeValues"][":reason"] == {"S.$": "$.error.Error"}
    assert parameters["ExpressionAttributeValues"][":from0"] == {"S": "ACCEPTED"}
    failed = states[F.PUT_ORDER_FAILED]["Parameters"]["Entries"][0]
    assert failed["DetailType"] == "OrderFailed"
    assert (failed["Detail"]["reason.$"], failed["Detail"]["error.$"]) == ("$.error.Error", "$.error.Cause")
    for state in (F.MARK_FAILED, F.PUT_ORDER_FAILED):
        assert states[state]["Catch"][0]["Next"] == F.FAILURE_NOT_RECORDED
    assert states[F.FAILURE_NOT_RECORDED]["Type"] == "Fail"


def test_business_failures_succeed_and_anything_else_fails() -> None:
    states = fulfillment()["States"]
    choice = states[F.WAS_BUSINESS_FAILURE]

    (business,) = choice["Choices"]
    assert sorted(rule["StringEquals"] for rule in business["Or"]) == sorted(BUSINESS_ERRORS)
    assert {rule["Variable"] for rule in business["Or"]} == {"$.error.Error"}
    assert states[business["Next"]]["Type"] == "Succeed"
    assert states[choice["Default"]] | {"Comment": ""} == {
        "Type": "Fail",
        "Comment": "",
        "ErrorPath": "$.error.Error",
        "CausePath": "$.error.Cause",
    }


def test_a_fulfilled_order_is_never_compensated() -> None:
    states = fulfillment()["States"]

    assert states[F.MARK_FULFILLED]["Parameters"]["ExpressionAttributeValues"][":from0"] == {"S": "ACCEPTED"}
    assert states[F.PUT_ORDER_FULFILLED]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": F.FULFILLED_EVENT_NOT_PUBLISHED}
    ]
    assert states[F.FULFILLED_EVENT_NOT_PUBLISHED]["Type"] == "Fail"


def test_customer_status_parks_whatever_its_retries_leave_for_redrive() -> None:
    definition = customer_status()
    states = definition["States"]
    for name, state in states.items():
        if state["Type"] == "Task" and name != CS.PARK_FOR_REDRIVE:
            assert state["Catch"][-1] == {
                "ErrorEquals": ["States.ALL"],
                "ResultPath": "$.error",
                "Next": CS.PARK_FOR_REDRIVE,
            }, name
    park = states[CS.PARK_FOR_REDRIVE]
    assert park["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert park["Parameters"] == {"QueueUrl": CUSTOMER_STATUS_INPUTS["failure_queue_url"], "MessageBody.$": "$"}
    assert park["Next"] == CS.PARKED and states[CS.PARKED]["Type"] == "Fail"
    assert park["Catch"][0]["Next"] == CS.PARKING_FAILED and states[CS.PARKING_FAILED]["Type"] == "Fail"
