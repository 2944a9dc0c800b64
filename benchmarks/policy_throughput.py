"""Policy pack throughput over the Analyzer gRPC protocol, as the engine drives it (``make bench``).

For 1,000 and 10,000 synthetic resources of the types the pack inspects, times ``Remediate`` +
``Analyze`` per resource and one ``AnalyzeStack``, for:

- ``pack``: the ``serverless-well-architected`` pack in ``policy/``;
- ``floor``: a pack with a single no-op resource rule, the cost of the protocol itself on this machine;
- ``sdk-floor``: a pack with as many no-op resource and stack rules as the real pack has, which is the
  floor the pulumi-policy SDK itself sets for a pack of this size (its servicer deserializes the
  resource's properties once per policy on every ``Analyze`` call);
- ``shared-floor``: the same no-op pack with the SDK's per-policy costs cut as the real pack cuts them
  (``policy_pack._sdk_sharing``: the conversion shared across policies, the stack built once per
  ``AnalyzeStack``, the runtime configured once per thread): the floor left once those SDK costs are gone.
  (Skipping the rules of other resource types does not apply: no-op policies inspect every type.)

Each figure is the median of ``--runs`` runs (3 by default; the packs take turns within a run, so a burst
of load on a shared machine hits all of them), in the pack process's CPU time (user + system, from
``/proc/<pid>/stat``), which other processes on the machine barely move, with wall time beside it.

Prints resources per CPU second, the pack's ratio to each floor (target: >= 0.9 x ``sdk-floor``, the
same-size no-op pack; ``shared-floor`` is the stricter reading, what the rules themselves cost on top of a
pack that shares too), and the growth from 1k to 10k of every pack (target: linear, within 11 x), the whole
run's and ``AnalyzeStack``'s alone, so the pack's growth reads against the SDK's own. Then the rules' own
work measured in-process without the SDK (every resource rule on every resource, every stack rule once),
which does not depend on the gRPC and deserialization costs the floors measure. Nothing is asserted: the
figures are for the report.

Usage: ``python benchmarks/policy_throughput.py [SIZE ...] [--runs N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_DIR))
sys.path.insert(0, str(PROJECT_DIR / "policy"))

from google.protobuf import struct_pb2  # noqa: E402
from pulumi.runtime.proto import analyzer_pb2  # noqa: E402
from pulumi_policy import ResourceValidationPolicy  # noqa: E402

from offline.policy_client import configure, launch_pack  # noqa: E402
from policy_pack import ALL_POLICIES  # noqa: E402

SIZES = (1_000, 10_000)
RUNS = 3
ACCOUNT = "123456789012"
REGION = "eu-west-1"
STACK_URN = "urn:pulumi:bench::orderflow::pulumi:pulumi:Stack::orderflow-bench"
PROVIDER = analyzer_pb2.AnalyzerProviderResource(
    urn="urn:pulumi:bench::orderflow::pulumi:providers:aws::default_7_51_1",
    type="pulumi:providers:aws",
    name="default_7_51_1",
)
PROVIDER.properties.update({"region": REGION, "version": "7.51.1"})

SHARING = f"""
import sys
sys.path.insert(0, {str(PROJECT_DIR / "policy")!r})
from policy_pack import _sdk_sharing
assert _sdk_sharing.share_property_conversion()
assert _sdk_sharing.build_stack_once()
assert _sdk_sharing.configure_runtime_once_per_thread()
"""

# The no-op packs collect garbage as the real pack does (policy/__main__.py), so a floor's AnalyzeStack is
# not slowed by full collections the real pack never runs.
NOOP_PACK = """
import gc
from pulumi_policy import EnforcementLevel, PolicyPack, ResourceValidationPolicy, StackValidationPolicy

gc.freeze()
gc.set_threshold(100_000, 50, 1_000)

def noop(args, report_violation):
    return None

PolicyPack(
    name="noop",
    enforcement_level=EnforcementLevel.ADVISORY,
    policies=[ResourceValidationPolicy(name=f"noop-{i}", description="no-op", validate=noop) for i in range(RESOURCES)]
    + [StackValidationPolicy(name=f"noop-s{i}", description="no-op", validate=noop) for i in range(STACKS)],
)
"""


def _unit(index: int) -> Iterator[tuple[str, str, dict[str, Any], dict[str, list[str]]]]:
    """Ten resources of one small service: a function with its role, logs, queue, DLQ, trigger, table..."""
    name = f"svc{index}"
    fn_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{name}"
    queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}-q"
    dlq_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{name}-dlq"
    yield (
        "aws:iam/role:Role",
        f"{name}-role",
        {
            "name": name,
            "arn": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "assumeRolePolicy": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":'
            '{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}',
        },
        {},
    )
    yield "aws:cloudwatch/logGroup:LogGroup", f"{name}-logs", {"name": f"/aws/lambda/{name}", "retentionInDays": 7}, {}
    yield (
        "aws:lambda/function:Function",
        name,
        {
            "name": name,
            "arn": fn_arn,
            "runtime": "python3.13",
            "handler": "app.handler",
            "role": f"arn:aws:iam::{ACCOUNT}:role/{name}",
            "memorySize": 256,
            "timeout": 10,
            "reservedConcurrentExecutions": 5,
            "architectures": ["arm64"],
            "tracingConfig": {"mode": "Active"},
            "loggingConfig": {"logFormat": "JSON", "logGroup": f"/aws/lambda/{name}"},
            "environment": {"variables": {"TABLE_NAME": f"{name}-table", "POWERTOOLS_SERVICE_NAME": name}},
        },
        {},
    )
    yield (
        "aws:iam/rolePolicy:RolePolicy",
        f"{name}-policy",
        {
            "role": name,
            "policy": '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["dynamodb:GetItem"],'
            f'"Resource":"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{name}-table"}},'
            '{"Effect":"Allow","Action":["xray:PutTraceSegments","xray:PutTelemetryRecords"],"Resource":"*"},'
            f'{{"Effect":"Allow","Action":"sqs:SendMessage","Resource":"{dlq_arn}"}}]}}',
        },
        {},
    )
    yield (
        "aws:sqs/queue:Queue",
        f"{name}-dlq",
        {"name": f"{name}-dlq", "arn": dlq_arn, "messageRetentionSeconds": 1209600},
        {},
    )
    yield (
        "aws:sqs/queue:Queue",
        f"{name}-q",
        {
            "name": f"{name}-q",
            "arn": queue_arn,
            "visibilityTimeoutSeconds": 60,
            "redrivePolicy": f'{{"deadLetterTargetArn":"{dlq_arn}","maxReceiveCount":3}}',
        },
        {},
    )
    yield (
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        f"{name}-source",
        {
            "eventSourceArn": queue_arn,
            "functionName": name,
            "functionResponseTypes": ["ReportBatchItemFailures"],
            "scalingConfig": {"maximumConcurrency": 2},
        },
        {},
    )
    yield (
        "aws:cloudwatch/eventTarget:EventTarget",
        f"{name}-target",
        {
            "rule": f"{name}-rule",
            "arn": queue_arn,
            "deadLetterConfig": {"arn": dlq_arn},
            "retryPolicy": {"maximumRetryAttempts": 3, "maximumEventAgeInSeconds": 3600},
        },
        {},
    )
    yield (
        "aws:dynamodb/table:Table",
        f"{name}-table",
        {
            "name": f"{name}-table",
            "billingMode": "PAY_PER_REQUEST",
            "hashKey": "pk",
            "attributes": [{"name": "pk", "type": "S"}],
            "pointInTimeRecovery": {"enabled": True},
        },
        {},
    )
    yield (
        "aws:cloudwatch/eventRule:EventRule",
        f"{name}-rule",
        {
            "eventBusName": "orders",
            "eventPattern": '{"source":["orderflow.orders"],"detail-type":["OrderPlaced"]}',
        },
        {},
    )


def synthetic_resources(count: int) -> list[analyzer_pb2.AnalyzerResource]:
    """``count`` resources (whole units of ten), as ``AnalyzerResource`` messages."""
    resources: list[analyzer_pb2.AnalyzerResource] = []
    index = 0
    while len(resources) < count:
        for type_, name, props, deps in _unit(index):
            resource = analyzer_pb2.AnalyzerResource(
                type=type_,
                name=name,
                urn=f"urn:pulumi:bench::orderflow::{type_}::{name}",
                parent=STACK_URN,
                provider=PROVIDER,
            )
            struct = struct_pb2.Struct()
            struct.update(props)
            resource.properties.CopyFrom(struct)
            for key, urns in deps.items():
                resource.propertyDependencies[key].urns.extend(urns)
            resources.append(resource)
        index += 1
    return resources[:count]


@dataclass(frozen=True)
class Sample:
    """One run of one pack over one stack: seconds of the per-resource calls and of ``AnalyzeStack``."""

    resources_wall: float
    stack_wall: float
    resources_cpu: float
    """CPU seconds (user + system) the pack process spent on ``Remediate`` + ``Analyze`` of every resource."""
    stack_cpu: float
    """CPU seconds the pack process spent on the one ``AnalyzeStack``."""

    @property
    def cpu(self) -> float:
        """CPU seconds of the whole run."""
        return self.resources_cpu + self.stack_cpu

    @property
    def wall(self) -> float:
        """Wall seconds of the whole run."""
        return self.resources_wall + self.stack_wall


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process, every thread included (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def median_sample(samples: Sequence[Sample]) -> Sample:
    """The median of each figure over several runs."""
    return Sample(
        statistics.median(s.resources_wall for s in samples),
        statistics.median(s.stack_wall for s in samples),
        statistics.median(s.resources_cpu for s in samples),
        statistics.median(s.stack_cpu for s in samples),
    )


def measure(pack_dir: Path, resources: list[analyzer_pb2.AnalyzerResource]) -> Sample:
    """Wall and pack-process CPU seconds for Remediate + Analyze over every resource, and for the one AnalyzeStack."""
    with launch_pack(pack_dir, project="orderflow", stack="bench", config={}) as pack:
        configure(
            pack.stub,
            project="orderflow",
            stack="bench",
            config={},
            dry_run=True,
            organization="organization",
            policy_config={},
        )
        stack_request = analyzer_pb2.AnalyzeStackRequest(resources=resources)
        pid = pack.process.pid
        start, cpu_start = time.perf_counter(), process_cpu_seconds(pid)
        for resource in resources:
            request = analyzer_pb2.AnalyzeRequest(
                type=resource.type,
                name=resource.name,
                urn=resource.urn,
                properties=resource.properties,
                options=analyzer_pb2.AnalyzerResourceOptions(parent=STACK_URN),
                provider=resource.provider,
            )
            pack.stub.Remediate(request)
            pack.stub.Analyze(request)
        resources_wall, resources_cpu = time.perf_counter() - start, process_cpu_seconds(pid) - cpu_start
        start, cpu_start = time.perf_counter(), process_cpu_seconds(pid)
        pack.stub.AnalyzeStack(stack_request)
        stack_wall, stack_cpu = time.perf_counter() - start, process_cpu_seconds(pid) - cpu_start
    return Sample(resources_wall, stack_wall, resources_cpu, stack_cpu)


def rules_only(resources: list[analyzer_pb2.AnalyzerResource]) -> tuple[float, float]:
    """CPU seconds the pack's own rules take, in-process: resource rules over every resource, stack rules once."""
    from google.protobuf import json_format
    from pulumi_policy.deserialize import deserialize_properties
    from pulumi_policy.proxy import unknown_checking_proxy

    from policy_pack import ALL_RULES
    from policy_pack._core import Node, Props, ResourceRule, StackRule, StackView

    plain = [deserialize_properties(json_format.MessageToDict(r.properties)) for r in resources]
    start = time.thread_time()
    for resource, props in zip(resources, plain, strict=True):
        for rule in ALL_RULES:
            if isinstance(rule, ResourceRule) and rule.applies_to(resource.type):
                rule.outcome(unknown_checking_proxy(props), resource.type, urn=resource.urn, name=resource.name)
    per_resource = time.thread_time() - start
    nodes = [
        Node(r.urn, r.type, r.name, Props(unknown_checking_proxy(p)), r.parent, frozenset(), {})
        for r, p in zip(resources, plain, strict=True)
    ]
    stack = StackView(nodes)
    start = time.thread_time()
    for rule in ALL_RULES:
        if isinstance(rule, StackRule):
            rule.outcome(stack)
    return per_resource, time.thread_time() - start


def _noop_pack(root: Path, name: str, resource_rules: int, stack_rules: int, *, shared: bool = False) -> Path:
    pack = root / name
    pack.mkdir()
    (pack / "PulumiPolicy.yaml").write_text("runtime: python\nversion: 0.0.1\n")
    (pack / "__main__.py").write_text(
        (SHARING if shared else "")
        + NOOP_PACK.replace("RESOURCES", str(resource_rules)).replace("STACKS", str(stack_rules))
    )
    return pack


MEASURABLE_CPU_SECONDS = 0.05
"""Below this (five ticks of the 10 ms process clock) a CPU figure is too coarse to divide by."""


def growth(
    samples: dict[tuple[str, int], Sample], label: str, small: int, large: int, *, stack_only: bool
) -> float | None:
    """How many times more CPU ``label`` took at ``large`` resources than at ``small`` (whole run or AnalyzeStack).

    ``None`` when the figure at ``small`` is too small to measure.
    """
    pick = (lambda s: s.stack_cpu) if stack_only else (lambda s: s.cpu)
    base = pick(samples[label, small])
    return pick(samples[label, large]) / base if base >= MEASURABLE_CPU_SECONDS else None


def _times(factor: float | None) -> str:
    return f"{factor:5.2f} x" if factor is not None else "  n/a  (too little CPU to measure)"


def main(argv: Sequence[str] | None = None) -> None:
    """Run every pack at every size, ``--runs`` times, and print the medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES), help="stack sizes (resources)")
    parser.add_argument("--runs", type=int, default=RUNS, help="runs per pack and size; figures are medians")
    args = parser.parse_args(argv)
    sizes: list[int] = args.sizes
    # Same size as the pack as the SDK sees it: its rules plus the two advisory notes policies.
    resource_rules = sum(isinstance(policy, ResourceValidationPolicy) for policy in ALL_POLICIES)
    stack_rules = len(ALL_POLICIES) - resource_rules
    results: dict[tuple[str, int], Sample] = {}
    with tempfile.TemporaryDirectory() as scratch:
        packs = {
            "pack": PROJECT_DIR / "policy",
            "floor": _noop_pack(Path(scratch), "floor", 1, 0),
            "sdk-floor": _noop_pack(Path(scratch), "sdk_floor", resource_rules, stack_rules),
            "shared-floor": _noop_pack(Path(scratch), "shared_floor", resource_rules, stack_rules, shared=True),
        }
        print(f"pack: {resource_rules} resource policies + {stack_rules} stack policies; median of {args.runs} runs")
        for size in sizes:
            resources = synthetic_resources(size)
            runs: dict[str, list[Sample]] = {label: [] for label in packs}
            for _ in range(args.runs):
                for label, pack_dir in packs.items():
                    runs[label].append(measure(pack_dir, resources))
            for label, samples in runs.items():
                result = results[label, size] = median_sample(samples)
                print(
                    f"{label:>12} {size:>6} resources: Remediate+Analyze {result.resources_cpu:6.2f} s CPU "
                    f"({result.resources_cpu / size * 1000:.2f} ms/resource; wall {result.resources_wall:6.2f} s), "
                    f"AnalyzeStack {result.stack_cpu:5.2f} s CPU (wall {result.stack_wall:5.2f} s), "
                    f"{size / result.cpu:6.0f} resources/CPU-s"
                )
    for size in sizes:
        rate = {label: size / results[label, size].cpu for label in packs}
        wall_rate = {label: size / results[label, size].wall for label in packs}
        print(
            f"{size:>6} resources, CPU: pack / sdk-floor = {rate['pack'] / rate['sdk-floor']:.2f} (target >= 0.90); "
            f"pack / shared-floor = {rate['pack'] / rate['shared-floor']:.2f}; "
            f"pack / floor = {rate['pack'] / rate['floor']:.2f}; "
            f"(wall: pack / sdk-floor = {wall_rate['pack'] / wall_rate['sdk-floor']:.2f})"
        )
    small, large = min(sizes), max(sizes)
    if large > small:
        print(f"growth {small} -> {large}, CPU (target: linear, <= {1.1 * large / small:.0f} x):")
        for label in packs:
            whole = _times(growth(results, label, small, large, stack_only=False))
            stack = _times(growth(results, label, small, large, stack_only=True))
            print(f"{label:>12}: whole run {whole}, AnalyzeStack alone {stack}")
    own = {size: rules_only(synthetic_resources(size)) for size in sizes}
    for size, (per_resource, stack_time) in own.items():
        print(
            f"rules' own work, {size:>6} resources: resource rules {per_resource:6.2f} s CPU, "
            f"stack rules {stack_time:6.2f} s CPU"
        )
    if large > small:
        print(f"rules' own growth {small} -> {large}: {sum(own[large]) / sum(own[small]):.2f} x")
    print(f"load average while measured: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
