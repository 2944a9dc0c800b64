"""components.asl.derive_policy_statements: exact least-privilege statements from Task states."""

from __future__ import annotations

from typing import Any

import pytest

from components.asl import AslPolicyError, derive_policy_statements
from orderflow.workflows import customer_status_definition, fulfillment_definition, fulfillment_steps_definition

REGION = "eu-west-1"
ACCOUNT = "123456789012"


def fn(name: str) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"


FULFILLMENT_ARN = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orderflow-dev-fulfillment"


def as_map(statements: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Action -> resources, asserting one action per statement."""
    result: dict[str, list[str]] = {}
    for statement in statements:
        assert statement["Effect"] == "Allow"
        assert len(statement["Action"]) == 1
        result[statement["Action"][0]] = statement["Resource"]
    return result


def machine(*tasks: dict[str, Any]) -> dict[str, Any]:
    """A linear machine of the given Task states (T0 → T1 → ...)."""
    states: dict[str, Any] = {}
    for index, state in enumerate(tasks):
        body = {"Type": "Task", "Retry": [{"ErrorEquals": ["States.TaskFailed"]}], **state}
        if index + 1 < len(tasks):
            body["Next"] = f"T{index + 1}"
        else:
            body["End"] = True
        states[f"T{index}"] = body
    return {"StartAt": "T0", "States": states}


def integration(resource: str, **parameters: Any) -> dict[str, Any]:
    return {"Resource": f"arn:aws:states:::{resource}", "Parameters": parameters}


def derive(definition: dict[str, Any]) -> dict[str, list[str]]:
    return as_map(derive_policy_statements(definition, region=REGION, account=ACCOUNT))


def conditions(definition: dict[str, Any]) -> dict[str, Any]:
    """Action -> Condition, for the statements that carry one."""
    return {
        statement["Action"][0]: statement["Condition"]
        for statement in derive_policy_statements(definition, region=REGION, account=ACCOUNT)
        if "Condition" in statement
    }


def queue_url(name: str) -> str:
    return f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{name}"


def fulfillment(**overrides: str) -> dict[str, Any]:
    names = {
        "reserve_inventory_function_arn": fn("reserve"),
        "process_payment_function_arn": fn("pay"),
        "create_shipment_function_arn": fn("ship"),
        "cancel_shipment_function_arn": fn("cancel"),
        "refund_payment_function_arn": fn("refund"),
        "release_inventory_function_arn": fn("release"),
        "orders_table_name": "orders-table",
        "event_bus_name": "orderflow-bus",
        "receipts_bucket_name": "orderflow-receipts",
    }
    return fulfillment_steps_definition(**(names | overrides))


# ---- the two real workflows ----------------------------------------------------------------


def test_customer_status_role_gets_exactly_what_it_calls() -> None:
    definition = customer_status_definition(
        customer_status_function_arn=fn("customer-status"),
        orders_table_name="orders-table",
        event_bus_name="orderflow-bus",
        fulfillment_state_machine_arn=FULFILLMENT_ARN,
        failure_queue_url=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/customer-status-failures",
    )

    assert derive(definition) == {
        "dynamodb:UpdateItem": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-table"],
        "events:PutEvents": [f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orderflow-bus"],
        "lambda:InvokeFunction": [fn("customer-status"), f"{fn('customer-status')}:*"],
        "sqs:SendMessage": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:customer-status-failures"],
        "states:StartExecution": [FULFILLMENT_ARN],
    }
    assert conditions(definition) == {
        "events:PutEvents": {
            "StringEquals": {
                "events:detail-type": ["OrderAccepted", "OrderRejected"],
                "events:source": ["orderflow.orders"],
            }
        }
    }


def test_fulfillment_role_gets_exactly_what_it_calls() -> None:
    names = ["reserve", "pay", "ship", "cancel", "refund", "release"]
    definition = fulfillment()

    assert derive(definition) == {
        # GetItem: a restart reads where the order stands.
        "dynamodb:GetItem": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-table"],
        "dynamodb:UpdateItem": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-table"],
        "events:PutEvents": [f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/orderflow-bus"],
        "lambda:InvokeFunction": sorted([fn(n) for n in names] + [f"{fn(n)}:*" for n in names]),
        # Only where receipts are written: the Key is States.Format('receipts/{}/{}.json', ...).
        "s3:PutObject": ["arn:aws:s3:::orderflow-receipts/receipts/*"],
    }
    assert conditions(definition) == {
        "events:PutEvents": {
            "StringEquals": {
                "events:detail-type": ["OrderFailed", "OrderFulfilled"],
                "events:source": ["orderflow.orders"],
            }
        }
    }


def test_the_fulfillment_parent_may_run_its_steps_synchronously_and_park_nothing_more() -> None:
    steps = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:orderflow-dev-fulfillment-steps"
    definition = fulfillment_definition(
        steps_state_machine_arn=steps, orders_table_name="orders-table", attention_queue_url=queue_url("attention")
    )
    # startExecution.sync:2, as the Step Functions IAM policies page lists for a synchronous nested workflow.
    rule = f"arn:aws:events:{REGION}:{ACCOUNT}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule"
    executions = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:orderflow-dev-fulfillment-steps:*"
    assert derive(definition) == {
        "dynamodb:UpdateItem": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/orders-table"],
        "events:DescribeRule": [rule],
        "events:PutRule": [rule],
        "events:PutTargets": [rule],
        "sqs:SendMessage": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:attention"],
        "states:DescribeExecution": [executions],
        "states:StartExecution": [steps],
        "states:StopExecution": [executions],
    }


def test_statements_never_use_wildcard_actions_and_are_sorted() -> None:
    definition = fulfillment(orders_table_name="orders", event_bus_name="bus", receipts_bucket_name="receipts-bucket")
    statements = derive_policy_statements(definition, region=REGION, account=ACCOUNT)

    actions = [action for statement in statements for action in statement["Action"]]
    assert actions == sorted(actions)
    assert all("*" not in action for action in actions)
    assert all(statement["Sid"].isalnum() for statement in statements)
    assert len({statement["Sid"] for statement in statements}) == len(statements)


# ---- each integration, resolved exactly ----------------------------------------------------

RESOLVED: list[tuple[str, dict[str, Any], dict[str, list[str]]]] = [
    (
        "lambda-by-name",
        integration("lambda:invoke", FunctionName="my-fn", Payload={}),
        {"lambda:InvokeFunction": [fn("my-fn"), f"{fn('my-fn')}:*"]},
    ),
    (
        "lambda-by-qualified-name",
        integration("lambda:invoke", FunctionName="my-fn:live"),
        {"lambda:InvokeFunction": [fn("my-fn"), f"{fn('my-fn')}:*"]},
    ),
    (
        "lambda-by-qualified-arn-in-another-region",
        integration("lambda:invoke", FunctionName=f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:far:7"),
        {
            "lambda:InvokeFunction": [
                f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:far",
                f"arn:aws:lambda:us-east-2:{ACCOUNT}:function:far:*",
            ]
        },
    ),
    (
        "lambda-by-partial-arn",
        integration("lambda:invoke", FunctionName="210987654321:function:theirs"),
        {
            "lambda:InvokeFunction": [
                f"arn:aws:lambda:{REGION}:210987654321:function:theirs",
                f"arn:aws:lambda:{REGION}:210987654321:function:theirs:*",
            ]
        },
    ),
    (
        "lambda-legacy-resource-arn",
        {"Resource": fn("legacy")},
        {"lambda:InvokeFunction": [fn("legacy"), f"{fn('legacy')}:*"]},
    ),
    (
        "dynamodb-table-arn-passes-through",
        integration("dynamodb:getItem", TableName=f"arn:aws:dynamodb:us-east-2:{ACCOUNT}:table/other", Key={}),
        {"dynamodb:GetItem": [f"arn:aws:dynamodb:us-east-2:{ACCOUNT}:table/other"]},
    ),
    (
        "events-default-bus-and-arn",
        integration(
            "events:putEvents",
            Entries=[
                {"Source": "a", "DetailType": "b", "Detail": {}},
                {
                    "EventBusName": f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/other",
                    "Source": "a",
                    "DetailType": "c",
                },
            ],
        ),
        {
            "events:PutEvents": [
                f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/default",
                f"arn:aws:events:{REGION}:{ACCOUNT}:event-bus/other",
            ]
        },
    ),
    (
        "s3-put-object",
        integration("aws-sdk:s3:putObject", Bucket="my-bucket", **{"Key.$": "$.key", "Body.$": "$.body"}),
        {"s3:PutObject": ["arn:aws:s3:::my-bucket/*"]},
    ),
    (
        "s3-put-object-static-key",
        integration("aws-sdk:s3:putObject", Bucket="my-bucket", Key="reports/daily.csv"),
        {"s3:PutObject": ["arn:aws:s3:::my-bucket/reports/daily.csv"]},
    ),
    (
        "s3-put-object-formatted-key",
        integration("aws-sdk:s3:putObject", Bucket="my-bucket", **{"Key.$": "States.Format('out/{}.json', $.id)"}),
        {"s3:PutObject": ["arn:aws:s3:::my-bucket/out/*"]},
    ),
    (
        "s3-put-object-formatted-key-without-prefix",
        integration("aws-sdk:s3:putObject", Bucket="my-bucket", **{"Key.$": "States.Format('{}/x', $.id)"}),
        {"s3:PutObject": ["arn:aws:s3:::my-bucket/*"]},
    ),
    (
        "s3-put-object-wildcard-in-static-key",
        integration("aws-sdk:s3:putObject", Bucket="my-bucket", Key="a*b"),
        {"s3:PutObject": ["arn:aws:s3:::my-bucket/*"]},
    ),
    (
        "sns-publish-optimised",
        integration("sns:publish", TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts", **{"Message.$": "$"}),
        {"sns:Publish": [f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"]},
    ),
    (
        "sns-publish-sdk",
        integration("aws-sdk:sns:publish", TopicArn=f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts.fifo", Message="m"),
        {"sns:Publish": [f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts.fifo"]},
    ),
    (
        "sqs-send-message",
        integration("sqs:sendMessage", QueueUrl=f"https://sqs.us-east-2.amazonaws.com/{ACCOUNT}/jobs", MessageBody="x"),
        {"sqs:SendMessage": [f"arn:aws:sqs:us-east-2:{ACCOUNT}:jobs"]},
    ),
    (
        "sqs-send-message-sdk-legacy-url",
        integration("aws-sdk:sqs:sendMessage", QueueUrl=f"https://{REGION}.queue.amazonaws.com/{ACCOUNT}/jobs"),
        {"sqs:SendMessage": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:jobs"]},
    ),
    (
        "start-execution",
        integration("states:startExecution", StateMachineArn=FULFILLMENT_ARN, **{"Input.$": "$"}),
        {"states:StartExecution": [FULFILLMENT_ARN]},
    ),
    (
        "jsonata-arguments",
        {"QueryLanguage": "JSONata", "Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"FunctionName": "j"}},
        {"lambda:InvokeFunction": [fn("j"), f"{fn('j')}:*"]},
    ),
]


@pytest.mark.parametrize(("task", "expected"), [c[1:] for c in RESOLVED], ids=[c[0] for c in RESOLVED])
def test_integration_resolves_to_exact_resources(task: dict[str, Any], expected: dict[str, list[str]]) -> None:
    assert derive(machine(task)) == expected


@pytest.mark.parametrize(
    ("verb", "action"),
    [("getItem", "GetItem"), ("putItem", "PutItem"), ("updateItem", "UpdateItem"), ("deleteItem", "DeleteItem")],
)
def test_each_dynamodb_item_action_maps_to_its_iam_action(verb: str, action: str) -> None:
    assert derive(machine(integration(f"dynamodb:{verb}", TableName="tbl1", Key={}))) == {
        f"dynamodb:{action}": [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/tbl1"]
    }


def test_put_events_is_conditioned_on_every_source_and_detail_type_put() -> None:
    definition = machine(
        integration("events:putEvents", Entries=[{"Source": "shop.orders", "DetailType": "Placed"}]),
        integration(
            "events:putEvents",
            Entries=[
                {"Source": "shop.orders", "DetailType": "Shipped"},
                {"Source": "shop.billing", "DetailType": "Invoiced", "EventBusName": "billing"},
            ],
        ),
    )

    assert conditions(definition) == {
        "events:PutEvents": {
            "StringEquals": {
                "events:detail-type": ["Invoiced", "Placed", "Shipped"],
                "events:source": ["shop.billing", "shop.orders"],
            }
        }
    }


def test_resources_merge_per_action_without_duplicates() -> None:
    definition = machine(
        integration("lambda:invoke", FunctionName="one"),
        integration("lambda:invoke", FunctionName=fn("one")),
        integration("lambda:invoke", FunctionName="two"),
        integration("dynamodb:putItem", TableName="tbl1"),
        integration("dynamodb:putItem", TableName="tbl2"),
    )
    statements = derive_policy_statements(definition, region=REGION, account=ACCOUNT)

    assert [s["Action"] for s in statements] == [["dynamodb:PutItem"], ["lambda:InvokeFunction"]]
    assert as_map(statements)["lambda:InvokeFunction"] == sorted(
        [fn("one"), f"{fn('one')}:*", fn("two"), f"{fn('two')}:*"]
    )
    assert len(as_map(statements)["dynamodb:PutItem"]) == 2


def test_tasks_inside_parallel_and_map_are_included() -> None:
    inner = machine(integration("lambda:invoke", FunctionName="inner"))
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {"Type": "Parallel", "Branches": [inner], "Next": "Each"},
            "Each": {
                "Type": "Map",
                "ItemProcessor": {
                    "StartAt": "Deep",
                    "States": {
                        "Deep": {
                            "Type": "Map",
                            "Iterator": machine(
                                integration(
                                    "sqs:sendMessage", QueueUrl=f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/q"
                                )
                            ),
                            "End": True,
                        }
                    },
                },
                "End": True,
            },
        },
    }

    assert derive(definition) == {
        "lambda:InvokeFunction": [fn("inner"), f"{fn('inner')}:*"],
        "sqs:SendMessage": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:q"],
    }


def test_a_definition_without_tasks_needs_no_statement() -> None:
    assert (
        derive_policy_statements(
            {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}, region=REGION, account=ACCOUNT
        )
        == []
    )


def test_partition_is_applied_to_built_arns() -> None:
    definition = machine(
        {"Resource": "arn:aws-cn:states:::dynamodb:putItem", "Parameters": {"TableName": "tbl1"}},
        {"Resource": "arn:aws-cn:states:::aws-sdk:s3:putObject", "Parameters": {"Bucket": "b-1"}},
    )
    statements = derive_policy_statements(definition, region="cn-north-1", account=ACCOUNT, partition="aws-cn")

    assert as_map(statements) == {
        "dynamodb:PutItem": [f"arn:aws-cn:dynamodb:cn-north-1:{ACCOUNT}:table/tbl1"],
        "s3:PutObject": ["arn:aws-cn:s3:::b-1/*"],
    }


# ---- what it refuses ------------------------------------------------------------------------

REFUSED: list[tuple[str, dict[str, Any], str]] = [
    ("unknown-optimised-integration", integration("dynamodb:query", TableName="t"), "'dynamodb:query' is not known"),
    (
        "unknown-sdk-integration",
        integration("aws-sdk:s3:getObject", Bucket="b-1"),
        "'aws-sdk:s3:getObject' is not known",
    ),
    ("callback-pattern", integration("lambda:invoke.waitForTaskToken", FunctionName="f"), "is not known"),
    (
        "sync-pattern",
        integration("states:startExecution.waitForTaskToken", StateMachineArn=FULFILLMENT_ARN),
        "is not known",
    ),
    ("activity", {"Resource": f"arn:aws:states:{REGION}:{ACCOUNT}:activity:work"}, "unsupported Task Resource"),
    ("jsonpath-function", integration("lambda:invoke", **{"FunctionName.$": "$.fn"}), "FunctionName is a JSONPath"),
    ("jsonpath-table", integration("dynamodb:putItem", **{"TableName.$": "$.t"}), "TableName is a JSONPath"),
    ("jsonpath-bucket", integration("aws-sdk:s3:putObject", **{"Bucket.$": "$.b"}), "Bucket is a JSONPath"),
    ("jsonpath-entries", integration("events:putEvents", **{"Entries.$": "$.e"}), "Entries is a JSONPath"),
    (
        "jsonpath-bus",
        integration("events:putEvents", Entries=[{"Source": "s"}, {"EventBusName.$": "$.bus"}]),
        "Entries[1].EventBusName is a JSONPath",
    ),
    (
        "jsonpath-event-source",
        integration("events:putEvents", Entries=[{"DetailType": "d", "Source.$": "$.source"}]),
        "Entries[0].Source is a JSONPath",
    ),
    (
        "event-without-detail-type",
        integration("events:putEvents", Entries=[{"Source": "s", "DetailType": "d"}, {"Source": "s"}]),
        "Entries[1].DetailType is required",
    ),
    (
        "jsonpath-state-machine",
        integration("states:startExecution", **{"StateMachineArn.$": "$.m"}),
        "StateMachineArn is a JSONPath",
    ),
    ("jsonpath-topic", integration("sns:publish", **{"TopicArn.$": "$.t"}), "TopicArn is a JSONPath"),
    ("jsonpath-queue", integration("sqs:sendMessage", **{"QueueUrl.$": "$.q"}), "QueueUrl is a JSONPath"),
    (
        "jsonata-function",
        {"Resource": "arn:aws:states:::lambda:invoke", "Arguments": {"FunctionName": "{% $states.input.fn %}"}},
        "FunctionName is a JSONata expression",
    ),
    ("missing-function", integration("lambda:invoke", Payload={}), "FunctionName is required"),
    ("missing-table", integration("dynamodb:updateItem", Key={}), "TableName is required"),
    ("empty-entries", integration("events:putEvents", Entries=[]), "Entries must be a non-empty list"),
    ("bad-function", integration("lambda:invoke", FunctionName="has spaces"), "not a function name or ARN"),
    ("bad-table", integration("dynamodb:putItem", TableName="x"), "not a DynamoDB table name or ARN"),
    (
        "bad-state-machine",
        integration("states:startExecution", StateMachineArn="fulfillment"),
        "not a state machine ARN",
    ),
    ("bad-bucket", integration("aws-sdk:s3:putObject", Bucket="Not_A_Bucket"), "not an S3 bucket name"),
    ("bad-topic", integration("sns:publish", TopicArn="alerts"), "not an SNS topic ARN"),
    ("sns-target-arn", integration("sns:publish", TargetArn="arn:aws:sns:x"), "with TargetArn is not supported"),
    ("bad-queue-url", integration("sqs:sendMessage", QueueUrl="jobs"), "not an SQS queue URL"),
    ("credentials", {**integration("lambda:invoke", FunctionName="f"), "Credentials": {"RoleArn": "r"}}, "Credentials"),
    (
        "other-partition",
        {"Resource": "arn:aws-cn:states:::lambda:invoke", "Parameters": {"FunctionName": "f"}},
        "partition",
    ),
    ("no-resource", {"Parameters": {}}, "Task has no Resource"),
]


@pytest.mark.parametrize(("task", "problem"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refuses_what_it_cannot_bound_naming_the_state(task: dict[str, Any], problem: str) -> None:
    definition = machine(integration("lambda:invoke", FunctionName="fine"), task)

    with pytest.raises(AslPolicyError) as caught:
        derive_policy_statements(definition, region=REGION, account=ACCOUNT)

    assert caught.value.state == "T1"
    assert problem in str(caught.value)
    assert str(caught.value).startswith("T1: ")


def test_refusal_inside_a_branch_names_the_nested_state() -> None:
    definition = {
        "StartAt": "Fan",
        "States": {
            "Fan": {
                "Type": "Parallel",
                "Branches": [machine(integration("dynamodb:scan", TableName="tbl1"))],
                "End": True,
            }
        },
    }
    with pytest.raises(AslPolicyError) as caught:
        derive_policy_statements(definition, region=REGION, account=ACCOUNT)

    assert caught.value.state == "Fan.Branches[0].T0"


@pytest.mark.parametrize(
    ("kwargs", "argument"),
    [
        ({"region": "", "account": ACCOUNT}, "region"),
        ({"region": REGION, "account": "12345"}, "account"),
        ({"region": REGION, "account": ACCOUNT, "partition": ""}, "partition"),
    ],
)
def test_rejects_bad_account_context(kwargs: dict[str, str], argument: str) -> None:
    with pytest.raises(ValueError, match=argument):
        derive_policy_statements(machine(integration("lambda:invoke", FunctionName="f")), **kwargs)


# ---- partitions ------------------------------------------------------------------------------


def task_resources(definition: dict[str, Any]) -> set[str]:
    return {state["Resource"] for state in definition["States"].values() if state["Type"] == "Task"}


def test_the_workflows_call_the_integrations_of_the_commercial_partition_by_default() -> None:
    assert task_resources(fulfillment()) == {
        "arn:aws:states:::lambda:invoke",
        "arn:aws:states:::dynamodb:getItem",
        "arn:aws:states:::dynamodb:updateItem",
        "arn:aws:states:::events:putEvents",
        "arn:aws:states:::aws-sdk:s3:putObject",
    }


@pytest.mark.parametrize(
    ("partition", "region", "dns_suffix"),
    [("aws-cn", "cn-north-1", "amazonaws.com.cn"), ("aws-us-gov", "us-gov-west-1", "amazonaws.com")],
)
def test_a_build_for_another_partition_calls_and_is_granted_that_partitions_integrations(
    partition: str, region: str, dns_suffix: str
) -> None:
    def arn(service: str, resource: str) -> str:
        return f"arn:{partition}:{service}:{region}:{ACCOUNT}:{resource}"

    machine_arn = arn("states", "stateMachine:orderflow-dev-fulfillment")
    customer_status = customer_status_definition(
        customer_status_function_arn=arn("lambda", "function:customer-status"),
        orders_table_name="orders-table",
        event_bus_name="orderflow-bus",
        fulfillment_state_machine_arn=machine_arn,
        failure_queue_url=f"https://sqs.{region}.{dns_suffix}/{ACCOUNT}/customer-status-failures",
        partition=partition,
    )
    fulfilment = fulfillment(
        **{
            key: arn("lambda", f"function:{key}")
            for key in ("reserve_inventory_function_arn", "refund_payment_function_arn")
        },
        partition=partition,
    )

    assert task_resources(customer_status) == {
        f"arn:{partition}:states:::lambda:invoke",
        f"arn:{partition}:states:::dynamodb:updateItem",
        f"arn:{partition}:states:::events:putEvents",
        f"arn:{partition}:states:::states:startExecution",
        f"arn:{partition}:states:::sqs:sendMessage",
    }
    assert f"arn:{partition}:states:::aws-sdk:s3:putObject" in task_resources(fulfilment)
    granted = as_map(derive_policy_statements(customer_status, region=region, account=ACCOUNT, partition=partition))
    assert granted == {
        "dynamodb:UpdateItem": [arn("dynamodb", "table/orders-table")],
        "events:PutEvents": [arn("events", "event-bus/orderflow-bus")],
        "lambda:InvokeFunction": [
            arn("lambda", "function:customer-status"),
            arn("lambda", "function:customer-status:*"),
        ],
        "sqs:SendMessage": [arn("sqs", "customer-status-failures")],
        "states:StartExecution": [machine_arn],
    }
    # A definition built for one partition is refused by the derivation for another.
    with pytest.raises(AslPolicyError, match=f"Resource partition '{partition}' is not 'aws'"):
        derive_policy_statements(customer_status, region=REGION, account=ACCOUNT)
