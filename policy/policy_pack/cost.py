"""Scale to zero: no NAT gateways or provisioned streams, and the stack's idle monthly bill within budget.

:func:`estimate_idle_cost` is a pure function over a stack's resources, so tools outside the engine
(the offline preview) can print the same figure the ``idle-cost-budget`` policy gates on.

Prices are us-east-1 list prices in USD per month (730 hours), for what is billed with zero traffic,
read from the pack's shared price file (``data/prices.csv``: each row names its page and date; see
:mod:`policy_pack.figures`). Other regions differ by a few percent; the figure is a gate, not an
invoice. Anything that bills while idle but has no fixed price here is listed as *unpriced*.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import (
    ABSENT,
    BadValueError,
    CannotEvaluateError,
    Finding,
    Props,
    ResourceRule,
    StackRule,
    StackView,
    lambda_identity,
)
from policy_pack.compute import RDS_CLUSTER_INSTANCE, RDS_INSTANCE, SERVER_TYPES
from policy_pack.figures import REFERENCE_REGION, prices
from policy_pack.lambda_ import FUNCTION, PROVISIONED_CONCURRENCY
from policy_pack.schedules import ScheduleError, runs_per_month

SERVICE: Final = "cost"

HOURS_PER_MONTH: Final = 730
SECONDS_PER_MONTH: Final = HOURS_PER_MONTH * 3600

NAT_GATEWAY: Final = "aws:ec2/natGateway:NatGateway"
VPC_ENDPOINT: Final = "aws:ec2/vpcEndpoint:VpcEndpoint"
KINESIS_STREAM: Final = "aws:kinesis/stream:Stream"
ECS_SERVICE: Final = "aws:ecs/service:Service"
ECS_TASK_DEFINITION: Final = "aws:ecs/taskDefinition:TaskDefinition"
EKS_CLUSTER: Final = "aws:eks/cluster:Cluster"
GLUE_JOB: Final = "aws:glue/job:Job"
GLUE_TRIGGER: Final = "aws:glue/trigger:Trigger"
GLUE_CRAWLER: Final = "aws:glue/crawler:Crawler"

# Glue bills each run for at least this long (https://aws.amazon.com/glue/pricing/): a scheduled run is
# priced at its minimum, the least it can cost, since the pack cannot know how long it really runs.
GLUE_MINIMUM_SECONDS_PER_RUN: Final = 60
GLUE_LEGACY_MINIMUM_SECONDS_PER_RUN: Final = 600
"""Glue 0.9 and 1.0 jobs."""
GLUE_CRAWLER_MINIMUM_SECONDS_PER_RUN: Final = 600
GLUE_CRAWLER_ASSUMED_DPUS: Final = 1
"""A crawler's DPUs are AWS's choice; one is the least a run can use."""
# DPUs a job gets when it names no worker type: maxCapacity's defaults (CreateJob API reference).
GLUE_DEFAULT_DPUS: Final = 10.0
GLUE_PYTHON_SHELL_DEFAULT_DPUS: Final = 0.0625

# name -> USD per month (or per unit-month where the name says so), from the shared price file.
PRICES: Final[Mapping[str, float]] = {
    figure.item: figure.value for figure in prices() if figure.region == REFERENCE_REGION
}

# API Gateway REST cache cluster, USD per month by size in GB (rows ``rest_cache_cluster_<size>gb``).
API_CACHE_MONTHLY: Final[Mapping[str, float]] = {
    item.removeprefix("rest_cache_cluster_").removesuffix("gb"): value
    for item, value in PRICES.items()
    if item.startswith("rest_cache_cluster_")
}

# Billed while idle, but by sizes this pack does not price.
UNPRICED_IDLE_TYPES: Final[Mapping[str, str]] = {
    **SERVER_TYPES,
    RDS_INSTANCE: "an RDS DB instance",
    RDS_CLUSTER_INSTANCE: "an Aurora DB instance (Serverless v2 bills its minimum ACUs unless it pauses at 0)",
    "aws:opensearch/serverlessCollection:ServerlessCollection": "an OpenSearch Serverless collection (minimum OCUs)",
    "aws:elasticache/serverlessCache:ServerlessCache": "an ElastiCache Serverless cache (minimum data storage)",
}


class CostInput(Protocol):
    """What :func:`estimate_idle_cost` needs of a resource."""

    @property
    def urn(self) -> str:
        """The resource URN."""
        ...

    @property
    def type(self) -> str:
        """The resource type token."""
        ...

    @property
    def name(self) -> str:
        """The resource's logical name."""
        ...

    @property
    def props(self) -> Mapping[str, Any]:
        """Its inputs (or outputs)."""
        ...

    @property
    def property_dependencies(self) -> Mapping[str, frozenset[str]]:
        """Input name → URNs of the resources its value comes from (the engine's ``propertyDependencies``)."""
        ...


@dataclass(frozen=True)
class CostedResource:
    """A plain :class:`CostInput`."""

    urn: str
    type: str
    name: str
    props: Mapping[str, Any]
    property_dependencies: Mapping[str, frozenset[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class IdleCostItem:
    """One thing billed while the stack idles."""

    urn: str
    type: str
    name: str
    what: str
    monthly_usd: float | None
    """``None`` when the pack has no price for it (see :data:`UNPRICED_IDLE_TYPES`)."""


def estimate_idle_cost(resources: Iterable[CostInput]) -> tuple[float, list[IdleCostItem]]:
    """The stack's monthly bill with zero traffic, from :data:`PRICES`.

    Parameters
    ----------
    resources:
        Every resource of the stack (anything else than AWS resources is ignored).

    Returns
    -------
    tuple[float, list[IdleCostItem]]
        The total of the priced items (USD per month) and every item, priced or not, in stack order.
        Values unknown during preview make an item unpriced rather than raising.
    """
    resources = list(resources)
    functions = [resource for resource in resources if resource.type == FUNCTION]
    glue = GlueIndex.of(resources)
    tasks = TaskDefinitionIndex.of(resources)
    items: list[IdleCostItem] = []
    for resource in resources:
        props = Props(resource.props)
        try:
            found = list(_price(resource, props, functions, glue, tasks))
        except CannotEvaluateError as error:
            found = [(f"{resource.type} with values unknown until the update ({error.message})", None)]
        except (ValueError, TypeError) as error:
            found = [(f"{resource.type} with values the pack cannot read ({error})", None)]
        items.extend(IdleCostItem(resource.urn, resource.type, resource.name, what, price) for what, price in found)
    total = round(sum(item.monthly_usd for item in items if item.monthly_usd is not None), 2)
    return total, items


def _num(props: Props, path: str, default: float = 0.0) -> float:
    value = props.number(path, default)
    return float(value)


def _price(
    resource: CostInput, props: Props, functions: list[CostInput], glue: GlueIndex, tasks: TaskDefinitionIndex
) -> Iterator[tuple[str, float | None]]:
    kind = resource.type
    if kind == PROVISIONED_CONCURRENCY:
        yield _provisioned_concurrency(props, functions)
    elif kind == "aws:dynamodb/table:Table":
        if props.text("billingMode", "PROVISIONED") != "PAY_PER_REQUEST":
            wcu = _num(props, "writeCapacity") + sum(
                _num(g, "writeCapacity") for g in props.each("globalSecondaryIndexes")
            )
            rcu = _num(props, "readCapacity") + sum(
                _num(g, "readCapacity") for g in props.each("globalSecondaryIndexes")
            )
            price = wcu * PRICES["dynamodb_wcu"] + rcu * PRICES["dynamodb_rcu"]
            yield f"DynamoDB provisioned capacity ({wcu:g} WCU, {rcu:g} RCU)", price
    elif kind in ("aws:kms/key:Key", "aws:kms/replicaKey:ReplicaKey", "aws:kms/externalKey:ExternalKey"):
        yield "KMS customer-managed key", PRICES["kms_key"]
    elif kind == "aws:cloudwatch/metricAlarm:MetricAlarm":
        yield _alarm(props)
    elif kind == "aws:cloudwatch/compositeAlarm:CompositeAlarm":
        yield "CloudWatch composite alarm", PRICES["alarm_composite"]
    elif kind == NAT_GATEWAY:
        yield "NAT gateway", PRICES["nat_gateway"]
    elif kind == VPC_ENDPOINT:
        if props.text("vpcEndpointType", "Gateway") == "Interface":
            zones = max(1, len(props.seq("subnetIds")))
            yield f"interface VPC endpoint in {zones} AZ(s)", zones * PRICES["vpc_interface_endpoint_per_az"]
    elif kind == "aws:ec2/eip:Eip":
        yield "public IPv4 address (Elastic IP)", PRICES["public_ipv4_address"]
    elif kind in ("aws:lb/loadBalancer:LoadBalancer", "aws:alb/loadBalancer:LoadBalancer"):
        if props.text("loadBalancerType", "application") == "gateway":
            yield "Gateway Load Balancer", PRICES["gateway_load_balancer"]
        else:
            yield "load balancer", PRICES["application_or_network_load_balancer"]
    elif kind == "aws:elb/loadBalancer:LoadBalancer":
        yield "Classic Load Balancer", PRICES["classic_load_balancer"]
    elif kind == "aws:apigateway/stage:Stage":
        if props.flag("cacheClusterEnabled", False) is True:
            size = str(props.get("cacheClusterSize", "0.5"))
            size = size[:-2] if size.endswith(".0") else size
            yield f"API Gateway cache cluster ({size} GB)", API_CACHE_MONTHLY.get(size)
    elif kind in ("aws:wafv2/webAcl:WebAcl", "aws:waf/webAcl:WebAcl", "aws:wafregional/webAcl:WebAcl"):
        rules = len(props.seq("rules"))
        yield f"WAF web ACL with {rules} rule(s)", PRICES["waf_web_acl"] + rules * PRICES["waf_rule"]
    elif kind == KINESIS_STREAM:
        if props.text("streamModeDetails.streamMode", "PROVISIONED") == "ON_DEMAND":
            yield "Kinesis on-demand stream", PRICES["kinesis_on_demand_stream"]
        else:
            shards = _num(props, "shardCount")
            yield f"Kinesis provisioned stream ({shards:g} shards)", shards * PRICES["kinesis_shard"]
    elif kind == "aws:secretsmanager/secret:Secret":
        yield "Secrets Manager secret", PRICES["secret"]
    elif kind == "aws:route53/zone:Zone":
        yield "Route 53 hosted zone", PRICES["route53_hosted_zone"]
    elif kind == "aws:msk/serverlessCluster:ServerlessCluster":
        yield "MSK Serverless cluster", PRICES["msk_serverless_cluster"]
    elif kind == ECS_SERVICE:
        count = _num(props, "desiredCount", 0)
        if count > 0:
            yield _ecs_service(resource, props, count, tasks)
    elif kind == EKS_CLUSTER:
        yield "EKS cluster control plane", PRICES["eks_cluster"]
    elif kind == GLUE_CRAWLER:
        if props.has("schedule"):
            yield _scheduled_glue(
                f"scheduled Glue crawler ({props.text('schedule')})",
                props.text("schedule"),
                GLUE_CRAWLER_ASSUMED_DPUS,
                GLUE_CRAWLER_MINIMUM_SECONDS_PER_RUN,
                PRICES["glue_dpu_hour"],
            )
    elif kind == GLUE_TRIGGER:
        yield from _glue_trigger(props, glue)
    elif kind in UNPRICED_IDLE_TYPES:
        yield UNPRICED_IDLE_TYPES[kind], None


def _provisioned_concurrency(props: Props, functions: list[CostInput]) -> tuple[str, float | None]:
    executions = _num(props, "provisionedConcurrentExecutions")
    target = props.text("functionName", "")
    memory_mb, architecture = 128.0, "x86_64"
    for function in functions:
        function_props = Props(function.props)
        names: set[str] = set()
        for key in ("name", "arn"):
            try:
                value = function_props.get(key, "")
            except CannotEvaluateError:
                continue
            if isinstance(value, str) and value:
                names |= lambda_identity(value)
        if target and lambda_identity(target) & names:
            memory_mb = _num(function_props, "memorySize", 128)
            architectures = function_props.seq("architectures")
            architecture = str(architectures[0]) if architectures else "x86_64"
            break
    rate = PRICES[
        "lambda_provisioned_gb_second_arm64" if architecture == "arm64" else "lambda_provisioned_gb_second_x86"
    ]
    price = executions * (memory_mb / 1024) * SECONDS_PER_MONTH * rate
    return f"Lambda provisioned concurrency ({executions:g} x {memory_mb:g} MB, {architecture})", price


FARGATE: Final = "FARGATE"
FARGATE_SPOT: Final = "FARGATE_SPOT"
FARGATE_FREE_EPHEMERAL_GIB: Final = 20
"""Every Fargate task gets 20 GiB of ephemeral storage free; more bills per GB-hour."""

_VCPU: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*vcpu\s*$", re.IGNORECASE)
_GIGABYTES: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*gb\s*$", re.IGNORECASE)
_UNITS: Final = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*$")


def task_vcpu(value: object) -> float:
    """A task definition's ``cpu`` in vCPUs: CPU units (``256``, ``"1024"``) or vCPUs (``"1 vCPU"``, ``"0.25 vcpu"``).

    Raises
    ------
    ValueError
        When the value is in neither form (the ECS API's RegisterTaskDefinition ``cpu``).
    """
    return _task_quantity(value, _VCPU, f"task cpu {value!r} is neither CPU units (256) nor vCPUs (0.25 vCPU)")


def task_gigabytes(value: object) -> float:
    """A task definition's ``memory`` in GB: MiB (``512``, ``"2048"``) or GB (``"0.5 GB"``, ``"1GB"``).

    Raises
    ------
    ValueError
        When the value is in neither form (the ECS API's RegisterTaskDefinition ``memory``).
    """
    return _task_quantity(value, _GIGABYTES, f"task memory {value!r} is neither MiB (512) nor GB (0.5 GB)")


def _task_quantity(value: object, named_unit: re.Pattern[str], problem: str) -> float:
    """``value`` in the unit ``named_unit`` matches, or a bare number of 1/1024ths of it (CPU units, MiB)."""
    text = str(value)
    if match := named_unit.match(text):
        return float(match[1])
    if match := _UNITS.match(text):
        return float(match[1]) / 1024
    raise ValueError(problem)


def task_definition_family(reference: str) -> str:
    """The family a service's ``taskDefinition`` names: from an ARN, ``family:revision`` or ``family``."""
    name = reference.split(":task-definition/", 1)[1] if ":task-definition/" in reference else reference
    return name.split(":", 1)[0]


@dataclass(frozen=True)
class TaskDefinitionIndex:
    """The stack's ECS task definitions by ARN and by family (one whose family is unknown is left out), and by URN."""

    by_arn: Mapping[str, Props]
    by_family: Mapping[str, list[Props]]
    by_urn: Mapping[str, Props]

    @classmethod
    def of(cls, resources: Iterable[CostInput]) -> TaskDefinitionIndex:
        """Index the task definitions among ``resources``."""
        by_arn: dict[str, Props] = {}
        by_family: dict[str, list[Props]] = {}
        by_urn: dict[str, Props] = {}
        for resource in resources:
            if resource.type != ECS_TASK_DEFINITION:
                continue
            props = by_urn[resource.urn] = Props(resource.props)
            try:
                family = props.get("family", None)
                arn = props.get("arn", None)
            except CannotEvaluateError:
                continue
            if isinstance(arn, str) and arn:
                by_arn[arn] = props
            if isinstance(family, str) and family:
                by_family.setdefault(family, []).append(props)
        return cls(by_arn, by_family, by_urn)

    def find(self, reference: str) -> list[Props]:
        """The task definitions ``reference`` (a service's ``taskDefinition``) may name."""
        exact = self.by_arn.get(reference)
        return [exact] if exact is not None else self.by_family.get(task_definition_family(reference), [])


def _fargate_spot_tasks(props: Props, count: float) -> float | str:
    """How many of ``count`` tasks run on Fargate Spot, or why the service is not on Fargate.

    The strategy's ``base`` tasks go to its provider first, the rest split by ``weight`` (the ECS
    capacity provider strategy); without a strategy, ``launchType`` decides.
    """
    strategies = props.each("capacityProviderStrategies")
    if not strategies:
        launch_type = props.text("launchType", "")
        if launch_type == FARGATE:
            return 0.0
        if launch_type:
            return f"ECS service on the {launch_type} launch type: its instances are priced as instances, if at all"
        return (
            "ECS service with no launchType or capacity provider strategy: it runs on the cluster's default "
            "strategy, or on EC2 instances priced as instances, if at all"
        )
    providers = [str(strategy.text("capacityProvider", "")) for strategy in strategies]
    others = sorted(set(providers) - {FARGATE, FARGATE_SPOT})
    if others:
        return f"ECS service on capacity provider(s) {', '.join(others)}: their instances are not priced here"
    bases = [_num(strategy, "base", 0) for strategy in strategies]
    weights = [_num(strategy, "weight", 0) for strategy in strategies]
    spread = max(0.0, count - sum(bases))
    if spread and not sum(weights):
        return "ECS service whose capacity provider strategy gives every provider weight 0"
    spot = 0.0
    for provider, base, weight in zip(providers, bases, weights, strict=True):
        if provider == FARGATE_SPOT:
            spot += min(base, count) + (spread * weight / sum(weights) if spread else 0.0)
    return spot


def _ecs_service(
    resource: CostInput, props: Props, count: float, tasks: TaskDefinitionIndex
) -> tuple[str, float | None]:
    """A Fargate service's tasks, always on: count x (vCPU x rate + GB x rate) x 730 h.

    Its task definition is the one its ``taskDefinition`` names (ARN or family) or, while that value is unknown
    (a preview), the one task definition the value comes from (its property dependency).
    """
    spot = _fargate_spot_tasks(props, count)
    if isinstance(spot, str):
        return spot, None
    service = f"Fargate service ({count:g} task(s))"
    try:
        reference = props.get("taskDefinition", None)
    except CannotEvaluateError:
        sources = [
            tasks.by_urn[urn] for urn in resource.property_dependencies.get("taskDefinition", ()) if urn in tasks.by_urn
        ]
        if len(sources) != 1:
            return f"{service}: its task definition is unknown until the update, so its size is too", None
        reference, found = "(from its property dependency)", sources
    else:
        found = tasks.find(reference) if isinstance(reference, str) else []
    if not found:
        return f"{service}: task definition {reference!r} is not in this stack, so its size is unknown", None
    try:
        sizes = {_task_size(task) for task in found}
    except CannotEvaluateError as error:
        return f"{service}: its task definition's size is unknown until the update ({error.message})", None
    except (ValueError, BadValueError) as error:
        return f"{service}: {error}", None
    if len(sizes) > 1:
        return f"{service}: {reference!r} names task definitions of different sizes in this stack", None
    (size,) = sizes
    if isinstance(size, str):
        return f"{service}: {size}", None
    vcpu, gigabytes, architecture, extra_storage = size
    suffix = "arm64" if architecture == "ARM64" else "x86"
    hourly = (
        vcpu * PRICES[f"fargate_vcpu_hour_{suffix}"]
        + gigabytes * PRICES[f"fargate_gb_hour_{suffix}"]
        + extra_storage * PRICES["fargate_ephemeral_storage_gb_hour"]
    )
    fraction = PRICES["fargate_spot_least_fraction"]
    price = (count - spot + spot * fraction) * hourly * HOURS_PER_MONTH
    storage = f", +{extra_storage:g} GB storage" if extra_storage else ""
    what = f"Fargate service ({count:g} x {vcpu:g} vCPU/{gigabytes:g} GB, Linux/{architecture}{storage}, always on"
    if spot:
        what += f"; {spot:.3g} on Fargate Spot at the least it costs, {fraction:.0%} of on-demand"
    return what + ")", price


def _task_size(task: Props) -> tuple[float, float, str, float] | str:
    """``(vCPU, GB, architecture, GB of storage above the free 20)`` of a Fargate task, or why it has no price."""
    if not (task.has("cpu") and task.has("memory")):
        return "its task definition sets no task-level cpu and memory, which Fargate requires"
    family = str(task.text("runtimePlatform.operatingSystemFamily", "LINUX"))
    if family != "LINUX":
        return f"a {family} task bills an OS licence fee the price file does not hold"
    architecture = str(task.text("runtimePlatform.cpuArchitecture", "X86_64"))
    storage = _num(task, "ephemeralStorage.sizeInGib", FARGATE_FREE_EPHEMERAL_GIB)
    extra = max(0.0, storage - FARGATE_FREE_EPHEMERAL_GIB)
    return task_vcpu(task.get("cpu")), task_gigabytes(task.get("memory")), architecture, extra


def _scheduled_glue(
    what: str, schedule: str, dpus: float, minimum_seconds: int, rate: float
) -> tuple[str, float | None]:
    """A scheduled Glue run priced at its minimum billed duration, times the runs a month."""
    try:
        runs = runs_per_month(schedule)
    except ScheduleError as error:
        return f"{what}: the schedule cannot be read ({error})", None
    price = runs * dpus * minimum_seconds / 3600 * rate
    assumption = f"{runs:,.0f} runs/month x {dpus:g} DPU x the {minimum_seconds // 60} min minimum billed per run"
    return f"{what}: at least {assumption}", price


def _glue_job_dpus(job: Props) -> tuple[float, int, float]:
    """A job's DPUs, minimum billed seconds per run and DPU-hour rate."""
    command = str(job.text("command.name", "glueetl"))
    version = str(job.text("glueVersion", "0.9"))
    legacy = command != "pythonshell" and version in ("0.9", "1.0")
    minimum = GLUE_LEGACY_MINIMUM_SECONDS_PER_RUN if legacy else GLUE_MINIMUM_SECONDS_PER_RUN
    rate = PRICES["glue_dpu_hour_flex" if job.text("executionClass", "STANDARD") == "FLEX" else "glue_dpu_hour"]
    worker_type = job.text("workerType", "")
    if worker_type and job.has("numberOfWorkers"):
        per_worker = _WORKER_DPUS.match(str(worker_type))
        size = 1.0 if worker_type == "Standard" or not per_worker else _worker_size(per_worker[1])
        return _num(job, "numberOfWorkers") * size, minimum, rate
    default = GLUE_PYTHON_SHELL_DEFAULT_DPUS if command == "pythonshell" else GLUE_DEFAULT_DPUS
    return _num(job, "maxCapacity", default), minimum, rate


_WORKER_DPUS: Final = re.compile(r"^[GRZ]\.(\d+)X$")


def _worker_size(digits: str) -> float:
    """DPUs of a worker from its type's number: ``025`` is a quarter DPU (G.025X), otherwise the number."""
    return 0.25 if digits == "025" else float(digits)


@dataclass(frozen=True)
class GlueIndex:
    """The stack's Glue jobs by name, and the names of crawlers that run on their own schedule."""

    jobs: Mapping[str, Props]
    scheduled_crawlers: frozenset[str]

    @classmethod
    def of(cls, resources: Iterable[CostInput]) -> GlueIndex:
        """Index ``resources`` (a job or crawler whose name is unknown until the update is left out)."""
        jobs: dict[str, Props] = {}
        crawlers: set[str] = set()
        for resource in resources:
            if resource.type not in (GLUE_JOB, GLUE_CRAWLER):
                continue
            props = Props(resource.props)
            try:
                name = props.get("name", None)
                scheduled = props.is_set("schedule")
            except CannotEvaluateError:
                continue
            if not isinstance(name, str):
                continue
            if resource.type == GLUE_JOB:
                jobs[name] = props
            elif scheduled:
                crawlers.add(name)
        return cls(jobs, frozenset(crawlers))


def _glue_trigger(props: Props, glue: GlueIndex) -> Iterator[tuple[str, float | None]]:
    if props.text("type", "") != "SCHEDULED" or props.flag("enabled", True) is False:
        return
    schedule = str(props.text("schedule", ""))
    for action in props.each("actions"):
        if action.has("jobName"):
            name = str(action.text("jobName"))
            job = glue.jobs.get(name)
            if job is None:  # a job defined outside the stack: its defaults
                dpus, minimum, rate = GLUE_DEFAULT_DPUS, GLUE_MINIMUM_SECONDS_PER_RUN, PRICES["glue_dpu_hour"]
            else:
                dpus, minimum, rate = _glue_job_dpus(job)
                if job.text("command.name", "glueetl") == "gluestreaming":
                    # A streaming job, once started, runs until someone stops it.
                    yield (
                        f"Glue streaming job {name} started on a schedule: runs 730 h x {dpus:g} DPU",
                        HOURS_PER_MONTH * dpus * rate,
                    )
                    continue
            yield _scheduled_glue(f"Glue job {name} on a schedule ({schedule})", schedule, dpus, minimum, rate)
        elif action.has("crawlerName"):
            name = str(action.text("crawlerName"))
            if name not in glue.scheduled_crawlers:  # a crawler with its own schedule is priced on its own
                yield _scheduled_glue(
                    f"Glue crawler {name} on a schedule ({schedule})",
                    schedule,
                    GLUE_CRAWLER_ASSUMED_DPUS,
                    GLUE_CRAWLER_MINIMUM_SECONDS_PER_RUN,
                    PRICES["glue_dpu_hour"],
                )


def _alarm(props: Props) -> tuple[str, float]:
    queries = props.each("metricQueries")
    if queries:
        metrics = [query for query in queries if query.has("metric")]
        periods = [_num(query, "metric.period", 60) for query in metrics]
    else:
        metrics = [props]
        periods = [_num(props, "period", 60)]
    price = sum(
        PRICES["alarm_metric_high_resolution"] if period < 60 else PRICES["alarm_metric_standard"] for period in periods
    )
    return f"CloudWatch alarm on {len(metrics)} metric(s)", price


def format_usd(amount: float) -> str:
    """``$1,234.50``."""
    return f"${amount:,.2f}"


def describe_items(items: Iterable[IdleCostItem]) -> list[str]:
    """One line per item, dearest first: ``<price or unpriced>  <what>  (<name>)``."""
    lines = []
    for item in sorted(items, key=lambda i: (-(i.monthly_usd or 0.0), i.name)):
        price = format_usd(item.monthly_usd) if item.monthly_usd is not None else "unpriced"
        lines.append(f"{price:>10}  {item.what}  ({item.name})")
    return lines


def _budget(stack: StackView, config: Mapping[str, Any]) -> Iterator[Finding]:
    resources = [
        CostedResource(node.urn, node.type, node.name, node.props.raw, node.property_dependencies)
        for node in stack.nodes
    ]
    total, items = estimate_idle_cost(resources)
    budget = float(config["monthlyBudgetUsd"])
    unpriced = [item for item in items if item.monthly_usd is None]
    over = total > budget + 1e-9
    if over or (unpriced and not config["allowUnpriced"]):
        verdict = (
            f"idle cost {format_usd(total)}/month is over the {format_usd(budget)} budget"
            if over
            else f"idle cost is at least {format_usd(total)}/month and {len(unpriced)} item(s) have no price"
        )
        yield Finding(verdict + ":\n" + "\n".join(describe_items(items)))


def _no_nat_gateway(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    yield (
        f"a NAT gateway costs {format_usd(PRICES['nat_gateway'])}/month per AZ with no traffic: keep functions "
        "out of VPCs, or reach AWS services through gateway endpoints"
    )


def _no_provisioned_kinesis(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    mode = props.text("streamModeDetails.streamMode", ABSENT)
    if mode in (ABSENT, "PROVISIONED"):
        yield (
            f"the stream is in PROVISIONED mode ({format_usd(PRICES['kinesis_shard'])} per shard-month while "
            "idle): use ON_DEMAND, or SQS/EventBridge, which bill nothing while idle"
        )


RULES: Final = [
    ResourceRule(
        name="no-nat-gateway",
        summary="No NAT gateways: they bill every hour whether or not traffic flows",
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(NAT_GATEWAY,),
        check=_no_nat_gateway,
    ),
    ResourceRule(
        name="kinesis-no-provisioned-stream",
        summary="No provisioned-mode Kinesis streams: shards bill every hour with no traffic",
        anchors=(),
        severity=Severity.MEDIUM,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(KINESIS_STREAM,),
        check=_no_provisioned_kinesis,
    ),
    StackRule(
        name="idle-cost-budget",
        summary=(
            "The stack's monthly bill with zero traffic (provisioned concurrency and capacity, keys, alarms, "
            "NAT, endpoints, caches, WAF, streams, EKS control planes, Fargate tasks, scheduled Glue runs…) "
            "stays within the configured budget"
        ),
        anchors=(),
        severity=Severity.HIGH,
        enforcement_level=EnforcementLevel.MANDATORY,
        service=SERVICE,
        resource_types=(
            ECS_SERVICE,
            EKS_CLUSTER,
            GLUE_CRAWLER,
            GLUE_TRIGGER,
            KINESIS_STREAM,
            PROVISIONED_CONCURRENCY,
            NAT_GATEWAY,
            VPC_ENDPOINT,
        ),
        check=_budget,
        config={
            "monthlyBudgetUsd": {"type": "number", "default": 0, "minimum": 0},
            "allowUnpriced": {"type": "boolean", "default": False},
        },
    ),
]
