"""The idle-cost estimate: what is billed with zero traffic, priced from the pack's table."""

from __future__ import annotations

from dataclasses import replace

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


def test_policy_cost_eks_control_plane_bills_every_hour() -> None:
    total, items = estimate_idle_cost([_resource("aws:eks/cluster:Cluster", "k8s", roleArn="r")])
    assert total == pytest.approx(0.10 * 730, abs=0.01)
    assert items[0].what == "EKS cluster control plane"


def test_policy_cost_scheduled_crawler_is_priced_at_its_minimum_per_run() -> None:
    hourly = _resource("aws:glue/crawler:Crawler", "crawl", name="crawl", schedule="cron(0 * * * ? *)")
    total, items = estimate_idle_cost([hourly, _resource("aws:glue/crawler:Crawler", "on-demand", name="od")])
    # 730 runs x 1 DPU x 10 min x $0.44 per DPU-hour
    assert total == pytest.approx(730 * 1 * 10 / 60 * PRICES["glue_dpu_hour"], abs=0.01)
    assert total == pytest.approx(53.53, abs=0.01)
    assert len(items) == 1 and "730 runs/month x 1 DPU x the 10 min minimum billed per run" in items[0].what


@pytest.mark.parametrize(
    ("job", "expected"),
    [
        # 30.4 runs (daily) x 2 workers x 2 DPU (G.2X) x 1 min x $0.44
        ({"glueVersion": "4.0", "workerType": "G.2X", "numberOfWorkers": 2}, 30.4167 * 4 / 60 * 0.44),
        # Glue 1.0 without workers: 10 DPU, 10 min minimum
        ({"glueVersion": "1.0"}, 30.4167 * 10 * 10 / 60 * 0.44),
        # Python shell: 1/16 DPU, 1 min minimum
        ({"command": {"name": "pythonshell"}, "glueVersion": "3.0"}, 30.4167 * 0.0625 / 60 * 0.44),
        # Flex execution: the flex rate
        (
            {"glueVersion": "4.0", "workerType": "G.1X", "numberOfWorkers": 10, "executionClass": "FLEX"},
            30.4167 * 10 / 60 * 0.29,
        ),
        # A quarter-DPU worker (G.025X)
        ({"glueVersion": "4.0", "workerType": "G.025X", "numberOfWorkers": 2}, 30.4167 * 0.5 / 60 * 0.44),
    ],
    ids=["g2x-workers", "glue-1.0-default", "python-shell", "flex", "g025x"],
)
def test_policy_cost_job_started_by_a_scheduled_trigger(job: dict[str, object], expected: float) -> None:
    glue_job = _resource("aws:glue/job:Job", "etl", **{"name": "etl", "command": {"name": "glueetl"}, **job})
    trigger = _resource(
        "aws:glue/trigger:Trigger",
        "nightly",
        type="SCHEDULED",
        schedule="cron(0 2 * * ? *)",
        actions=[{"jobName": "etl"}],
    )
    total, items = estimate_idle_cost([glue_job, trigger])
    assert total == pytest.approx(expected, abs=0.01)
    assert [item.name for item in items] == ["nightly"] and "Glue job etl on a schedule" in items[0].what


def test_policy_cost_streaming_job_started_on_a_schedule_runs_all_month() -> None:
    glue_job = _resource(
        "aws:glue/job:Job",
        "stream",
        name="stream",
        command={"name": "gluestreaming"},
        glueVersion="4.0",
        workerType="G.025X",
        numberOfWorkers=2,
    )
    trigger = _resource(
        "aws:glue/trigger:Trigger",
        "start",
        type="SCHEDULED",
        schedule="cron(0 0 1 1 ? *)",
        actions=[{"jobName": "stream"}],
    )
    total, items = estimate_idle_cost([glue_job, trigger])
    assert total == pytest.approx(730 * 0.5 * 0.44, abs=0.01)
    assert "runs 730 h x 0.5 DPU" in items[0].what


def test_policy_cost_unscheduled_or_disabled_triggers_cost_nothing() -> None:
    actions = [{"jobName": "etl"}]
    total, items = estimate_idle_cost(
        [
            _resource("aws:glue/job:Job", "etl", name="etl", command={"name": "glueetl"}),
            _resource("aws:glue/trigger:Trigger", "manual", type="ON_DEMAND", actions=actions),
            _resource(
                "aws:glue/trigger:Trigger",
                "off",
                type="SCHEDULED",
                schedule="rate(1 hour)",
                enabled=False,
                actions=actions,
            ),
        ]
    )
    assert (total, items) == (0.0, [])


def test_policy_cost_unreadable_schedule_is_unpriced_not_zero() -> None:
    total, items = estimate_idle_cost([_resource("aws:glue/crawler:Crawler", "c", schedule="every tuesday")])
    assert total == 0.0 and items[0].monthly_usd is None and "cannot be read" in items[0].what


def test_policy_cost_idle_budget_names_the_eks_cluster_not_zero() -> None:
    from policy_testkit import Res, stack_findings

    found = stack_findings("idle-cost-budget", Res("aws:eks/cluster:Cluster", "k8s", {"roleArn": "r"}))
    assert found and "idle cost $73.00/month is over the $0.00 budget" in found[0][1], found


def test_policy_cost_a_glue_job_with_an_unknown_name_does_not_hide_the_others() -> None:
    pending = _resource("aws:glue/job:Job", "pending", name=UNKNOWN, command={"name": "glueetl"})
    named = _resource("aws:glue/job:Job", "etl", name="etl", glueVersion="4.0", workerType="G.1X", numberOfWorkers=2)
    trigger = _resource(
        "aws:glue/trigger:Trigger", "hourly", type="SCHEDULED", schedule="rate(1 hour)", actions=[{"jobName": "etl"}]
    )
    total, items = estimate_idle_cost([pending, named, trigger])
    assert total == pytest.approx(730 * 2 / 60 * 0.44, abs=0.01)
    assert [item.name for item in items] == ["hourly"]


def test_policy_cost_a_trigger_starting_a_scheduled_crawler_is_not_counted_twice() -> None:
    crawler = _resource("aws:glue/crawler:Crawler", "c", name="c", schedule="rate(1 day)")
    trigger = _resource(
        "aws:glue/trigger:Trigger", "t", type="SCHEDULED", schedule="rate(1 day)", actions=[{"crawlerName": "c"}]
    )
    total, items = estimate_idle_cost([crawler, trigger])
    assert [item.name for item in items] == ["c"]
    assert total == pytest.approx(730 / 24 * 10 / 60 * 0.44, abs=0.01)


TASK_ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"


def _fargate(task: dict[str, object] | None = None, **service: object) -> tuple[CostedResource, CostedResource]:
    """A Fargate service (2 tasks) and its task definition (0.5 vCPU, 1 GB, x86), then ``task``/``service``."""
    task_props: dict[str, object] = {"family": "web", "arn": TASK_ARN, "cpu": "512", "memory": "1024"}
    service_props: dict[str, object] = {"launchType": "FARGATE", "desiredCount": 2, "taskDefinition": TASK_ARN}
    return (
        _resource("aws:ecs/taskDefinition:TaskDefinition", "web-task", **{**task_props, **(task or {})}),
        _resource("aws:ecs/service:Service", "web", **{**service_props, **service}),
    )


# Per task-hour: 0.5 vCPU x $0.04048 + 1 GB x $0.004445 (x86); 0.5 x $0.03238 + 1 x $0.00356 (ARM).
X86_HALF_VCPU_1GB_MONTH = (0.5 * 0.04048 + 1 * 0.004445) * 730
ARM_HALF_VCPU_1GB_MONTH = (0.5 * 0.03238 + 1 * 0.00356) * 730


@pytest.mark.parametrize(
    ("task", "service", "expected", "what"),
    [
        ({}, {}, 2 * X86_HALF_VCPU_1GB_MONTH, "Fargate service (2 x 0.5 vCPU/1 GB, Linux/X86_64, always on)"),
        (
            {"runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"}},
            {},
            2 * ARM_HALF_VCPU_1GB_MONTH,
            "Fargate service (2 x 0.5 vCPU/1 GB, Linux/ARM64, always on)",
        ),
        ({}, {"desiredCount": 3}, 3 * X86_HALF_VCPU_1GB_MONTH, "Fargate service (3 x 0.5 vCPU/1 GB"),
        ({"cpu": "0.5 vCPU", "memory": "1 GB"}, {}, 2 * X86_HALF_VCPU_1GB_MONTH, "(2 x 0.5 vCPU/1 GB"),
        ({"cpu": "1 vcpu", "memory": "2GB"}, {}, 4 * X86_HALF_VCPU_1GB_MONTH, "(2 x 1 vCPU/2 GB"),
        ({}, {"taskDefinition": "web:3"}, 2 * X86_HALF_VCPU_1GB_MONTH, "(2 x 0.5 vCPU/1 GB"),
        ({"arn": None}, {"taskDefinition": "web"}, 2 * X86_HALF_VCPU_1GB_MONTH, "(2 x 0.5 vCPU/1 GB"),
        (
            {"ephemeralStorage": {"sizeInGib": 50}},
            {},
            2 * (X86_HALF_VCPU_1GB_MONTH + 30 * 0.000111 * 730),
            "Linux/X86_64, +30 GB storage, always on)",
        ),
        (
            {},
            {
                "launchType": None,
                "capacityProviderStrategies": [{"capacityProvider": "FARGATE_SPOT", "weight": 1}],
            },
            2 * 0.30 * X86_HALF_VCPU_1GB_MONTH,
            "2 on Fargate Spot at the least it costs, 30% of on-demand)",
        ),
        (
            {},
            {
                "desiredCount": 4,
                "launchType": None,
                "capacityProviderStrategies": [
                    {"capacityProvider": "FARGATE", "base": 1, "weight": 1},
                    {"capacityProvider": "FARGATE_SPOT", "weight": 2},
                ],
            },
            (2 + 2 * 0.30) * X86_HALF_VCPU_1GB_MONTH,
            "(4 x 0.5 vCPU/1 GB, Linux/X86_64, always on; 2 on Fargate Spot",
        ),
    ],
    ids=[
        "x86",
        "arm64",
        "count-3",
        "vcpu-gb-strings",
        "1-vcpu-form",
        "family-revision",
        "family",
        "storage",
        "spot",
        "fargate-base-and-spot-weight",
    ],
)
def test_policy_cost_fargate_service_bills_its_tasks_all_month(
    task: dict[str, object], service: dict[str, object], expected: float, what: str
) -> None:
    total, items = estimate_idle_cost(_fargate(task, **service))
    assert total == pytest.approx(expected, abs=0.01)
    assert [item.name for item in items] == ["web"] and what in items[0].what


def test_policy_cost_fargate_baseline_in_dollars() -> None:
    # 2 tasks x (0.5 x $0.04048 + 1 x $0.004445) x 730 h, from the published per-hour rates.
    total, _ = estimate_idle_cost(_fargate())
    assert total == pytest.approx(36.04, abs=0.01)
    assert PRICES["fargate_vcpu_hour_x86"] == 0.04048 and PRICES["fargate_gb_hour_arm64"] == 0.00356


@pytest.mark.parametrize(
    ("task", "service", "reason"),
    [
        ({}, {"taskDefinition": UNKNOWN}, "task definition is unknown until the update"),
        ({}, {"taskDefinition": "arn:aws:ecs:us-east-1:1:task-definition/other:1"}, "is not in this stack"),
        ({"family": UNKNOWN, "arn": UNKNOWN}, {}, "is not in this stack"),
        ({"cpu": UNKNOWN}, {}, "size is unknown until the update (cannot evaluate: cpu"),
        ({"cpu": "half a core"}, {}, "neither CPU units (256) nor vCPUs"),
        ({"cpu": None, "memory": None}, {}, "sets no task-level cpu and memory"),
        ({"runtimePlatform": {"operatingSystemFamily": "WINDOWS_SERVER_2022_CORE"}}, {}, "OS licence fee"),
        ({}, {"launchType": "EC2"}, "EC2 launch type: its instances are priced as instances"),
        ({}, {"launchType": None}, "no launchType or capacity provider strategy"),
        (
            {},
            {"launchType": None, "capacityProviderStrategies": [{"capacityProvider": "asg-provider", "weight": 1}]},
            "capacity provider(s) asg-provider",
        ),
    ],
    ids=[
        "unknown-task-definition",
        "task-definition-elsewhere",
        "family-unknown",
        "cpu-unknown",
        "cpu-unreadable",
        "no-task-size",
        "windows",
        "ec2-launch-type",
        "no-launch-type",
        "ec2-capacity-provider",
    ],
)
def test_policy_cost_fargate_service_without_a_known_size_is_unpriced(
    task: dict[str, object], service: dict[str, object], reason: str
) -> None:
    total, items = estimate_idle_cost(_fargate(task, **service))
    assert total == 0.0
    assert [(item.name, item.monthly_usd) for item in items] == [("web", None)] and reason in items[0].what


@pytest.mark.parametrize(
    ("task", "sources", "expected"),
    [
        ({"family": UNKNOWN, "arn": UNKNOWN}, "task", 2 * X86_HALF_VCPU_1GB_MONTH),
        ({"family": UNKNOWN, "arn": UNKNOWN, "cpu": UNKNOWN}, "task", None),
        ({}, "", None),
        ({}, "task and another", None),
    ],
    ids=["from-its-property-dependency", "its-size-unknown", "no-dependency", "two-dependencies"],
)
def test_policy_cost_fargate_service_with_an_unknown_reference_is_sized_by_where_the_value_comes_from(
    task: dict[str, object], sources: str, expected: float | None
) -> None:
    # A first preview: the service's taskDefinition is unknown, but the engine says which resource it comes from.
    task_definition, service = _fargate(task, taskDefinition=UNKNOWN)
    urns = {"": [], "task": [task_definition.urn], "task and another": [task_definition.urn, "urn:other"]}[sources]
    other = replace(task_definition, urn="urn:other", name="other-task")
    service = replace(service, property_dependencies={"taskDefinition": frozenset(urns)})
    total, items = estimate_idle_cost([task_definition, other, service])
    assert [(item.name, item.monthly_usd and round(item.monthly_usd, 2)) for item in items] == [
        ("web", expected and round(expected, 2))
    ]
    assert total == pytest.approx(expected or 0.0, abs=0.01)


def test_policy_cost_a_service_with_no_tasks_costs_nothing() -> None:
    assert estimate_idle_cost(_fargate(desiredCount=0)) == (0.0, [])


def test_policy_cost_idle_budget_prices_a_fargate_service_within_a_budget() -> None:
    from policy_testkit import Res, stack_findings

    task, service = (Res(resource.type, resource.name, dict(resource.props)) for resource in _fargate())
    over = stack_findings("idle-cost-budget", task, service)
    assert over and "idle cost $36.04/month is over the $0.00 budget" in over[0][1], over
    assert "Fargate service (2 x 0.5 vCPU/1 GB, Linux/X86_64, always on)  (web)" in over[0][1]
    assert stack_findings("idle-cost-budget", task, service, config={"monthlyBudgetUsd": 40}) == []
