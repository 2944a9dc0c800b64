"""orderflow: the order system's composition. Reads stack config, instantiates components, exports outputs.

No resource is declared here: every one lives in a component (``components/``). The flow is the one of
``docs/contracts.md``: API → ``create_order`` → bus → customer-status (EXPRESS) → fulfillment
(STANDARD) → status events → ``notify`` (IoT Core) and the audit buffer → ``audit``; orders failed on our
side → the operators' topic (an inbox queue, and an e-mail digest); receipts land in S3, whose object events
reach the bus through the default bus.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pulumi
import pulumi_aws as aws

from components.alarms import Alarms, AlarmsArgs
from components.aws_context import in_account
from components.bucket import Bucket, BucketArgs
from components.deferred import deferred_output
from components.event_bus import EventBus, EventBusArgs, RuleArgs, RuleTarget
from components.function import AsyncInvokeArgs, Function, FunctionArgs, with_overrides
from components.http_api import HttpApi, HttpApiArgs, JwtAuthorizerArgs
from components.identity import Identity, IdentityArgs
from components.layer import DependencyLayer, DependencyLayerArgs, pinned_versions
from components.naming import event_rule_name, function_name
from components.operator_notices import (
    OperatorNotices,
    OperatorNoticesArgs,
    failure_digest,
    failure_notice_transformer,
    parked_digest,
)
from components.queue import DeadLetterArgs, Queue, QueueArgs, QueueConsumerArgs, QueueSender
from components.realtime_channel import RealtimeChannel, RealtimeChannelArgs
from components.static_site import ApiOriginArgs, StaticSite, StaticSiteArgs
from components.table import GlobalIndexArgs, KeyAttribute, Table, TableArgs
from components.workflow import Workflow, WorkflowArgs
from orderflow import routing, workflows
from orderflow.config import load_settings
from orderflow.page import API_PATHS, page_config, realtime_url

HANDLERS = Path(__file__).resolve().parent / "handlers"
SITE = Path(__file__).resolve().parent / "web" / "public"
# The MQTT client the page imports, built by `make web` from web/package-lock.json.
SITE_MQTT_BUNDLE = SITE / "vendor" / "mqtt.esm.js"
TOPIC_PREFIX = "orders"
BUS = "orders"

settings = load_settings(pulumi.Config("orderflow"), pulumi.Config("aws"), pulumi.get_stack())
# Checked before any resource, so that a missing bundle creates nothing.
if not SITE_MQTT_BUNDLE.is_file():
    raise pulumi.RunError(f"{SITE_MQTT_BUNDLE.relative_to(SITE.parent.parent)} is missing: run `make web` first")
bus_name = EventBus.planned_name(BUS)
# The receipts bucket's name is needed before the bucket exists, in the event patterns that route its events.
receipts_bucket_name = in_account(
    lambda aws_: f"{pulumi.get_project()}-{pulumi.get_stack()}-receipts-{aws_.account}-{aws_.region}"
)
bus_arn = EventBus.planned_arn(BUS)

# ---- state ------------------------------------------------------------------------------------
# Every table: the stack's deletion protection and pre-warmed write throughput (docs/scaling.md, 1,000 orders/s).
table_settings: dict[str, Any] = {
    "deletion_protection": settings.deletion_protection,
    "warm_write_units_per_second": settings.table_warm_write_units,
}
orders = Table(
    "orders",
    TableArgs(
        hash_key=KeyAttribute("orderId"),
        global_indexes=[GlobalIndexArgs("byCustomer", KeyAttribute("customerId"), KeyAttribute("createdAt"))],
        **table_settings,
    ),
)
timeline = Table(
    "timeline",
    TableArgs(
        hash_key=KeyAttribute("orderId"),
        range_key=KeyAttribute("eventKey"),
        **table_settings,
    ),
)
catalogue = json.loads((HANDLERS / "shared" / "catalogue.json").read_text())
inventory = Table(
    "inventory",
    TableArgs(
        hash_key=KeyAttribute("pk"),
        **table_settings,
        seed_items=[
            {"pk": {"S": f"SKU#{product['sku']}"}, "available": {"N": str(product["initialStock"])}}
            for product in catalogue
        ],
    ),
)
payments = Table(
    "payments",
    TableArgs(
        hash_key=KeyAttribute("orderId"),
        **table_settings,
    ),
)
idempotency = Table(
    "idempotency",
    TableArgs(hash_key=KeyAttribute("id"), ttl_attribute="expiration", **table_settings),
)
receipts = Bucket("receipts", BucketArgs(bucket_name=receipts_bucket_name))


# ---- functions --------------------------------------------------------------------------------
def table_access(sid: str, table: Table, actions: list[str], *, indexes: bool = False) -> dict[str, Any]:
    """IAM statement for named actions on one table (and its indexes when asked)."""
    resources: list[pulumi.Input[str]] = [table.arn]
    if indexes:
        resources.append(table.arn.apply(lambda arn: f"{arn}/index/*"))
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resources}


def attribute_access(sid: str, table: Table, actions: list[str], attributes: list[str]) -> dict[str, Any]:
    """IAM statement for named actions on one table, limited to the named attributes (key included)."""
    return table_access(sid, table, actions) | {
        "Condition": {
            "ForAllValues:StringEquals": {"dynamodb:Attributes": attributes},
            "StringEqualsIfExists": {
                "dynamodb:Select": "SPECIFIC_ATTRIBUTES",
                "dynamodb:ReturnValues": ["NONE", "UPDATED_OLD", "UPDATED_NEW"],
            },
        }
    }


def idempotency_records(function_role: str) -> dict[str, Any]:
    """IAM statement for one function's own Powertools idempotency records, and no other function's.

    Powertools keys each record ``<function name>.<decorated function>#<hash>``, so the partition key
    prefix names the function that wrote it.
    """
    physical_name = function_name(pulumi.get_project(), pulumi.get_stack(), function_role)
    return table_access(
        "OwnIdempotencyRecords",
        idempotency,
        ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
    ) | {"Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{physical_name}.*"]}}}


def put_order_events(*detail_types: str) -> dict[str, Any]:
    """IAM statement letting a publisher put only its own detail-types, with the order system's source."""
    return {
        "Sid": "PutOwnOrderEvents",
        "Effect": "Allow",
        "Action": "events:PutEvents",
        "Resource": bus_arn,
        "Condition": {
            "StringEquals": {"events:source": routing.ORDER_EVENT_SOURCE, "events:detail-type": list(detail_types)}
        },
    }


# Powertools and Pydantic at the versions the handlers are tested with: the same file, line for line.
if settings.powertools_layer_arn is None:
    handler_pins = pinned_versions(HANDLERS / "requirements.txt")
    powertools_layer_arn: pulumi.Input[str] = DependencyLayer(
        "powertools",
        DependencyLayerArgs(
            requirements=HANDLERS / "requirements.txt",
            description=(
                f"Powertools for AWS Lambda (Python) {handler_pins['aws-lambda-powertools']} and Pydantic "
                f"{handler_pins['pydantic']}, as tested (handlers/requirements.txt)"
            ),
            resolve_dependencies=False,
            compile_bytecode=True,
        ),
    ).arn
else:
    pulumi.log.warn(
        "orderflow:powertoolsLayerArn overrides the layer built from handlers/requirements.txt: the Powertools "
        "and Pydantic versions it deploys are not the ones the tests check"
    )
    powertools_layer_arn = settings.powertools_layer_arn


def function(name: str, description: str, **overrides: Any) -> Function:
    """A :class:`Function` for ``handlers/<name>`` with this stack's concurrency, retention and log level.

    ``overrides`` replace :class:`FunctionArgs` fields; a key that is not a field fails the program naming it.
    """
    defaults = FunctionArgs(
        package=name.replace("-", "_"),
        description=description,
        reserved_concurrency=settings.reserved_concurrency,
        log_retention_days=settings.log_retention_days,
        log_level=settings.log_level,
        powertools_layer_arn=powertools_layer_arn,
        handlers_dir=HANDLERS,
    )
    return Function(name, with_overrides(defaults, name, overrides))


create_order = function(
    "create-order",
    "POST /orders: validates, prices and stores an order, then puts OrderPlaced on the bus.",
    reserved_concurrency=settings.api_reserved_concurrency,
    environment={
        "ORDERS_TABLE_NAME": orders.name,
        "IDEMPOTENCY_TABLE_NAME": idempotency.name,
        "EVENT_BUS_NAME": bus_name,
        "REALTIME_TOPIC_PREFIX": TOPIC_PREFIX,
    },
    # DeleteItem: an order whose OrderPlaced the bus refused is removed again, so no PENDING row is orphaned.
    policy_statements=[
        table_access("StoreOrders", orders, ["dynamodb:PutItem", "dynamodb:DeleteItem"]),
        idempotency_records("create-order"),
        put_order_events(routing.ORDER_PLACED),
    ],
)
get_order = function(
    "get-order",
    "GET /orders/{orderId}, GET /orders and GET /orders/{orderId}/receipt: the caller's own order with its timeline,"
    " their order list, a short-lived link to their receipt.",
    reserved_concurrency=settings.api_reserved_concurrency,
    environment={
        "ORDERS_TABLE_NAME": orders.name,
        "TIMELINE_TABLE_NAME": timeline.name,
        "RECEIPTS_BUCKET_NAME": receipts.name,
    },
    policy_statements=[
        table_access("ReadOrders", orders, ["dynamodb:GetItem"]),
        # GET /orders/{orderId}/receipt presigns a GetObject with this role: receipts only, nothing else in the bucket.
        {
            "Sid": "ReadReceipts",
            "Effect": "Allow",
            "Action": "s3:GetObject",
            "Resource": receipts.arn.apply(lambda arn: f"{arn}/{routing.RECEIPTS_KEY_PREFIX}*"),
        },
        # GET /orders: the caller's orders from the byCustomer index.
        {
            **table_access("ListOrders", orders, ["dynamodb:Query"]),
            "Resource": orders.arn.apply(lambda arn: f"{arn}/index/byCustomer"),
        },
        table_access("ReadTimeline", timeline, ["dynamodb:Query"]),
    ],
)
customer_status = function(
    "customer-status",
    "Classifies the customer (NEW, RETURNING, VIP, BLOCKED) from their order history.",
    # Only declined payments block a customer: this many within this many days (docs/operations.md, unblock).
    environment={"ORDERS_TABLE_NAME": orders.name, "BLOCK_AFTER_DECLINES": "3", "DECLINE_WINDOW_DAYS": "30"},
    policy_statements=[table_access("ReadOrderHistory", orders, ["dynamodb:Query"], indexes=True)],
)
# TransactWriteItems is authorised per action: Put and Update here; nothing ever deletes a stock row.
inventory_actions = ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"]
reserve_inventory = function(
    "reserve-inventory",
    "Fulfillment step: reserves stock for an order (never below zero), once per order.",
    environment={"INVENTORY_TABLE_NAME": inventory.name},
    policy_statements=[table_access("ReserveStock", inventory, inventory_actions)],
)
release_inventory = function(
    "release-inventory",
    "Compensation: returns an order's reserved stock (safe when nothing was reserved).",
    environment={"INVENTORY_TABLE_NAME": inventory.name},
    policy_statements=[table_access("ReleaseStock", inventory, inventory_actions)],
)
process_payment = function(
    "process-payment",
    "Fulfillment step: charges an order once (simulated provider with deterministic declines).",
    environment={"PAYMENTS_TABLE_NAME": payments.name},
    # A charge is only ever written once (conditional put), never updated.
    policy_statements=[table_access("ChargeOrders", payments, ["dynamodb:GetItem", "dynamodb:PutItem"])],
)
refund_payment = function(
    "refund-payment",
    "Compensation: refunds an order's charge (safe when nothing was charged).",
    environment={"PAYMENTS_TABLE_NAME": payments.name},
    policy_statements=[
        table_access("RefundOrders", payments, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"])
    ],
)
create_shipment = function(
    "create-shipment",
    "Fulfillment step: creates the order's shipment once, to its shipping address.",
    environment={"ORDERS_TABLE_NAME": orders.name},
    policy_statements=[
        attribute_access(
            "ShipOrders",
            orders,
            ["dynamodb:GetItem", "dynamodb:UpdateItem"],
            ["orderId", "shippingAddress", "shipment"],
        )
    ],
)
cancel_shipment = function(
    "cancel-shipment",
    "Compensation: cancels an order's shipment (safe when nothing was booked).",
    environment={"ORDERS_TABLE_NAME": orders.name},
    policy_statements=[
        attribute_access(
            "CancelShipments", orders, ["dynamodb:GetItem", "dynamodb:UpdateItem"], ["orderId", "shipment"]
        )
    ],
)

audit = function(
    "audit",
    "Appends every order event to the order timeline (SQS batch consumer).",
    environment={"TIMELINE_TABLE_NAME": timeline.name},
    # GetItem: a throttled write checks whether another copy of the event is on the timeline already.
    policy_statements=[table_access("AppendTimeline", timeline, ["dynamodb:PutItem", "dynamodb:GetItem"])],
)
audit_buffer = Queue(
    "order-audit",
    QueueArgs(
        dead_letter=DeadLetterArgs(max_receive_count=settings.queue_max_receive_count),
        consumer=QueueConsumerArgs(function=audit, maximum_concurrency=settings.queue_consumer_max_concurrency),
        senders=[QueueSender("events.amazonaws.com", EventBus.planned_rule_arn(BUS, "audit"))],
    ),
)

# ---- workflows --------------------------------------------------------------------------------
# Orders the fulfillment could not finish on its own (after the shipment was booked, or a failure it could not
# record or compensate) wait here, with their state and error, for an operator; its depth alarms.
fulfillment_attention = Queue(
    "fulfillment-attention", QueueArgs(dead_letter=None, message_retention_seconds=14 * 24 * 3600)
)
# The fast steps run as an EXPRESS child (billed per run, not per state); the STANDARD parent keeps what needs
# it: one execution per order (its name), redrive, and parking for an operator (docs/scaling.md, docs/contracts.md).
fulfillment_steps = Workflow(
    "fulfillment-steps",
    WorkflowArgs(
        definition=workflows.fulfillment_steps_definition,
        definition_inputs={
            "reserve_inventory_function_arn": reserve_inventory.arn,
            "process_payment_function_arn": process_payment.arn,
            "create_shipment_function_arn": create_shipment.arn,
            "cancel_shipment_function_arn": cancel_shipment.arn,
            "refund_payment_function_arn": refund_payment.arn,
            "release_inventory_function_arn": release_inventory.arn,
            "orders_table_name": orders.name,
            "event_bus_name": bus_name,
            "receipts_bucket_name": receipts.name,
        },
        workflow_type="EXPRESS",
        log_retention_days=settings.log_retention_days,
        # Per stack (workflowLogLevel): ALL costs 3,262 bytes of logs per state; at ERROR only failed runs log.
        log_level=settings.workflow_log_level,
    ),
)
fulfillment = Workflow(
    "fulfillment",
    WorkflowArgs(
        definition=workflows.fulfillment_definition,
        definition_inputs={
            "steps_state_machine_arn": fulfillment_steps.arn,
            "orders_table_name": orders.name,
            "attention_queue_url": fulfillment_attention.url,
        },
        workflow_type="STANDARD",
        log_retention_days=settings.log_retention_days,
        log_level=settings.workflow_log_level,
    ),
)
# EventBridge has handed an OrderPlaced over once the EXPRESS execution starts: a failed execution
# parks it here (with its error) for redrive, so the order is never silently left PENDING.
customer_status_failures = Queue(
    "customer-status-failures", QueueArgs(dead_letter=None, message_retention_seconds=14 * 24 * 3600)
)
customer_status_workflow = Workflow(
    "customer-status-workflow",
    WorkflowArgs(
        definition=workflows.customer_status_definition,
        definition_inputs={
            "customer_status_function_arn": customer_status.arn,
            "orders_table_name": orders.name,
            "event_bus_name": bus_name,
            "fulfillment_state_machine_arn": fulfillment.arn,
            "failure_queue_url": customer_status_failures.url,
        },
        workflow_type="EXPRESS",
        log_retention_days=settings.log_retention_days,
        # EXPRESS executions have no history in the console: their logs are the record.
        log_level="ALL",
    ),
)

# ---- the edge: sign-in, the API, real-time status and the order page ---------------------------
# Managed login returns to the site, whose URL exists only once its distribution does, which serves the API,
# whose authorizer needs this pool's client: the pool takes the URL as a deferred output. The block makes a
# failure before the site exists fail the pool's registration too, instead of leaving it waiting.
with deferred_output("the order page's URL") as (site_url, resolve_site_url):
    identity = Identity(
        "users",
        IdentityArgs(
            deletion_protection=settings.deletion_protection,
            domain_prefix=in_account(lambda aws_: f"{pulumi.get_project()}-{pulumi.get_stack()}-{aws_.account}"),
            callback_urls=[pulumi.Output.concat(site_url, "/"), *(f"{origin}/" for origin in settings.allowed_origins)],
        ),
    )
    if identity.sign_in_url is None:
        raise pulumi.RunError("the users pool needs its managed login domain: the page signs in there")
    jwt_layer = DependencyLayer(
        "jwt",
        DependencyLayerArgs(requirements=HANDLERS / "layer-requirements.txt", description="PyJWT with cryptography"),
    )
    realtime_authorizer = function(
        "realtime-authorizer",
        "IoT Core custom authorizer: verifies the Cognito JWT, allows the caller's own order topics only.",
        environment={
            "COGNITO_ISSUER": identity.issuer,
            "COGNITO_CLIENT_ID": identity.client_id,
            "REALTIME_TOPIC_PREFIX": TOPIC_PREFIX,
        },
        layers=[jwt_layer.arn],
        timeout_seconds=5,
    )
    realtime = RealtimeChannel(
        "realtime", RealtimeChannelArgs(authorizer_function=realtime_authorizer, topic_prefix=TOPIC_PREFIX)
    )
    api = HttpApi(
        "orders-api",
        HttpApiArgs(
            routes={
                "POST /orders": create_order,
                "GET /orders": get_order,
                "GET /orders/{orderId}": get_order,
                "GET /orders/{orderId}/receipt": get_order,
            },
            authorizer=JwtAuthorizerArgs(issuer=identity.issuer, audiences=[identity.client_id]),
            throttling_burst_limit=settings.api_throttle_burst,
            throttling_rate_limit=settings.api_throttle_rate,
            log_retention_days=settings.log_retention_days,
            allowed_origins=settings.allowed_origins,
        ),
    )

    site = StaticSite(
        "web",
        StaticSiteArgs(
            content_dir=SITE,
            api=ApiOriginArgs(domain_name=api.domain_name, path_patterns=list(API_PATHS)),
            connect_sources=[pulumi.Output.concat("wss://", realtime.endpoint), identity.sign_in_url],
            runtime_config=page_config(
                api_base_url="",
                sign_in_url=identity.sign_in_url,
                client_id=identity.client_id,
                realtime=pulumi.Output.all(realtime.endpoint, realtime.authorizer_name).apply(
                    lambda values: realtime_url(values[0], values[1])
                ),
                topic_prefix=TOPIC_PREFIX,
                catalogue=catalogue,
            ),
        ),
    )
    resolve_site_url(site.url)

# ---- notifications: the customer's real-time topic; the operators' topic -------------------------
# A status update that still fails after Lambda's retries lands here instead of being dropped.
notify_failures = Queue("notify-failures", QueueArgs(dead_letter=None, message_retention_seconds=14 * 24 * 3600))
notify = function(
    "notify",
    "Pushes order status and receipts to the customer's IoT topic (the order page's live channel).",
    # About three invocations per order (each status, the receipt): its own ceiling where the stack sets one.
    reserved_concurrency=settings.notify_reserved_concurrency or settings.reserved_concurrency,
    environment={
        "IOT_DATA_ENDPOINT": realtime.endpoint,
        "REALTIME_TOPIC_PREFIX": TOPIC_PREFIX,
        "IDEMPOTENCY_TABLE_NAME": idempotency.name,
    },
    policy_statements=[realtime.publisher_statement(), idempotency_records("notify")],
    async_invoke=AsyncInvokeArgs(on_failure_destination_arn=notify_failures.arn, destination_service="sqs"),
)
# Operators hear of failed and parked orders, never of each status: one notice per order that failed on our
# side in the inbox queue (any rate), and by e-mail only the digests (alarm state changes), so an outage
# that fails every order cannot outrun SNS's e-mail rate.
OPERATOR_RULE = "operator-failures"
operators = OperatorNotices(
    "operators",
    OperatorNoticesArgs(
        failure_rule_arn=EventBus.planned_rule_arn(BUS, OPERATOR_RULE),
        email=settings.operator_email,
        digests={
            "failed-orders": failure_digest(bus_name, event_rule_name(bus_name, OPERATOR_RULE)),
            "parked-fulfillment": parked_digest(fulfillment_attention.name),
            "parked-customer-status": parked_digest(customer_status_failures.name),
        },
    ),
)

# ---- routing ----------------------------------------------------------------------------------
# The rules and their patterns are orderflow/routing.py's; here each rule on the orderflow bus gets its targets.
rule_targets = {
    "order-placed": {"customer-status": RuleTarget("sfn", customer_status_workflow.arn)},
    "order-status": {"notify": RuleTarget("lambda", notify.arn)},
    "audit": {"buffer": RuleTarget("sqs", audit_buffer.arn)},
    OPERATOR_RULE: {"operators": RuleTarget("sns", operators.arn, input_transformer=failure_notice_transformer())},
    "receipt-ready": {"notify": RuleTarget("lambda", notify.arn)},
}
routing_rules = routing.routing_rules(receipts_bucket_name)
bus_rules = [rule for rule in routing_rules if rule.bus == routing.CUSTOM_BUS]
if set(rule_targets) != {rule.name for rule in bus_rules}:
    raise pulumi.RunError(
        f"targets are given for {sorted(rule_targets)}, but the bus's rules are {sorted(r.name for r in bus_rules)}"
    )
bus = EventBus(
    BUS,
    EventBusArgs(
        archive_retention_days=settings.archive_retention_days,
        rules={rule.name: RuleArgs(rule.pattern, rule_targets[rule.name], rule.description) for rule in bus_rules},
        forward_from_default={rule.name: rule.pattern for rule in routing_rules if rule.bus == routing.DEFAULT_BUS},
        reserved_detail_types={routing.ORDER_EVENT_SOURCE: [routing.ORDER_PLACED, *routing.ORDER_STATUS_DETAIL_TYPES]},
        # Only the order system puts order events: create-order (OrderPlaced) and the workflows (the rest).
        source_publishers={
            routing.ORDER_EVENT_SOURCE: [
                create_order.role_arn,
                customer_status_workflow.role.arn,
                fulfillment_steps.role.arn,
            ]
        },
    ),
)

functions = {
    "create-order": create_order,
    "get-order": get_order,
    "customer-status": customer_status,
    "reserve-inventory": reserve_inventory,
    "process-payment": process_payment,
    "create-shipment": create_shipment,
    "cancel-shipment": cancel_shipment,
    "release-inventory": release_inventory,
    "refund-payment": refund_payment,
    "notify": notify,
    "audit": audit,
    "realtime-authorizer": realtime_authorizer,
}


# ---- operations: every queue where a failure is parked, and how `python -m orderflow.ops` redrives it ----
def parked_on(queue: Queue | aws.sqs.Queue, kind: str, redrive_to: pulumi.Input[str] | None) -> dict[str, Any]:
    """A failure queue as the ops tool sees it: where it is, what parks there, where a redrive sends it.

    ``kind``: ``sqs`` (the DLQ of an SQS queue), ``eventbridge-target`` (a rule target's DLQ; each message
    names its target), ``lambda-destination`` (on-failure records), ``workflow`` (parked execution state),
    ``sns-subscription`` (a subscription's DLQ).
    """
    parked: dict[str, Any] = {"name": queue.name, "url": queue.url, "arn": queue.arn, "kind": kind}
    if redrive_to is not None:
        parked["redriveTo"] = redrive_to
    return parked


# Keys are the alarms' roles (alarm `ops-dlq-<role>`) and the names `ops dlq …` takes.
failure_queues: dict[str, dict[str, Any]] = {
    "notify-failures": parked_on(notify_failures, "lambda-destination", notify.arn),
    "customer-status-failures": parked_on(customer_status_failures, "workflow", customer_status_workflow.arn),
    # Parked fulfillment state: finished by the operator (ops redrive-execution), never re-sent as it is.
    # A parked state is redriven as a new fulfillment execution resuming at its stage (orderflow.ops).
    "fulfillment-attention": parked_on(fulfillment_attention, "workflow", fulfillment.arn),
}
if audit_buffer.dead_letter_queue is not None:
    failure_queues["order-audit"] = parked_on(audit_buffer.dead_letter_queue, "sqs", audit_buffer.arn)
failure_queues.update(
    {f"rule-{rule}": parked_on(queue, "eventbridge-target", None) for rule, queue in bus.dead_letter_queues.items()}
)
failure_queues.update(
    {
        f"operators-{role}": parked_on(queue, "sns-subscription", operators.arn)
        for role, queue in operators.topic.dead_letter_queues.items()
    }
)

if settings.alarms_enabled and settings.alarm_email:
    alarms = Alarms(
        "ops",
        AlarmsArgs(
            email=settings.alarm_email,
            dead_letter_queues={role: queue["name"] for role, queue in failure_queues.items()},
            functions={role: fn.name for role, fn in functions.items()},
            # Not the fulfillment steps: every failed run fails (or parks) its fulfillment execution, which alarms.
            state_machines={"fulfillment": fulfillment.arn, "customer-status": customer_status_workflow.arn},
            http_apis={"orders-api": api.id},
        ),
    )
    failure_queues.update(
        {
            f"ops-{role}": parked_on(queue, "sns-subscription", alarms.topic.arn)
            for role, queue in alarms.topic.dead_letter_queues.items()
        }
    )

pulumi.export("siteUrl", site.url)
pulumi.export("siteDistributionId", site.distribution_id)
pulumi.export("signInUrl", identity.sign_in_url)
pulumi.export("apiUrl", api.url)
pulumi.export("userPoolId", identity.user_pool_id)
pulumi.export("userPoolClientId", identity.client_id)
pulumi.export("iotEndpoint", realtime.endpoint)
pulumi.export("iotAuthorizerName", realtime.authorizer_name)
pulumi.export("realtimeTopicPrefix", TOPIC_PREFIX)
pulumi.export("eventBusName", bus.name)
pulumi.export("customerStatusStateMachineArn", customer_status_workflow.arn)
pulumi.export("fulfillmentStateMachineArn", fulfillment.arn)
pulumi.export("fulfillmentStepsStateMachineArn", fulfillment_steps.arn)
pulumi.export("ordersTableName", orders.name)
pulumi.export("timelineTableName", timeline.name)
pulumi.export("receiptsBucketName", receipts.name)
pulumi.export("stack", pulumi.get_stack())
pulumi.export("failureQueues", failure_queues)
pulumi.export("operatorTopicArn", operators.arn)
pulumi.export("eventBusArn", bus.arn)
pulumi.export("eventArchiveArn", bus.archive.arn)
pulumi.export("eventRules", {rule: event_rule.arn for rule, event_rule in bus.rules.items()})
pulumi.export("functions", {role: fn.arn for role, fn in functions.items()})
