"""The idle-cost estimate: what is billed with zero traffic, priced from the pack's table."""

from __future__ import annotations

import pytest
from policy_testkit import UNKNOWN

from policy_pack.cost import PRICES, CostedResource, describe_items, estimate_idle_cost


def _resource(type_: str, logical_name: str, **props: object) -> CostedResource:
    return CostedResource(f"urn:pulumi:dev::p::{type_}::{logical_name}", type_, logical_name, props)


def test_policy_cost_pay_per_use_stack_idles_at_zero() -> None:
    total, items = estimate_idle_cost(
        [
            _resource("aws:lambda/function:Function", "fn", memorySize=256),
            _resource("aws:sqs/queue:Queue", "q"),
            _resource("aws:dynamodb/table:Table", "t", billingMode="PAY_PER_REQUEST"),
            _resource("aws:apigateway/stage:Stage", "s", cacheClusterEnabled=False),
            _resource("aws:ec2/vpcEndpoint:VpcEndpoint", "gateway", vpcEndpointType="Gateway"),
        ]
    )
    assert (total, items) == (0.0, [])


def test_policy_cost_provisioned_concurrency_uses_the_function_memory_and_architecture() -> None:
    function = _resource(
        "aws:lambda/function:Function", "fn", name="orders-fn", memorySize=1024, architectures=["x86_64"]
    )
    warm = _resource(
        "aws:lambda/provisionedConcurrencyConfig:ProvisionedConcurrencyConfig",
        "warm",
        functionName="arn:aws:lambda:eu-west-1:1:function:orders-fn",
        provisionedConcurrentExecutions=2,
    )
    total, items = estimate_idle_cost([function, warm])
    assert total == pytest.approx(2 * 1 * 730 * 3600 * PRICES["lambda_provisioned_gb_second_x86"], abs=0.01)
    assert total == pytest.approx(21.90, abs=0.01)
    assert items[0].what == "Lambda provisioned concurrency (2 x 1024 MB, x86_64)"


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        (_resource("aws:dynamodb/table:Table", "t", readCapacity=30, writeCapacity=20), 12.34),
        (_resource("aws:kms/key:Key", "k"), 1.00),
        (_resource("aws:cloudwatch/metricAlarm:MetricAlarm", "a", metricName="Errors", period=300), 0.10),
        (_resource("aws:cloudwatch/metricAlarm:MetricAlarm", "hr", metricName="Errors", period=10), 0.30),
        (
            _resource(
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                "math",
                metricQueries=[{"id": "e", "expression": "a+b"}, {"id": "a", "metric": {}}, {"id": "b", "metric": {}}],
            ),
            0.20,
        ),
        (_resource("aws:ec2/natGateway:NatGateway", "nat"), 32.85),
        (_resource("aws:ec2/vpcEndpoint:VpcEndpoint", "e", vpcEndpointType="Interface", subnetIds=["a", "b"]), 14.60),
        (_resource("aws:apigateway/stage:Stage", "s", cacheClusterEnabled=True, cacheClusterSize="6.1"), 146.00),
        (_resource("aws:wafv2/webAcl:WebAcl", "w", rules=[{}, {}]), 7.00),
        (_resource("aws:kinesis/stream:Stream", "k", shardCount=2), 21.90),
        (_resource("aws:kinesis/stream:Stream", "od", streamModeDetails={"streamMode": "ON_DEMAND"}), 29.20),
        (_resource("aws:secretsmanager/secret:Secret", "s"), 0.40),
    ],
    ids=lambda value: getattr(value, "name", str(value)),
)
def test_policy_cost_prices_each_idle_item(resource: CostedResource, expected: float) -> None:
    total, items = estimate_idle_cost([resource])
    assert total == pytest.approx(expected, abs=0.01)
    assert len(items) == 1 and items[0].urn == resource.urn


def test_policy_cost_unpriced_and_unknown_items_are_listed_not_raised() -> None:
    total, items = estimate_idle_cost(
        [
            _resource("aws:ec2/instance:Instance", "box", instanceType="t4g.micro"),
            _resource("aws:kinesis/stream:Stream", "pending", shardCount=UNKNOWN),
        ]
    )
    assert total == 0.0
    assert [item.monthly_usd for item in items] == [None, None]
    assert "cannot evaluate" in items[1].what
    assert describe_items(items)[0].split() == ["unpriced", "an", "EC2", "instance", "(box)"]
