"""The architecture diagram, generated from the recorded program rather than drawn.

Every node and edge comes from what the program registers: API routes and their integrations,
role policies (who puts events, publishes, starts or invokes what), rules and their targets, event
source mappings, subscriptions, and every failure path (rule DLQs, queue redrives, on-failure
destinations, subscription redrives), drawn dashed in red. Nodes are grouped in clusters (edge, choreography,
orchestration, state, failure paths) so each concern reads as one block. ``make diagram`` writes the Graphviz source
to ``docs/architecture.dot`` and renders SVG and PNG beside it; a test fails when the committed
source no longer matches the program.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.harness import PROJECT_DIR, run_program
from offline.recording import ProgramRun, RecordedResource, as_list, json_input

# Service → (label prefix, fill colour): AWS's category colours, lightened for readability.
SERVICES = {
    "client": ("Browser", "#ffffff"),
    "apigateway": ("API Gateway", "#f3d9f7"),
    "lambda": ("Lambda", "#fde2c4"),
    "events": ("EventBridge", "#f9d0dc"),
    "states": ("Step Functions", "#f9d0dc"),
    "sqs": ("SQS", "#f9d0dc"),
    "sns": ("SNS", "#f9d0dc"),
    "dynamodb": ("DynamoDB", "#d4e2fb"),
    "s3": ("S3", "#d5efd2"),
    "iot": ("IoT Core", "#d5efd2"),
    "cognito": ("Cognito", "#fbd5d5"),
    "cloudfront": ("CloudFront", "#e4dcf7"),
}
_DLQ_LABEL = "DLQ"
_STATE_LABEL = "read/write"


@dataclass(frozen=True, order=True)
class Edge:
    """A directed edge; failure paths are drawn dashed."""

    source: str
    target: str
    label: str = ""
    failure: bool = False


@dataclass
class Diagram:
    """Nodes (id → service, name) and edges of the architecture."""

    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)
    edges: set[Edge] = field(default_factory=set)

    def node(self, service: str, name: str) -> str:
        """Add (once) and return the id of a node."""
        node_id = re.sub(r"[^a-z0-9]+", "_", f"{service}_{name}".lower()).strip("_")
        self.nodes.setdefault(node_id, (service, name))
        return node_id

    def edge(self, source: str, target: str, label: str = "", *, failure: bool = False) -> None:
        """Add an edge between two existing nodes."""
        self.edges.add(Edge(source, target, label, failure))


def _queue_name(run: ProgramRun, queue: RecordedResource) -> str:
    component = run.component_name(queue)
    return component if queue.name.endswith("-queue") else queue.name


class _Index:
    """ARN/name → node id, for every resource the diagram draws."""

    def __init__(self, run: ProgramRun, diagram: Diagram) -> None:
        self.by_reference: dict[str, str] = {}
        kinds = {
            "aws:lambda/function:Function": ("lambda", run.component_name),
            "aws:sqs/queue:Queue": ("sqs", lambda r: _queue_name(run, r)),
            "aws:sns/topic:Topic": ("sns", run.component_name),
            "aws:dynamodb/table:Table": ("dynamodb", run.component_name),
            "aws:s3/bucket:Bucket": ("s3", run.component_name),
            "aws:sfn/stateMachine:StateMachine": ("states", run.component_name),
            "aws:cloudwatch/eventBus:EventBus": ("events", lambda r: f"bus {run.component_name(r)}"),
        }
        for type_, (service, name_of) in kinds.items():
            for resource in run.of_type(type_):
                node_id = diagram.node(service, name_of(resource))
                for key in ("arn", "name", "url", "bucket", "id"):
                    value = resource.outputs.get(key)
                    if isinstance(value, str) and value:
                        self.by_reference[value] = node_id
        self.default_bus = "events_default_bus"

    def find(self, reference: Any) -> str | None:
        """Node of an ARN or name, if the diagram draws it."""
        return self.by_reference.get(reference) if isinstance(reference, str) else None


def build_diagram(run: ProgramRun) -> Diagram:
    """Derive the architecture's nodes and edges from a recorded program run."""
    diagram = Diagram()
    index = _Index(run, diagram)
    browser = diagram.node("client", "browser")

    # API routes → integrations → functions; the JWT comes from Cognito.
    integrations = {r.id: r for r in run.of_type("aws:apigatewayv2/integration:Integration")}
    for pool in run.of_type("aws:cognito/userPool:UserPool"):
        diagram.edge(browser, diagram.node("cognito", run.component_name(pool)), "sign in (JWT)")
    # A distribution serves the page from its bucket and, when it has the API as an origin, the API too.
    api_hosts = {
        str(api.outputs.get("apiEndpoint", "")).removeprefix("https://")
        for api in run.of_type("aws:apigatewayv2/api:Api")
    }
    buckets = {str(b.outputs.get("bucketRegionalDomainName")): b for b in run.of_type("aws:s3/bucket:Bucket")}
    api_front = None
    for distribution in run.of_type("aws:cloudfront/distribution:Distribution"):
        front = diagram.node("cloudfront", run.component_name(distribution))
        diagram.edge(browser, front, "HTTPS")
        for origin in distribution.inputs.get("origins") or []:
            content = buckets.get(str(origin.get("domainName")))
            if content is not None:
                diagram.edge(front, index.by_reference[content.outputs["bucket"]], "read (OAC)")
            elif origin.get("domainName") in api_hosts:
                api_front = front
    for route in run.of_type("aws:apigatewayv2/route:Route"):
        route_node = diagram.node("apigateway", route.inputs["routeKey"])
        diagram.edge(api_front or browser, route_node, "HTTPS + JWT")
        integration = integrations.get(str(route.inputs.get("target", "")).removeprefix("integrations/"))
        target = index.find(integration.inputs.get("integrationUri")) if integration else None
        if target:
            diagram.edge(route_node, target, "invoke")

    # Role policies: who puts events, publishes, starts, invokes, reads and writes what.
    owners: dict[str, str] = {}
    for fn in run.of_type("aws:lambda/function:Function"):
        owners[fn.inputs["role"]] = index.by_reference[fn.outputs["arn"]]
    for machine in run.of_type("aws:sfn/stateMachine:StateMachine"):
        owners[machine.inputs["roleArn"]] = index.by_reference[machine.outputs["arn"]]
    roles = {r.outputs["name"]: r.outputs["arn"] for r in run.of_type("aws:iam/role:Role")}
    iot = (
        diagram.node("iot", "topics orders/<customerId>/<orderId>")
        if run.of_type("aws:iot/authorizer:Authorizer")
        else None
    )
    verbs = {
        "events:PutEvents": "put events",
        "sns:Publish": "publish",
        "states:StartExecution": "start",
        "lambda:InvokeFunction": "invoke",
        "s3:PutObject": "write receipt",
    }
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        owner = owners.get(roles.get(policy.inputs["role"], ""))
        if owner is None:
            continue
        for statement in as_list(json_input(policy.inputs["policy"])["Statement"]):
            for action in as_list(statement.get("Action", [])):
                for resource in as_list(statement.get("Resource", [])):
                    if action == "iot:Publish" and iot:
                        diagram.edge(owner, iot, "publish status")
                    elif action == "sqs:SendMessage" and (target := index.find(resource)):
                        # Roles only send to queues that park what failed (destinations, workflow DLQs).
                        diagram.edge(owner, target, "on failure", failure=True)
                    elif action in verbs:
                        reference = str(resource).removesuffix(":*").removesuffix("/*")
                        if ":s3:::" in reference:
                            # An object ARN (or key pattern) names its bucket before the first "/".
                            reference = reference.split("/", 1)[0]
                        target = index.find(reference)
                        if target and target != owner:
                            diagram.edge(owner, target, verbs[action])
                    elif action.startswith("dynamodb:") and (target := index.find(str(resource))):
                        diagram.edge(owner, target, _STATE_LABEL)
    if iot:
        # The page connects and subscribes; drawn from the browser so the edge stays the first column.
        diagram.edge(browser, iot, "subscribe (MQTT over WSS)")
        for authorizer in run.of_type("aws:iot/authorizer:Authorizer"):
            function = index.find(authorizer.inputs["authorizerFunctionArn"])
            if function:
                diagram.edge(iot, function, "authorize connection")

    # Rules: bus → rule → targets, each with its DLQ.
    rules: dict[str, str] = {}
    for rule in run.of_type("aws:cloudwatch/eventRule:EventRule"):
        bus_name = rule.inputs.get("eventBusName", "default")
        bus = index.find(bus_name) or diagram.node("events", "default bus")
        role = rule.name.removeprefix(f"{run.component_name(rule)}-").removesuffix("-rule")
        rules[rule.inputs["name"]] = rule_node = diagram.node("events", f"rule {role}")
        diagram.edge(bus, rule_node, "match")
    for event_target in run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        rule_node = rules[event_target.inputs["rule"]]
        destination = index.find(event_target.inputs["arn"])
        if destination:
            diagram.edge(rule_node, destination, "deliver")
        dead_letter = index.find(event_target.inputs.get("deadLetterConfig", {}).get("arn"))
        if dead_letter:
            diagram.edge(rule_node, dead_letter, _DLQ_LABEL, failure=True)

    # Queues, subscriptions and asynchronous invocations, with their failure paths.
    for mapping in run.of_type("aws:lambda/eventSourceMapping:EventSourceMapping"):
        source, consumer = index.find(mapping.inputs["eventSourceArn"]), index.find(mapping.inputs["functionName"])
        if source and consumer:
            diagram.edge(source, consumer, "batch")
    for queue in run.of_type("aws:sqs/queue:Queue"):
        if "redrivePolicy" in queue.inputs:
            dead_letter = index.find(json_input(queue.inputs["redrivePolicy"])["deadLetterTargetArn"])
            if dead_letter:
                diagram.edge(index.by_reference[queue.outputs["arn"]], dead_letter, _DLQ_LABEL, failure=True)
    for config in run.of_type("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig"):
        function = index.find(config.inputs["functionName"])
        destination = index.find(config.inputs["destinationConfig"]["onFailure"]["destination"])
        if function and destination:
            diagram.edge(function, destination, "on failure", failure=True)
    for subscription in run.of_type("aws:sns/topicSubscription:TopicSubscription"):
        topic = index.find(subscription.inputs["topic"])
        if topic is None:
            continue
        endpoint = index.find(subscription.inputs["endpoint"]) or diagram.node(
            "client", f"{subscription.inputs['protocol']} subscribers"
        )
        diagram.edge(topic, endpoint, "notify")
        dead_letter = index.find(json_input(subscription.inputs["redrivePolicy"])["deadLetterTargetArn"])
        if dead_letter:
            diagram.edge(topic, dead_letter, _DLQ_LABEL, failure=True)
    for notification in run.of_type("aws:s3/bucketNotification:BucketNotification"):
        bucket = index.find(notification.inputs["bucket"])
        if bucket and notification.inputs.get("eventbridge"):
            diagram.edge(bucket, diagram.node("events", "default bus"), "Object Created")
    return diagram


# Cluster → (title, background): read left to right, the way an order travels.
CLUSTERS = {
    "edge": ("Edge: browser, static site, API, identity", "#f7f4fb"),
    "choreography": ("Choreography: bus, rules, consumers", "#fdf6f0"),
    "orchestration": ("Orchestration: workflows and their steps", "#fbf3f6"),
    "state": ("State: tables and buckets", "#f1f6fd"),
    "failure": ("Failure paths: dead-letter queues and on-failure destinations", "#fdf0ef"),
}


def clusters(diagram: Diagram) -> dict[str, list[str]]:
    """Each node's cluster, from its service and the edges that reach it.

    A queue that only failures reach is a failure path; a function a workflow invokes is one of its steps;
    a function behind an API route or the IoT authorizer, and the bucket a distribution serves, belong to
    the edge; the rest of the messaging (bus, rules, topics, queues and their consumers) is choreography.
    """
    incoming: dict[str, set[tuple[str, bool]]] = {node_id: set() for node_id in diagram.nodes}
    for edge in diagram.edges:
        incoming[edge.target].add((diagram.nodes[edge.source][0], edge.failure))
    members: dict[str, list[str]] = {cluster: [] for cluster in CLUSTERS}
    for node_id, (service, _) in sorted(diagram.nodes.items()):
        sources = incoming[node_id]
        if sources and all(failure for _, failure in sources):
            cluster = "failure"
        elif service in {"client", "cloudfront", "apigateway", "cognito", "iot"}:
            cluster = "edge"
        elif service == "states" or (service == "lambda" and ("states", False) in sources):
            cluster = "orchestration"
        elif sources & {("apigateway", False), ("iot", False), ("cloudfront", False)}:
            cluster = "edge"  # what the API routes, the IoT authorizer and the distribution reach
        elif service in {"dynamodb", "s3"}:
            cluster = "state"
        else:
            cluster = "choreography"
        members[cluster].append(node_id)
    return members


def to_dot(diagram: Diagram, title: str) -> str:
    """Graphviz source of the diagram: one cluster per concern, one colour per service, failure paths dashed red."""
    lines = [
        "// Generated by `make diagram` from the recorded program (offline/diagram.py). Do not edit.",
        "digraph orderflow {",
        f'  label="{title}"; labelloc=t; fontname="Helvetica"; fontsize=20;',
        "  rankdir=LR; nodesep=0.25; ranksep=0.8; compound=true; newrank=true;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [fontname="Helvetica", fontsize=9, color="#555555"];',
    ]
    for cluster, node_ids in clusters(diagram).items():
        if not node_ids:
            continue
        cluster_title, background = CLUSTERS[cluster]
        lines.append(f"  subgraph cluster_{cluster} {{")
        lines.append(
            f'    label="{cluster_title}"; labeljust=l; fontsize=13; style="rounded,filled"; '
            f'fillcolor="{background}"; color="#cccccc";'
        )
        for node_id in node_ids:
            service, name = diagram.nodes[node_id]
            service_label, colour = SERVICES[service]
            lines.append(f'    {node_id} [label="{name}\\n({service_label})", fillcolor="{colour}"];')
        lines.append("  }")
    for edge in sorted(diagram.edges):
        if edge.failure:
            style = ', style=dashed, color="#c0392b", fontcolor="#c0392b"'
        elif edge.label == _STATE_LABEL:
            # State access is context, not flow: drawn light; ranked, so the tables stay right of their users.
            style = ', color="#b0b0b0", fontcolor="#b0b0b0"'
        else:
            style = ""
        lines.append(f'  {edge.source} -> {edge.target} [label="{edge.label}"{style}];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(dot_source: Path) -> list[Path]:
    """Render the DOT file to SVG and PNG beside it with Graphviz's ``dot``.

    Raises
    ------
    FileNotFoundError
        When Graphviz is not installed (``make diagram`` installs it).
    """
    dot = shutil.which("dot")
    if dot is None:
        raise FileNotFoundError("Graphviz 'dot' not found: install the graphviz package")
    outputs = []
    for fmt in ("svg", "png"):
        target = dot_source.with_suffix(f".{fmt}")
        subprocess.run([dot, f"-T{fmt}", "-Gdpi=110", str(dot_source), "-o", str(target)], check=True)
        outputs.append(target)
    return outputs


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make diagram``."""
    parser = argparse.ArgumentParser(description="Generate the architecture diagram from the program")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "docs" / "architecture.dot")
    parser.add_argument("--no-render", action="store_true", help="write the DOT source only")
    args = parser.parse_args(argv)
    run = run_program(args.stack)
    args.out.write_text(to_dot(build_diagram(run), f"orderflow ({args.stack} stack): event flow and failure paths"))
    print(f"wrote {args.out}")
    if not args.no_render:
        for path in render(args.out):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
