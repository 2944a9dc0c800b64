"""The architecture diagram is generated from the program, and the committed one is current."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.diagram import build_diagram, clusters, to_dot
from offline.recording import ProgramRun
from tests.recorded import recorded_program

DOCS = Path(__file__).resolve().parents[2] / "docs"
SEED_SERVICES = ["API Gateway", "Lambda", "EventBridge", "Step Functions", "SQS", "SNS", "DynamoDB", "S3", "IoT Core"]
TITLE = "orderflow (dev stack): event flow and failure paths"


@pytest.fixture(scope="module")
def dev_run() -> ProgramRun:
    return recorded_program("dev")


def test_committed_diagram_source_matches_the_program(dev_run: ProgramRun) -> None:
    generated = to_dot(build_diagram(dev_run), TITLE)
    assert (DOCS / "architecture.dot").read_text() == generated, "run `make diagram` and commit docs/architecture.*"


def test_rendered_diagram_shows_every_seed_service() -> None:
    svg = (DOCS / "architecture.svg").read_text()
    for service in SEED_SERVICES:
        assert f"({service})" in svg, service


def test_every_dead_letter_queue_is_reached_by_a_failure_edge(dev_run: ProgramRun) -> None:
    diagram = build_diagram(dev_run)
    failure_targets = {edge.target for edge in diagram.edges if edge.failure}
    dead_letters = {n for n, (service, name) in diagram.nodes.items() if service == "sqs" and name != "order-audit"}
    assert dead_letters and dead_letters == failure_targets


def test_the_order_flow_is_connected(dev_run: ProgramRun) -> None:
    edges = {(e.source, e.target) for e in build_diagram(dev_run).edges}
    path = [
        ("apigateway_post_orders", "lambda_create_order"),
        ("lambda_create_order", "events_bus_orders"),
        ("events_bus_orders", "events_rule_order_placed"),
        ("events_rule_order_placed", "states_customer_status_workflow"),
        ("states_customer_status_workflow", "states_fulfillment"),
        ("states_fulfillment", "states_fulfillment_steps"),
        ("states_fulfillment_steps", "s3_receipts"),
        ("s3_receipts", "events_default_bus"),
        ("lambda_notify", "iot_topics_orders_customerid_orderid"),
        ("events_rule_audit", "sqs_order_audit"),
        ("sqs_order_audit", "lambda_audit"),
    ]
    missing = [edge for edge in path if edge not in edges]
    assert not missing


def test_each_concern_is_one_cluster(dev_run: ProgramRun) -> None:
    members = clusters(build_diagram(dev_run))
    expected = {
        "edge": {
            "client_browser",
            "cloudfront_web",
            "cognito_users",
            "apigateway_post_orders",
            "lambda_create_order",
            "lambda_realtime_authorizer",
            "s3_web_content",
            "iot_topics_orders_customerid_orderid",
        },
        "choreography": {
            "events_bus_orders",
            "events_rule_order_placed",
            "sqs_order_audit",
            "lambda_audit",
            "lambda_notify",
            "sns_operators_notices",
        },
        "orchestration": {
            "states_customer_status_workflow",
            "states_fulfillment",
            "states_fulfillment_steps",
            "lambda_reserve_inventory",
            "lambda_customer_status",
        },
        "state": {"dynamodb_orders", "dynamodb_inventory", "s3_receipts"},
        "failure": {
            "sqs_order_audit_dlq",
            "sqs_orders_order_placed_dlq",
            "sqs_fulfillment_attention",
            "sqs_notify_failures",
        },
    }
    for cluster, nodes in expected.items():
        assert nodes <= set(members[cluster]), (cluster, nodes - set(members[cluster]))
    dot = (DOCS / "architecture.dot").read_text()
    for cluster, nodes in members.items():
        block = dot.split(f"subgraph cluster_{cluster} {{", 1)[1].split("\n  }", 1)[0]
        assert all(f"    {node} [" in block for node in nodes), cluster
