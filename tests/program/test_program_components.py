"""How the program composes its components: what it passes them, read from what it registers for dev and prod."""

from __future__ import annotations

import json

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from offline.recording import ProgramRun
from orderflow import routing
from tests.program.recorded import as_list, document, statements

FUNCTION = "aws:lambda/function:Function"
QUEUE = "aws:sqs/queue:Queue"


RESERVED_KEYS = ("reservedConcurrency", "apiReservedConcurrency")


def config_int(run: ProgramRun, key: str) -> int:
    return int(run.config[f"orderflow:{key}"])


# ---- Function -----------------------------------------------------------------------------------
def test_functions_are_current_arm64_traced_json_logged_and_bounded(stack_run: ProgramRun) -> None:
    functions = stack_run.of_type(FUNCTION)
    assert len(functions) == 12
    for fn in functions:
        inputs = fn.inputs
        assert inputs["runtime"] == "python3.13", fn.name
        assert inputs["architectures"] == ["arm64"], fn.name
        assert inputs["tracingConfig"] == {"mode": "Active"}, fn.name
        assert inputs["loggingConfig"]["logFormat"] == "JSON", fn.name
        assert inputs["memorySize"] > 0 and inputs["timeout"] > 0, fn.name
        # The ceilings are set where the stack sets them, and left to the account's pool where it does not.
        # (0, Pulumi.yaml's default, reserves none.)
        ceilings = {config_int(stack_run, key) for key in RESERVED_KEYS if f"orderflow:{key}" in stack_run.config} - {0}
        if ceilings:
            assert inputs["reservedConcurrentExecutions"] in ceilings, fn.name
        else:
            assert "reservedConcurrentExecutions" not in inputs, fn.name
        assert inputs["layers"][0] == stack_run.named("powertools-layer").outputs["arn"]
        assert inputs["handler"].endswith(".app.lambda_handler")


def test_each_function_has_its_own_log_group_named_after_it(stack_run: ProgramRun) -> None:
    for fn in stack_run.of_type(FUNCTION):
        component = stack_run.by_urn(fn.parent)
        (log_group,) = [c for c in stack_run.children(component.urn) if c.type == "aws:cloudwatch/logGroup:LogGroup"]
        assert log_group.inputs["name"] == f"/aws/lambda/{fn.inputs['name']}"
        assert fn.inputs["loggingConfig"]["logGroup"] == log_group.inputs["name"]
        assert log_group.inputs["retentionInDays"] == config_int(stack_run, "logRetentionDays")
        assert log_group.urn in fn.dependencies


def test_each_function_has_its_own_execution_role(stack_run: ProgramRun) -> None:
    roles = [fn.inputs["role"] for fn in stack_run.of_type(FUNCTION)]
    assert len(set(roles)) == len(roles)
    for fn in stack_run.of_type(FUNCTION):
        (role,) = [r for r in stack_run.of_type("aws:iam/role:Role") if r.outputs["arn"] == fn.inputs["role"]]
        (trust,) = statements(role.inputs["assumeRolePolicy"])
        assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}


def test_async_function_has_bounded_retries_and_an_on_failure_destination(stack_run: ProgramRun) -> None:
    (config,) = stack_run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")
    assert config.inputs["functionName"].endswith("-notify")
    assert config.inputs["maximumRetryAttempts"] <= 2
    assert config.inputs["maximumEventAgeInSeconds"] <= 21600
    destination = config.inputs["destinationConfig"]["onFailure"]["destination"]
    assert stack_run.find_by_output("arn", destination).type == QUEUE
    (policy,) = [p for p in stack_run.of_type("aws:iam/rolePolicy:RolePolicy") if p.name == "notify-policy"]
    sends = [s for s in statements(policy.inputs["policy"]) if s["Action"] == "sqs:SendMessage"]
    assert sends and sends[0]["Resource"] == destination


# ---- Queue --------------------------------------------------------------------------------------
def test_audit_queue_redrives_to_its_own_dlq(stack_run: ProgramRun) -> None:
    queue = stack_run.named("order-audit-queue", QUEUE)
    dead_letter = stack_run.named("order-audit-dlq", QUEUE)
    redrive = document(queue.inputs["redrivePolicy"])
    assert redrive["deadLetterTargetArn"] == dead_letter.outputs["arn"]
    assert redrive["maxReceiveCount"] == config_int(stack_run, "queueMaxReceiveCount")
    assert dead_letter.inputs["messageRetentionSeconds"] >= queue.inputs["messageRetentionSeconds"]
    assert "redrivePolicy" not in dead_letter.inputs  # a DLQ needs no DLQ of its own


def test_consumed_queue_visibility_is_derived_from_the_consumer_timeout(stack_run: ProgramRun) -> None:
    queue = stack_run.named("order-audit-queue", QUEUE)
    (mapping,) = stack_run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping")
    consumer = stack_run.find_by_output("arn", mapping.inputs["functionName"])
    assert consumer is not None and consumer.name == "audit-function"
    window = mapping.inputs["maximumBatchingWindowInSeconds"]
    assert queue.inputs["visibilityTimeoutSeconds"] == 6 * consumer.inputs["timeout"] + window
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["scalingConfig"]["maximumConcurrency"] == config_int(stack_run, "queueConsumerMaxConcurrency")
    assert mapping.inputs["eventSourceArn"] == queue.outputs["arn"]


def test_every_queue_is_encrypted_and_tls_only(stack_run: ProgramRun) -> None:
    policies = {p.inputs["queueUrl"]: p for p in stack_run.of_type("aws:sqs/queuePolicy:QueuePolicy")}
    for queue in stack_run.of_type(QUEUE):
        assert queue.inputs["sqsManagedSseEnabled"] is True, queue.name
        deny = statements(policies[queue.outputs["url"]].inputs["policy"])[0]
        assert deny["Effect"] == "Deny"
        assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


# ---- Topic --------------------------------------------------------------------------------------
def test_every_subscription_redrives_to_a_dlq_the_topic_may_write(prod: ProgramRun) -> None:
    subscriptions = prod.of_type("aws:sns/topicSubscription:TopicSubscription")
    assert subscriptions, "prod subscribes operators to notices and alarms"
    policies = {p.inputs["queueUrl"]: p for p in prod.of_type("aws:sqs/queuePolicy:QueuePolicy")}
    for subscription in subscriptions:
        dead_letter = prod.find_by_output("arn", document(subscription.inputs["redrivePolicy"])["deadLetterTargetArn"])
        assert dead_letter is not None and dead_letter.type == QUEUE
        allow = statements(policies[dead_letter.outputs["url"]].inputs["policy"])[1]
        assert allow["Principal"] == {"Service": "sns.amazonaws.com"}
        assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == subscription.inputs["topic"]


def test_the_operators_e_mail_gets_alarm_digests_only_and_only_aws_services_of_this_stack_publish(
    prod: ProgramRun,
) -> None:
    email = prod.named("operators-notices-email")
    assert email.inputs["protocol"] == "email"
    assert email.inputs["filterPolicyScope"] == "MessageBody"
    assert document(email.inputs["filterPolicy"]) == {"AlarmName": [{"exists": True}]}
    topic = prod.named("operators-notices-topic")
    # EventBridge and CloudWatch cannot publish to a topic under the AWS-managed key.
    assert topic.inputs.get("kmsMasterKeyId") is None
    policy = next(p for p in prod.of_type("aws:sns/topicPolicy:TopicPolicy") if p.inputs["arn"] == topic.outputs["arn"])
    allows = [statement for statement in statements(policy.inputs["policy"]) if statement["Effect"] == "Allow"]
    assert sorted(statement["Principal"]["Service"] for statement in allows) == [
        "cloudwatch.amazonaws.com",
        "events.amazonaws.com",
    ]
    rule = next(r for r in prod.of_type("aws:cloudwatch/eventRule:EventRule") if "operator-failures" in r.name)
    events = next(s for s in allows if s["Principal"]["Service"] == "events.amazonaws.com")
    assert events["Condition"]["ArnEquals"]["aws:SourceArn"] == rule.outputs["arn"]


# ---- Table and bucket ---------------------------------------------------------------------------
def test_tables_are_on_demand_recoverable_encrypted_with_ttl(stack_run: ProgramRun) -> None:
    tables = stack_run.of_type("aws:dynamodb/table:Table")
    assert {t.name for t in tables} == {
        f"{n}-table" for n in ("orders", "timeline", "inventory", "payments", "idempotency")
    }
    protected = stack_run.config["orderflow:deletionProtection"] == "true"
    for table in tables:
        assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
        assert table.inputs["serverSideEncryption"] == {"enabled": True}
        assert table.inputs["ttl"]["enabled"] is True
        assert table.inputs["deletionProtectionEnabled"] is protected
    orders = stack_run.named("orders-table")
    assert orders.inputs["globalSecondaryIndexes"][0]["name"] == "byCustomer"


def test_inventory_is_seeded_from_the_catalogue(stack_run: ProgramRun) -> None:
    catalogue = json.loads(
        (__import__("pathlib").Path(__file__).parents[2] / "handlers/shared/catalogue.json").read_text()
    )
    items = [document(i.inputs["item"]) for i in stack_run.of_type("aws:dynamodb/tableItem:TableItem")]
    assert {i["pk"]["S"] for i in items} == {f"SKU#{p['sku']}" for p in catalogue}


# ---- Event bus ----------------------------------------------------------------------------------
def test_bus_has_bounded_archive_and_no_open_policy(stack_run: ProgramRun) -> None:
    archive = stack_run.named("orders-archive")
    assert archive.inputs["retentionDays"] == config_int(stack_run, "archiveRetentionDays")
    policy = statements(stack_run.named("orders-policy").inputs["policy"])
    for statement in [s for s in policy if s["Effect"] == "Allow"]:
        assert statement["Principal"] != "*" and statement["Principal"].get("AWS") != "*"
    # Whoever puts them, the order system's detail-types carry its source or are refused.
    [deny] = [s for s in policy if s["Effect"] == "Deny" and "events:detail-type" in s["Condition"]["StringEquals"]]
    assert (deny["Principal"], deny["Action"]) == ("*", "events:PutEvents")
    assert deny["Condition"] == {
        "StringEquals": {
            "events:detail-type": sorted(
                ["OrderPlaced", "OrderAccepted", "OrderRejected", "OrderFulfilled", "OrderFailed"]
            )
        },
        "StringNotEquals": {"events:source": "orderflow.orders"},
    }


def test_the_deployed_rules_are_the_routing_table(stack_run: ProgramRun) -> None:
    bus_name = stack_run.named("orders-bus").inputs["name"]
    bucket_name = stack_run.named("receipts-bucket").outputs["bucket"]
    deployed = {
        rule.inputs["name"]: (rule.inputs["eventBusName"], document(rule.inputs["eventPattern"]))
        for rule in stack_run.of_type("aws:cloudwatch/eventRule:EventRule")
    }
    assert deployed == {
        f"{bus_name}-{rule.name}": (bus_name if rule.bus == routing.CUSTOM_BUS else "default", rule.pattern)
        for rule in routing.routing_rules(bucket_name)
    }
    for rule in routing.routing_rules(bucket_name):
        if rule.bus == routing.CUSTOM_BUS:
            assert stack_run.named(f"orders-{rule.name}-rule").inputs["description"] == rule.description


def test_lambda_targets_are_invokable_only_by_their_rule(stack_run: ProgramRun) -> None:
    rule_arns = {r.outputs["arn"] for r in stack_run.of_type("aws:cloudwatch/eventRule:EventRule")}
    event_permissions = [
        p
        for p in stack_run.of_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "events.amazonaws.com"
    ]
    assert len(event_permissions) == 2
    assert all(p.inputs["sourceArn"] in rule_arns for p in event_permissions)


def test_audit_queue_accepts_only_the_audit_rule(stack_run: ProgramRun) -> None:
    queue = stack_run.named("order-audit-queue", QUEUE)
    (policy,) = [
        p for p in stack_run.of_type("aws:sqs/queuePolicy:QueuePolicy") if p.inputs["queueUrl"] == queue.outputs["url"]
    ]
    allow = statements(policy.inputs["policy"])[1]
    audit_rule = stack_run.named("orders-audit-rule")
    # The planned ARN the queue was given equals the ARN the rule really gets.
    assert allow["Condition"]["ArnEquals"]["aws:SourceArn"] == audit_rule.outputs["arn"]


def test_s3_events_are_forwarded_from_the_default_bus(stack_run: ProgramRun) -> None:
    forward = stack_run.named("orders-forward-receipts-rule")
    assert "eventBusName" not in forward.inputs or forward.inputs["eventBusName"] == "default"
    pattern = document(forward.inputs["eventPattern"])
    assert pattern["source"] == ["aws.s3"]
    assert pattern["detail"]["bucket"]["name"] == [stack_run.named("receipts-bucket").outputs["bucket"]]
    (target,) = [
        t
        for t in stack_run.of_type("aws:cloudwatch/eventTarget:EventTarget")
        if t.inputs["rule"] == forward.inputs["name"]
    ]
    assert target.inputs["arn"] == stack_run.named("orders-bus").outputs["arn"]
    assert target.inputs["roleArn"] == stack_run.named("orders-invoke-role").outputs["arn"]


# ---- Workflows ----------------------------------------------------------------------------------
def test_workflows_are_logged_traced_and_valid(stack_run: ProgramRun) -> None:
    machines = {m.name: m for m in stack_run.of_type("aws:sfn/stateMachine:StateMachine")}
    assert machines["customer-status-workflow-state-machine"].inputs["type"] == "EXPRESS"
    assert machines["fulfillment-state-machine"].inputs["type"] == "STANDARD"
    for machine in machines.values():
        # The Workflow component validated its graph; the deployed document must also parse as ASL, by another parser.
        AmazonStateLanguageParser.parse(machine.inputs["definition"])
        assert machine.inputs["tracingConfiguration"] == {"enabled": True}
        logging = machine.inputs["loggingConfiguration"]
        log_group = stack_run.find_by_output("arn", logging["logDestination"].removesuffix(":*"))
        assert log_group is not None and log_group.inputs["retentionInDays"] == config_int(
            stack_run, "logRetentionDays"
        )
        assert logging["includeExecutionData"] is True


def test_workflow_roles_allow_exactly_what_the_definitions_call(stack_run: ProgramRun) -> None:
    role_policy = stack_run.named("customer-status-workflow-policy").inputs["policy"]
    granted = {a: as_list(s["Resource"]) for s in statements(role_policy) for a in as_list(s["Action"])}
    fulfillment = stack_run.named("fulfillment-state-machine").outputs["arn"]
    assert granted["states:StartExecution"] == [fulfillment]
    assert "lambda:InvokeFunction" in granted
    assert all(r != "*" for a, rs in granted.items() if not a.startswith(("logs:", "xray:")) for r in rs)


# ---- API, identity, realtime --------------------------------------------------------------------
def test_every_route_requires_a_jwt(stack_run: ProgramRun) -> None:
    routes = stack_run.of_type("aws:apigatewayv2/route:Route")
    assert {r.inputs["routeKey"] for r in routes} == {
        "POST /orders",
        "GET /orders",
        "GET /orders/{orderId}",
        "GET /orders/{orderId}/receipt",
    }
    (authorizer,) = stack_run.of_type("aws:apigatewayv2/authorizer:Authorizer")
    assert authorizer.inputs["authorizerType"] == "JWT"
    assert authorizer.inputs["jwtConfiguration"]["audiences"] == [stack_run.outputs["userPoolClientId"]]
    for route in routes:
        assert route.inputs["authorizationType"] == "JWT"
        assert route.inputs["authorizerId"] == authorizer.id


def test_api_stage_is_throttled_logged_and_cors_limited(stack_run: ProgramRun) -> None:
    (stage,) = stack_run.of_type("aws:apigatewayv2/stage:Stage")
    settings = stage.inputs["defaultRouteSettings"]
    assert settings["throttlingBurstLimit"] == config_int(stack_run, "apiThrottleBurst")
    assert settings["throttlingRateLimit"] == float(stack_run.config["orderflow:apiThrottleRate"])
    assert json.loads(stage.inputs["accessLogSettings"]["format"])["requestId"] == "$context.requestId"
    (api,) = stack_run.of_type("aws:apigatewayv2/api:Api")
    assert api.inputs["corsConfiguration"]["allowOrigins"] == json.loads(stack_run.config["orderflow:allowedOrigins"])
    api_permissions = [
        p
        for p in stack_run.of_type("aws:lambda/permission:Permission")
        if p.inputs["principal"] == "apigateway.amazonaws.com"
    ]
    assert {p.inputs["sourceArn"].split("/*/", 1)[1] for p in api_permissions} == {
        "POST/orders",
        "GET/orders",
        "GET/orders/*",
        "GET/orders/*/receipt",
    }


def test_realtime_channel_authorizes_with_the_authorizer_function(stack_run: ProgramRun) -> None:
    (authorizer,) = stack_run.of_type("aws:iot/authorizer:Authorizer")
    function = stack_run.find_by_output("arn", authorizer.inputs["authorizerFunctionArn"])
    assert function is not None and function.name == "realtime-authorizer-function"
    assert authorizer.inputs["status"] == "ACTIVE"
    publish = [s for s in statements(stack_run.named("notify-policy").inputs["policy"]) if s["Action"] == "iot:Publish"]
    assert publish[0]["Resource"] == f"arn:aws:iot:{stack_run.config['aws:region']}:123456789012:topic/orders/*"


def test_no_unauthenticated_identities(stack_run: ProgramRun) -> None:
    assert stack_run.of_type("aws:cognito/identityPool:IdentityPool") == []
    (client,) = stack_run.of_type("aws:cognito/userPoolClient:UserPoolClient")
    assert client.inputs["generateSecret"] is False
    assert client.inputs["preventUserExistenceErrors"] == "ENABLED"


def test_stack_outputs(stack_run: ProgramRun) -> None:
    outputs = stack_run.outputs
    assert outputs["apiUrl"].startswith("https://") and ".execute-api." in outputs["apiUrl"]
    assert outputs["iotEndpoint"].endswith(f"-ats.iot.{stack_run.config['aws:region']}.amazonaws.com")
    assert outputs["realtimeTopicPrefix"] == "orders"
    assert outputs["eventBusName"] == f"orderflow-{stack_run.stack}-orders"
    for key in ("userPoolId", "userPoolClientId", "ordersTableName", "timelineTableName", "receiptsBucketName"):
        assert outputs[key], key
    assert outputs["fulfillmentStateMachineArn"].startswith("arn:aws:states:")
    assert outputs["customerStatusStateMachineArn"].startswith("arn:aws:states:")


# ---- Alarms -------------------------------------------------------------------------------------
def test_dev_has_no_alarms(dev: ProgramRun) -> None:
    assert dev.of_type("aws:cloudwatch/metricAlarm:MetricAlarm") == []


def test_prod_alarms_every_dlq_function_workflow_and_api(prod: ProgramRun) -> None:
    alarms = prod.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")
    depth = {
        a.inputs["dimensions"]["QueueName"]
        for a in alarms
        if a.inputs["metricName"] == "ApproximateNumberOfMessagesVisible"
    }
    dead_letter_arns = set()
    for queue in prod.of_type(QUEUE):
        if "redrivePolicy" in queue.inputs:
            dead_letter_arns.add(document(queue.inputs["redrivePolicy"])["deadLetterTargetArn"])
    for target in prod.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        dead_letter_arns.add(target.inputs["deadLetterConfig"]["arn"])
    for subscription in prod.of_type("aws:sns/topicSubscription:TopicSubscription"):
        dead_letter_arns.add(document(subscription.inputs["redrivePolicy"])["deadLetterTargetArn"])
    for config in prod.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        dead_letter_arns.add(config.inputs["destinationConfig"]["onFailure"]["destination"])
    dead_letter_names = {prod.find_by_output("arn", arn).outputs["name"] for arn in dead_letter_arns}
    assert dead_letter_names and dead_letter_names <= depth
    errors = {a.inputs["dimensions"]["FunctionName"] for a in alarms if a.inputs["metricName"] == "Errors"}
    assert errors == {fn.inputs["name"] for fn in prod.of_type(FUNCTION)}
    failed = {a.inputs["dimensions"]["StateMachineArn"] for a in alarms if a.inputs["metricName"] == "ExecutionsFailed"}
    # The fulfillment steps are not alarmed themselves: every failed run fails (or parks) its fulfillment execution.
    machines = {m.outputs["arn"] for m in prod.of_type("aws:sfn/stateMachine:StateMachine")}
    steps = prod.outputs["fulfillmentStepsStateMachineArn"]
    assert steps in machines and failed == machines - {steps}
    assert any(a.inputs["metricName"] == "5xx" for a in alarms)
    ops_topic = prod.named("ops-ops-topic").outputs["arn"]
    operators_topic = prod.named("operators-notices-topic").outputs["arn"]
    # The operators' digests go to the operators' topic (its e-mail takes only them); every other alarm to ops.
    assert {a.name: a.inputs["alarmActions"] for a in alarms if a.inputs["alarmActions"] != [ops_topic]} == {
        "operators-failed-orders": [operators_topic],
        "operators-parked-fulfillment": [operators_topic],
        "operators-parked-customer-status": [operators_topic],
    }


@pytest.mark.parametrize(
    ("key", "value"),
    [("orderflow:logRetentionDays", "-1"), ("orderflow:reservedConcurrency", "-1"), ("aws:region", "mars")],
)
def test_bad_config_fails_the_program_naming_the_key(key: str, value: str) -> None:
    from offline.harness import run_program
    from orderflow.config import StackConfigError

    with pytest.raises(StackConfigError, match=key):
        run_program("dev", config_overrides={key: value})


def test_both_stacks_tag_every_resource_through_the_provider(stack_run: ProgramRun) -> None:
    (provider,) = [r for r in stack_run.resources if r.type == "pulumi:providers:aws"]
    assert provider.inputs["defaultTags"] == {
        "tags": {
            "project": "orderflow",
            "stack": stack_run.stack,
            "owner": "platform-team",
            "cost-centre": f"orderflow-{stack_run.stack}",
        }
    }
    assert {r.provider.split("::")[3] for r in stack_run.resources if r.custom and r.type != provider.type} == {
        provider.name
    }
