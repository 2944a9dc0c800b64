"""The event catalogue, generated from the code: every detail-type, its JSON Schema, producers and consumers.

- **Schema**: from the Pydantic detail model the handlers parse and publish with
  (``handlers/shared/models/events.py``).
- **Producers**: state machines whose definitions put the detail-type (read from the recorded ASL),
  functions whose role may put events on the bus and whose package uses the detail-type's constant,
  and buckets whose object events reach the bus.
- **Consumers**: the targets of every recorded rule whose pattern selects the event's source and
  detail-type.

``make docs`` writes ``docs/events/``; a test fails when the committed catalogue is stale.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from offline.harness import run_program
from offline.paths import HANDLERS_DIR, PROJECT_DIR, import_package
from offline.recording import ProgramRun, as_list, json_input

OUT_DIR = PROJECT_DIR / "docs" / "events"


@dataclass
class CatalogueEntry:
    """One event type of the catalogue."""

    detail_type: str
    source: str
    constant: str
    schema: dict[str, Any]
    description: str
    producers: list[str] = field(default_factory=list)
    consumers: list[str] = field(default_factory=list)


def _event_models() -> list[tuple[str, str, str, Any]]:
    """(detail-type, source, constant name, detail model) of every event on the bus."""
    import_package("shared", HANDLERS_DIR)  # as Lambda imports it from the functions' task root
    from shared.models import events

    return [
        (events.ORDER_PLACED, events.EVENT_SOURCE, "ORDER_PLACED", events.OrderPlacedDetail),
        *[
            (detail_type, events.EVENT_SOURCE, _constant_for(events, detail_type), model)
            for detail_type, model in sorted(events.ORDER_STATUS_DETAILS.items())
        ],
        (events.S3_OBJECT_CREATED, "aws.s3", "S3_OBJECT_CREATED", events.S3ObjectCreatedDetail),
    ]


def _constant_for(module: Any, value: str) -> str:
    for name in dir(module):
        if name.isupper() and getattr(module, name) == value:
            return name
    raise LookupError(f"no constant in {module.__name__} has the value {value!r}")


def _names_used(package: str) -> set[str]:
    """Every identifier a handler package's modules use (to find which event constants it touches)."""
    names: set[str] = set()
    for path in (HANDLERS_DIR / package).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Name):
                names.add(node.id)
            elif isinstance(node, ast.alias):
                names.add(node.asname or node.name)
    return names


def _put_events_in(definition: dict[str, Any]) -> set[str]:
    """Detail-types a state machine puts, from its ``events:putEvents`` Task states (nested included)."""
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if str(value.get("Resource", "")).endswith(":events:putEvents"):
                for entry in as_list(value.get("Parameters", {}).get("Entries", [])):
                    if "DetailType" in entry:
                        found.add(entry["DetailType"])
            for child in value.values():
                walk(child)
        elif isinstance(value, list):
            for child in value:
                walk(child)

    walk(definition)
    return found


def _selects(pattern: dict[str, Any], source: str, detail_type: str) -> bool:
    """Whether a rule pattern selects this source and detail-type (other fields narrow, never exclude)."""
    sources = pattern.get("source")
    types = pattern.get("detail-type")
    return (sources is None or source in sources) and (types is None or detail_type in types)


def build_catalogue(run: ProgramRun) -> list[CatalogueEntry]:
    """Every event type with its schema, producers and consumers, from the code and the recorded program."""
    by_arn: dict[str, str] = {}
    for type_, kind in (
        ("aws:lambda/function:Function", "function"),
        ("aws:sfn/stateMachine:StateMachine", "state machine"),
        ("aws:sqs/queue:Queue", "queue"),
        ("aws:cloudwatch/eventBus:EventBus", "bus"),
        ("aws:sns/topic:Topic", "topic"),
    ):
        for resource in run.of_type(type_):
            by_arn[resource.outputs["arn"]] = f"{kind} `{run.component_name(resource)}`"

    put_events_roles = set()
    for policy in run.of_type("aws:iam/rolePolicy:RolePolicy"):
        for statement in as_list(json_input(policy.inputs["policy"])["Statement"]):
            if "events:PutEvents" in as_list(statement.get("Action", [])):
                put_events_roles.add(policy.inputs["role"])
    role_names = {r.outputs["arn"]: r.outputs["name"] for r in run.of_type("aws:iam/role:Role")}

    rules = {r.inputs["name"]: r for r in run.of_type("aws:cloudwatch/eventRule:EventRule")}
    targets: dict[str, list[str]] = {}
    for target in run.of_type("aws:cloudwatch/eventTarget:EventTarget"):
        targets.setdefault(target.inputs["rule"], []).append(by_arn.get(target.inputs["arn"], target.inputs["arn"]))

    entries = []
    for detail_type, source, constant, model in _event_models():
        entry = CatalogueEntry(
            detail_type=detail_type,
            source=source,
            constant=constant,
            schema=model.model_json_schema(by_alias=True),
            description=(model.__doc__ or "").strip().splitlines()[0],
        )
        for fn in run.of_type("aws:lambda/function:Function"):
            package = fn.inputs["handler"].split(".", 1)[0]
            if role_names.get(fn.inputs["role"]) in put_events_roles and constant in _names_used(package):
                entry.producers.append(by_arn[fn.outputs["arn"]])
        for machine in run.of_type("aws:sfn/stateMachine:StateMachine"):
            if detail_type in _put_events_in(json_input(machine.inputs["definition"])):
                entry.producers.append(by_arn[machine.outputs["arn"]])
        if source == "aws.s3":
            buckets = {b.outputs["bucket"]: run.component_name(b) for b in run.of_type("aws:s3/bucket:Bucket")}
            for notification in run.of_type("aws:s3/bucketNotification:BucketNotification"):
                if notification.inputs.get("eventbridge"):
                    bucket = buckets.get(notification.inputs["bucket"], notification.inputs["bucket"])
                    entry.producers.append(f"bucket `{bucket}` (via the default bus)")
        for name, rule in sorted(rules.items()):
            if _selects(json_input(rule.inputs["eventPattern"]), source, detail_type):
                bus = rule.inputs.get("eventBusName", "default")
                for consumer in sorted(targets.get(name, [])):
                    entry.consumers.append(f"{consumer} (rule `{name}` on bus `{bus}`)")
        entry.producers.sort()
        entries.append(entry)
    return entries


def render_markdown(entries: list[CatalogueEntry], stack: str) -> str:
    """The human-readable catalogue."""
    lines = [
        "# Event catalogue",
        "",
        f"Generated by `make docs` from the handlers' Pydantic models and the recorded `{stack}` program",
        "(`offline/catalogue.py`). Do not edit: change the code and regenerate.",
        "",
        "| detail-type | source | producers | consumers | schema |",
        "|---|---|---|---|---|",
    ]
    for entry in entries:
        lines.append(
            f"| `{entry.detail_type}` | `{entry.source}` | {'<br>'.join(entry.producers) or '—'} | "
            f"{'<br>'.join(entry.consumers) or '—'} | [{schema_file(entry)}]({schema_file(entry)}) |"
        )
    for entry in entries:
        lines += ["", f"## {entry.detail_type}", "", entry.description, ""]
        required = set(entry.schema.get("required", []))
        lines += ["| field | type | required |", "|---|---|---|"]
        for name, spec in entry.schema.get("properties", {}).items():
            kind = spec.get("type") or spec.get("$ref", "").rsplit("/", 1)[-1] or "object"
            lines.append(f"| `{name}` | {kind} | {'yes' if name in required else 'no'} |")
    return "\n".join(lines) + "\n"


def schema_file(entry: CatalogueEntry) -> str:
    """File name of an entry's JSON Schema."""
    return f"{entry.detail_type.replace(' ', '')}.schema.json"


def render_files(entries: list[CatalogueEntry], stack: str) -> dict[str, str]:
    """Every catalogue file: name → content."""
    files = {"README.md": render_markdown(entries, stack)}
    for entry in entries:
        files[schema_file(entry)] = json.dumps(entry.schema, indent=2, sort_keys=True) + "\n"
    return files


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``make docs``."""
    parser = argparse.ArgumentParser(description="Generate the event catalogue from the code")
    parser.add_argument("--stack", default="dev")
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name, content in render_files(build_catalogue(run_program(args.stack)), args.stack).items():
        (args.out / name).write_text(content)
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
