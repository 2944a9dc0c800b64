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
    CUSTOMER_BLOCKED,
    EXECUTION_ALREADY_EXISTS,
    FAILED_UNEXPECTEDLY_ERROR,
    FAILURE_REASONS,
    FULFILLMENT_ERROR,
    NEEDS_OPERATOR_ERROR,
    CustomerStatusStates,
    FulfillmentStates,
    ResumeStage,
    customer_status_definition,
    fulfillment_definition,
    fulfillment_steps_definition,
    resume_stage,
    worst_case_duration_seconds,
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
    "cancel_shipment_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:cancel",
    "refund_payment_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:refund",
    "release_inventory_function_arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:release",
    "orders_table_name": "orders",
    "event_bus_name": "orderflow",
    "receipts_bucket_name": "receipts-bucket",
}
PARENT_INPUTS = {
    "steps_state_machine_arn": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:fulfillment-steps",
    "orders_table_name": "orders",
    "attention_queue_url": f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/fulfillment-attention",
}
LAMBDA_RETRY_ERRORS = ["TransientDependencyError", *TRANSIENT_LAMBDA_ERRORS]


def customer_status(**overrides: Any) -> dict[str, Any]:
    return customer_status_definition(**{**CUSTOMER_STATUS_INPUTS, **overrides})


def fulfillment(**overrides: Any) -> dict[str, Any]:
    """The fulfillment steps (EXPRESS child): every step of the order."""
    return fulfillment_steps_definition(**{**FULFILLMENT_INPUTS, **overrides})


def parent(**overrides: Any) -> dict[str, Any]:
    """The fulfillment workflow (STANDARD parent): one execution per order, parking."""
    return fulfillment_definition(**{**PARENT_INPUTS, **overrides})


BUILDERS = {"customer-status": customer_status, "fulfillment-steps": fulfillment}
EXPRESS_BUILDERS = {"customer-status": customer_status, "fulfillment-steps": fulfillment}


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


COMPENSATIONS = (
    FulfillmentStates.CANCEL_SHIPMENT,
    FulfillmentStates.REFUND_PAYMENT,
    FulfillmentStates.RELEASE_INVENTORY,
)
RECOVERY_STATES = (
    FulfillmentStates.RUN_STEPS,
    FulfillmentStates.RESTART_STEPS,
    FulfillmentStates.PARK_FOR_OPERATOR,
    FulfillmentStates.MARK_FOR_ATTENTION,
)
"""Parent Tasks that must not give up easily: starting the steps, parking."""


@pytest.mark.parametrize("workflow", sorted(BUILDERS))
def test_retry_settings_reach_every_backoff_retrier(workflow: str) -> None:
    definition = BUILDERS[workflow](
        retry_interval_seconds=2, retry_backoff_rate=3.0, retry_max_attempts=4, retry_max_delay_seconds=40
    )
    for name, state in tasks(definition):
        for retrier in (r for r in state["Retry"] if r.get("MaxAttempts") != 0):
            assert (retrier["IntervalSeconds"], retrier["BackoffRate"]) == (2, 3.0)
            if name in RECOVERY_STATES:
                continue
            assert retrier["MaxDelaySeconds"] == 40, name
            if name not in (*COMPENSATIONS, CustomerStatusStates.PARK_FOR_REDRIVE):
                assert retrier["MaxAttempts"] == 4, name


def test_parking_for_redrive_outlasts_the_other_steps_within_the_express_limit() -> None:
    [retrier] = customer_status(parking_max_attempts=6)["States"][CustomerStatusStates.PARK_FOR_REDRIVE]["Retry"]

    assert (retrier["ErrorEquals"], retrier["MaxAttempts"]) == (["States.TaskFailed"], 6)
    # Worst case of the default: 8 retries waiting at most 1+2+4+8+16+20+20+20 s, well inside 5 minutes.
    [default] = customer_status()["States"][CustomerStatusStates.PARK_FOR_REDRIVE]["Retry"]
    waits = [
        min(default["IntervalSeconds"] * default["BackoffRate"] ** n, default["MaxDelaySeconds"]) for n in range(8)
    ]
    assert default["MaxAttempts"] == 8 and sum(waits) < 120


def test_recovery_settings_reach_the_steps_that_must_not_give_up() -> None:
    definition = parent(recovery_max_attempts=14, recovery_max_delay_seconds=600)

    recovering = {
        name
        for name, state in tasks(definition)
        if any(r.get("MaxAttempts") == 14 and r["MaxDelaySeconds"] == 600 for r in state["Retry"])
    }
    assert recovering == set(RECOVERY_STATES)


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [({"recovery_max_attempts": -1}, "max_attempts"), ({"recovery_max_delay_seconds": 0}, "max_delay")],
)
def test_bad_recovery_settings_are_refused(kwargs: dict[str, Any], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        parent(**kwargs)


@pytest.mark.parametrize("argument", sorted(CUSTOMER_STATUS_INPUTS))
def test_customer_status_refuses_an_empty_input_naming_it(argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        customer_status(**{argument: " "})


@pytest.mark.parametrize("argument", sorted(FULFILLMENT_INPUTS))
def test_fulfillment_refuses_an_empty_input_naming_it(argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        fulfillment(**{argument: ""})


@pytest.mark.parametrize("argument", sorted(PARENT_INPUTS))
def test_the_parent_refuses_an_empty_input_naming_it(argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        parent(**{argument: ""})


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
    assert path_from(definition, CS.MARK_REJECTED) == [CS.MARK_REJECTED, CS.PUT_ORDER_REJECTED, CS.REJECTED]
    assert path_from(definition, CS.MARK_ACCEPTED) == [
        CS.MARK_ACCEPTED,
        CS.START_FULFILLMENT,
        CS.PUT_ORDER_ACCEPTED,
        CS.ACCEPTED,
    ]


def test_a_tier_outside_the_contract_is_parked_instead_of_failing_the_execution() -> None:
    states = customer_status()["States"]

    assert states[CS.CHECK_TIER]["Default"] == CS.TIER_OUTSIDE_CONTRACT
    outside = states[CS.TIER_OUTSIDE_CONTRACT]
    assert (outside["Type"], outside["ResultPath"], outside["Next"]) == ("Pass", "$.error", CS.PARK_FOR_REDRIVE)
    assert outside["Parameters"]["Error"] == "UnknownTier"


def test_rejection_moves_a_pending_order_and_admits_its_own_retry() -> None:
    parameters = customer_status()["States"][CS.MARK_REJECTED]["Parameters"]
    values = parameters["ExpressionAttributeValues"]

    # A retry after a lost response finds REJECTED: that is success, not a duplicate to ignore.
    assert parameters["ConditionExpression"] == "#status IN (:status, :from0)"
    assert (values[":status"], values[":from0"]) == ({"S": "REJECTED"}, {"S": "PENDING"})
    assert (values[":reason"], values[":message"]) == ({"S": "CUSTOMER_BLOCKED"}, {"S": CUSTOMER_BLOCKED.message})


def test_acceptance_lets_duplicates_through_but_never_overwrites_a_finished_order() -> None:
    parameters = customer_status()["States"][CS.MARK_ACCEPTED]["Parameters"]
    values = parameters["ExpressionAttributeValues"]

    assert parameters["ConditionExpression"] == "#status IN (:status, :from0)"
    assert (values[":status"], values[":from0"]) == ({"S": "ACCEPTED"}, {"S": "PENDING"})
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
    # An existing execution is ours (a duplicate, or our own start whose response was lost): announce anyway.
    assert state["Catch"] == [
        {"ErrorEquals": [EXECUTION_ALREADY_EXISTS], "ResultPath": "$.error", "Next": CS.PUT_ORDER_ACCEPTED},
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.error", "Next": CS.PARK_FOR_REDRIVE},
    ]


def test_accepted_event_carries_the_tier_and_rejected_the_reason_and_message() -> None:
    states = customer_status()["States"]

    accepted = states[CS.PUT_ORDER_ACCEPTED]["Parameters"]["Entries"][0]
    rejected = states[CS.PUT_ORDER_REJECTED]["Parameters"]["Entries"][0]
    assert (accepted["DetailType"], accepted["Detail"]["tier.$"]) == ("OrderAccepted", "$.classification.tier")
    assert rejected["DetailType"] == "OrderRejected"
    assert (rejected["Detail"]["reason"], rejected["Detail"]["message"]) == (
        "CUSTOMER_BLOCKED",
        CUSTOMER_BLOCKED.message,
    )


# ---- fulfillment ---------------------------------------------------------------------------

F = FulfillmentStates


def test_forward_path_runs_in_contract_order() -> None:
    definition = fulfillment()
    assert path_from(definition, F.RESERVE_INVENTORY) == [
        F.RESERVE_INVENTORY,
        F.KEEP_RESERVATION,
        F.WAS_RESERVATION_RELEASED,
    ]
    assert definition["States"][F.WAS_RESERVATION_RELEASED]["Default"] == F.PROCESS_PAYMENT
    assert path_from(definition, F.PROCESS_PAYMENT) == [
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
        # Its response may have been lost after the carrier booked: cancel before refunding.
        (F.CREATE_SHIPMENT, F.CANCEL_SHIPMENT),
    ],
)
def test_failures_before_the_shipment_is_booked_compensate_in_reverse(state: str, compensation_start: str) -> None:
    definition = fulfillment()

    [catcher] = definition["States"][state]["Catch"]
    assert (catcher["ErrorEquals"], catcher["ResultPath"]) == (["States.ALL"], "$.error")
    # Through a guard: a restart that found the shipment booked never compensates it, and any other restart
    # compensates every step (it cannot know what an earlier run did).
    guard = definition["States"][catcher["Next"]]
    assert guard["Default"] == compensation_start
    assert guard["Choices"] == [
        {"Variable": "$.booked", "IsPresent": True, "Next": F.BOOKED_NEEDS_OPERATOR},
        {"Variable": "$.standing", "IsPresent": True, "Next": F.CANCEL_SHIPMENT},
    ]
    assert path_from(definition, F.CANCEL_SHIPMENT) == [
        F.CANCEL_SHIPMENT,
        F.REFUND_PAYMENT,
        F.RELEASE_INVENTORY,
        F.DESCRIBE_FAILURE,
    ]


@pytest.mark.parametrize("state", [F.WRITE_RECEIPT, F.MARK_FULFILLED, F.PUT_ORDER_FULFILLED])
def test_after_the_shipment_is_booked_the_workflow_only_recovers_forward(state: str) -> None:
    definition = fulfillment()
    states = definition["States"]

    assert states[state]["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.attention", "Next": F.NEEDS_OPERATOR}
    ]
    # Nothing reachable from the booked shipment refunds the payment or gives the stock back.
    reachable = reachable_from(definition, F.KEEP_SHIPMENT)
    assert not reachable & {F.CANCEL_SHIPMENT, F.REFUND_PAYMENT, F.RELEASE_INVENTORY, F.MARK_FAILED}
    assert reachable >= {F.FULFILLED, F.NEEDS_OPERATOR}


def reachable_from(definition: dict[str, Any], start: str) -> set[str]:
    """Every state reachable from ``start`` through Next, Default, Choices and Catch."""
    seen, pending = set(), [start]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        state = definition["States"][name]
        targets = [state.get("Next"), state.get("Default")]
        targets += [rule["Next"] for rule in state.get("Choices", []) + state.get("Catch", [])]
        pending.extend(target for target in targets if target)
    return seen


def test_status_transitions_admit_their_own_target_status() -> None:
    states = fulfillment()["States"]

    for state, status in ((F.MARK_FULFILLED, "FULFILLED"), (F.MARK_FAILED, "FAILED")):
        parameters = states[state]["Parameters"]
        values = parameters["ExpressionAttributeValues"]
        assert parameters["ConditionExpression"] == "#status IN (:status, :from0)", state
        assert (values[":status"], values[":from0"]) == ({"S": status}, {"S": "ACCEPTED"}), state


@pytest.mark.parametrize("state", [F.CANCEL_SHIPMENT, F.REFUND_PAYMENT, F.RELEASE_INVENTORY])
def test_a_compensation_that_still_fails_is_parked_for_an_operator(state: str) -> None:
    definition = fulfillment(compensation_max_attempts=7)
    compensation = definition["States"][state]

    assert compensation["Parameters"]["Payload.$"] == "$"
    assert compensation["ResultPath"] is None
    assert compensation["Retry"][0]["MaxAttempts"] == 7
    assert compensation["Catch"] == [
        {"ErrorEquals": ["States.ALL"], "ResultPath": "$.attention", "Next": F.NEEDS_OPERATOR}
    ]


def test_the_failed_order_is_recorded_with_a_customer_reason_never_the_raw_error() -> None:
    definition = fulfillment()
    states = definition["States"]

    describe = states[F.DESCRIBE_FAILURE]
    explained = {rule["StringEquals"]: states[rule["Next"]]["Result"] for rule in describe["Choices"]}
    assert explained == {
        error: {"reason": reason.code, "message": reason.message} for error, reason in FAILURE_REASONS.items()
    }
    assert {rule["Variable"] for rule in describe["Choices"]} == {"$.error.Error"}
    assert states[describe["Default"]]["Result"] == {
        "reason": FULFILLMENT_ERROR.code,
        "message": FULFILLMENT_ERROR.message,
    }
    parameters = states[F.MARK_FAILED]["Parameters"]["ExpressionAttributeValues"]
    assert (parameters[":reason"], parameters[":message"]) == (
        {"S.$": "$.failure.reason"},
        {"S.$": "$.failure.message"},
    )
    failed = states[F.PUT_ORDER_FAILED]["Parameters"]["Entries"][0]
    assert failed["DetailType"] == "OrderFailed"
    assert failed["Detail"] == {
        "orderId.$": "$.orderId",
        "customerId.$": "$.customerId",
        "correlationId.$": "$.correlationId",
        "reason.$": "$.failure.reason",
        "message.$": "$.failure.message",
    }
    assert "$.error.Cause" not in json.dumps([states[F.MARK_FAILED], states[F.PUT_ORDER_FAILED]])


def test_reason_codes_are_upper_snake_and_messages_short() -> None:
    for reason in (CUSTOMER_BLOCKED, FULFILLMENT_ERROR, *FAILURE_REASONS.values()):
        assert reason.code.isupper() and " " not in reason.code, reason
        assert 0 < len(reason.message) <= 200, reason


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
        "Error": FAILED_UNEXPECTEDLY_ERROR,
        "CausePath": "States.JsonToString($.error)",
    }


def test_recording_a_failure_is_parked_when_it_cannot_be_done() -> None:
    states = fulfillment()["States"]

    for state in (F.MARK_FAILED, F.PUT_ORDER_FAILED):
        assert states[state]["Catch"] == [
            {"ErrorEquals": ["States.ALL"], "ResultPath": "$.attention", "Next": F.NEEDS_OPERATOR}
        ], state


def test_a_step_left_for_an_operator_ends_the_run_with_its_whole_state_as_the_cause() -> None:
    assert fulfillment()["States"][F.NEEDS_OPERATOR] | {"Comment": ""} == {
        "Type": "Fail",
        "Comment": "",
        "Error": NEEDS_OPERATOR_ERROR,
        "CausePath": "States.JsonToString($)",
    }


def test_the_parent_runs_the_steps_once_and_ends_in_one_transition() -> None:
    run = parent()["States"][F.RUN_STEPS]

    assert parent()["StartAt"] == F.RUN_STEPS
    assert run["Resource"] == "arn:aws:states:::states:startExecution.sync:2"
    assert run["Parameters"] == {
        "StateMachineArn": PARENT_INPUTS["steps_state_machine_arn"],
        "Name.$": "States.Format('{}-{}', $$.Execution.Name, $$.State.RetryCount)",
        "Input.$": "$",
    }
    assert run["End"] is True and run["ResultPath"] is None
    # A failed run already retried its steps: only a refused start is retried.
    # Not a 5xx: that run may have started, and a second one beside it could compensate what the first booked.
    assert [r["ErrorEquals"] for r in run["Retry"]] == [
        ["StepFunctions.ExecutionLimitExceededException", "StepFunctions.ThrottlingException"]
    ]
    assert run["Catch"] == [{"ErrorEquals": ["States.ALL"], "ResultPath": "$.attention", "Next": F.HOW_STEPS_STOPPED}]


def test_the_parent_parks_a_run_s_state_restarts_a_run_that_says_nothing_and_never_parks_a_recorded_failure() -> None:
    states = parent()["States"]

    assert states[F.HOW_STEPS_STOPPED]["Choices"] == [
        {"Variable": "$.attention.Error", "StringEquals": "States.TaskFailed", "Next": F.READ_STOPPED_RUN}
    ]
    assert states[F.HOW_STEPS_STOPPED]["Default"] == F.MAY_RESTART
    why = states[F.WHY_STEPS_FAILED]
    assert why["Choices"][0] == {"Variable": "$.stopped.run.Error", "IsPresent": False, "Next": F.MAY_RESTART}
    assert {rule["StringEquals"]: rule["Next"] for rule in why["Choices"][1:]} == {
        NEEDS_OPERATOR_ERROR: F.PARK_STEPS_STATE,
        FAILED_UNEXPECTEDLY_ERROR: F.FAILED_UNEXPECTEDLY,
    }
    assert why["Default"] == F.MAY_RESTART
    assert states[F.KEEP_STEPS_STATE]["Parameters"] == {
        "state.$": "$.stopped.state",
        "error.$": "$.stopped.state.attention",
    }
    assert states[F.PARK_ORDER_INPUT]["Parameters"] == {"state.$": "$", "error.$": "$.attention"}
    assert states[F.FAILED_UNEXPECTEDLY]["Type"] == "Fail"


def test_a_stopped_run_is_waited_out_past_the_express_limit_then_restarted_for_a_bounded_number_of_rounds() -> None:
    states = parent(restart_rounds=3)["States"]

    may = states[F.MAY_RESTART]
    assert may["Choices"] == [
        {"Variable": "$.resume.round", "IsPresent": False, "Next": F.FIRST_RESTART},
        {"Variable": "$.resume.round", "NumericGreaterThanEquals": 3, "Next": F.PARK_ORDER_INPUT},
    ]
    assert may["Default"] == F.NEXT_RESTART
    assert states[F.FIRST_RESTART]["Result"] == {"stage": ResumeStage.RESTART, "round": 1}
    assert states[F.NEXT_RESTART]["Parameters"] == {
        "stage": ResumeStage.RESTART,
        "round.$": "States.MathAdd($.resume.round, 1)",
    }
    for counter in (F.FIRST_RESTART, F.NEXT_RESTART):
        assert states[counter]["ResultPath"] == "$.resume"
        assert states[counter]["Next"] == F.WAIT_OUT_STOPPED_RUN
    wait = states[F.WAIT_OUT_STOPPED_RUN]
    assert wait["Type"] == "Wait" and wait["Seconds"] > 300 and wait["Next"] == F.RESTART_STEPS
    restart, run = states[F.RESTART_STEPS], states[F.RUN_STEPS]
    # The same call as RunSteps under another name (an EXPRESS run's name says which round it was).
    assert restart["Parameters"]["Name.$"] == (
        "States.Format('{}-restart{}-{}', $$.Execution.Name, $.resume.round, $$.State.RetryCount)"
    )
    same = ("Resource", "TimeoutSeconds", "ResultPath", "Retry", "Catch", "End")
    assert {key: restart[key] for key in same} == {key: run[key] for key in same}
    assert restart["Parameters"]["Input.$"] == "$"


def test_a_restart_wait_shorter_than_the_express_limit_or_no_restart_round_is_refused() -> None:
    with pytest.raises(ValueError, match="restart_wait_seconds"):
        parent(restart_wait_seconds=299)
    with pytest.raises(ValueError, match="restart_rounds"):
        parent(restart_rounds=0)


def test_parking_sends_the_state_and_its_error_then_marks_the_order() -> None:
    states = parent()["States"]

    park = states[F.PARK_FOR_OPERATOR]
    assert park["Resource"] == "arn:aws:states:::sqs:sendMessage"
    assert park["Parameters"] == {
        "QueueUrl": PARENT_INPUTS["attention_queue_url"],
        "MessageBody": {
            "executionArn.$": "$$.Execution.Id",
            "orderId.$": "$.orderId",
            "error.$": "$.parked.error",
            "state.$": "$.parked.state",
        },
    }
    assert park["Next"] == F.MARK_FOR_ATTENTION
    assert park["Catch"][0]["Next"] == F.NOT_PARKED and states[F.NOT_PARKED]["Type"] == "Fail"
    mark = states[F.MARK_FOR_ATTENTION]
    assert mark["Resource"] == "arn:aws:states:::dynamodb:updateItem"
    assert mark["Parameters"]["ConditionExpression"] == "attribute_exists(orderId)"
    assert mark["Next"] == F.PARKED_FOR_OPERATOR
    # The queue already holds the order: a failed mark still ends as parked.
    assert mark["Catch"][0]["Next"] == F.PARKED_FOR_OPERATOR
    assert states[F.PARKED_FOR_OPERATOR] | {"Comment": ""} == {
        "Type": "Fail",
        "Comment": "",
        "ErrorPath": "$.parked.error.Error",
        "CausePath": "$.parked.error.Cause",
    }


@pytest.mark.parametrize(
    ("state", "stage"),
    [
        ({"orderId": "o", "shipment": {}, "error": {}}, ResumeStage.FINISH),
        ({"orderId": "o", "failure": {}, "error": {}}, ResumeStage.RECORD_FAILURE),
        ({"orderId": "o", "error": {}}, ResumeStage.COMPENSATE),
        ({"orderId": "o", "attention": {}}, ResumeStage.RESTART),
        ({"orderId": "o", "booked": True, "error": {}}, ResumeStage.RESTART),
    ],
)
def test_a_parked_state_resumes_where_it_stopped_and_a_bare_order_restarts(state: dict[str, Any], stage: str) -> None:
    assert resume_stage(state) == stage
    assert fulfillment()["States"][F.RESUME_AT_STAGE]["Choices"][0]["StringEquals"] in {
        ResumeStage.RESTART,
        ResumeStage.FINISH,
    }


@pytest.mark.parametrize("workflow", sorted(EXPRESS_BUILDERS))
def test_every_express_run_ends_within_the_five_minute_limit_even_if_every_attempt_times_out(workflow: str) -> None:
    # 300 s: the EXPRESS maximum duration (Step Functions quotas); every Task has TimeoutSeconds.
    assert worst_case_duration_seconds(EXPRESS_BUILDERS[workflow]()) < 300


def test_a_longer_task_timeout_would_break_the_limit_and_is_seen() -> None:
    assert worst_case_duration_seconds(fulfillment(task_timeout_seconds=15)) >= 300


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


# ---- the worst-case duration of a run (issue 20: the EXPRESS workflow's 5-minute limit) -----------------------


def _task(next_state: str | None = None, **fields: Any) -> dict[str, Any]:
    task: dict[str, Any] = {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke", **fields}
    return task | ({"Next": next_state} if next_state else {"End": True})


def test_a_task_lasts_its_timeout_per_attempt_plus_every_capped_wait() -> None:
    retry = {"ErrorEquals": ["States.ALL"], "IntervalSeconds": 2, "BackoffRate": 3.0, "MaxAttempts": 3}
    definition = {
        "StartAt": "A",
        "States": {"A": _task(TimeoutSeconds=10, Retry=[retry | {"MaxDelaySeconds": 5}])},
    }

    # 4 attempts of 10 s, waits 2, min(6, 5), min(18, 5).
    assert worst_case_duration_seconds(definition) == 4 * 10 + 2 + 5 + 5


def test_the_slowest_branch_and_the_catchers_path_count() -> None:
    definition = {
        "StartAt": "Pick",
        "States": {
            "Pick": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.x", "StringEquals": "a", "Next": "Fast"}],
                "Default": "Slow",
            },
            "Fast": _task(TimeoutSeconds=1),
            "Slow": _task("Done", TimeoutSeconds=5, Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Park"}]),
            "Park": _task(TimeoutSeconds=7, Retry=[{"ErrorEquals": ["States.ALL"], "MaxAttempts": 1}]),
            "Done": {"Type": "Succeed"},
        },
    }

    assert worst_case_duration_seconds(definition) == 5 + (2 * 7 + 1)


@pytest.mark.parametrize(
    ("states", "named"),
    [
        ({"A": _task()}, "Task 'A' has no TimeoutSeconds"),
        ({"A": {"Type": "Wait", "SecondsPath": "$.s", "End": True}}, "Wait 'A' has no Seconds"),
        ({"A": _task("A", TimeoutSeconds=1)}, "state 'A' is on a loop"),
        ({"A": {"Type": "Map", "End": True}}, "state 'A' is a Map"),
    ],
)
def test_an_unbounded_definition_is_refused_naming_the_state(states: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        worst_case_duration_seconds({"StartAt": "A", "States": states})


def test_a_restart_reads_the_order_first_and_only_an_unbooked_one_may_be_compensated() -> None:
    states = fulfillment()["States"]
    stages = {rule["StringEquals"]: rule["Next"] for rule in states[F.RESUME_AT_STAGE]["Choices"]}
    assert stages[ResumeStage.RESTART] == F.LOOK_UP_ORDER
    look_up = states[F.LOOK_UP_ORDER]
    assert look_up["Resource"] == "arn:aws:states:::dynamodb:getItem"
    assert look_up["Parameters"]["ConsistentRead"] is True
    assert look_up["Parameters"]["ExpressionAttributeNames"] == {"#shipment": "shipment", "#status": "status"}
    where = states[F.WHERE_ORDER_STANDS]
    # A failure an earlier run compensated and recorded ends the restart: never charged or shipped after it.
    assert where["Choices"][0] == {
        "And": [
            {"Variable": "$.standing.Item.status.S", "IsPresent": True},
            {"Variable": "$.standing.Item.status.S", "StringEquals": "FAILED"},
        ],
        "Next": F.ALREADY_FAILED,
    }
    assert states[F.ALREADY_FAILED]["Type"] == "Succeed"
    assert [(rule.get("IsPresent"), rule.get("StringEquals"), rule["Next"]) for rule in where["Choices"][1:]] == [
        (False, None, F.RESERVE_INVENTORY),
        (None, "BOOKED", F.ALREADY_BOOKED),
    ]
    # A reservation a compensation released first: finish failing it, unless the shipment is booked.
    released = states[F.WAS_RESERVATION_RELEASED]
    assert released["Choices"] == [
        {
            "And": [
                {"Variable": "$.booked", "IsPresent": False},
                {"Variable": "$.reservation.status", "StringEquals": "RELEASED"},
            ],
            "Next": F.INTERRUPTED,
        }
    ]
    assert released["Default"] == F.PROCESS_PAYMENT
    assert where["Default"] == F.INTERRUPTED and states[F.INTERRUPTED]["Next"] == F.CANCEL_SHIPMENT
    assert states[F.ALREADY_BOOKED] | {"Next": ""} == {
        "Type": "Pass",
        "Result": True,
        "ResultPath": "$.booked",
        "Next": "",
    }
    assert states[F.BOOKED_NEEDS_OPERATOR]["Next"] == F.NEEDS_OPERATOR
