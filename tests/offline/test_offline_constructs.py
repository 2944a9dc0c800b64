"""The offline engine registers a remote component's children from its package's model (issue 22).

The models themselves are tested beside them (``tests/offline/test_construct_*.py``); here a small model for a
component type of our own shows what the engine does with any model: children under the component (nested
components too), the default provider, the component's program line, unknown inputs kept unknown, and the
plan's notes instead of "Not checked offline".
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline import constructs
from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, Ref, is_known
from offline.harness import run_program_dir
from offline.preview import format_notes, modelled, not_checked
from offline.recording import ProgramRun
from orderflow import pulumi_files

COMPONENT_PROGRAM = """
import pulumi
import pulumi_aws as aws


class Website(pulumi.ComponentResource):
    def __init__(self, name, index, bucket_name, opts=None):
        super().__init__("example:index:Website", name, {"index": index, "bucketName": bucket_name}, opts,
                         remote=True)


unknown_name = aws.s3.BucketV2("names").id
site = Website("site", index="index.html", bucket_name=unknown_name)
"""


def build_website(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    name = context.name
    return [
        Child("example:index:Folder", f"{name}-folder", custom=False),
        Child("aws:s3/bucketV2:BucketV2", f"{name}-bucket", {"bucket": inputs["bucketName"]}, parent=f"{name}-folder"),
        Child(
            "aws:s3/bucketObjectv2:BucketObjectv2",
            f"{name}-{inputs['index']}",
            {
                "key": inputs["index"],
                "source": str(context.program_dir / inputs["index"]),
                "bucket": Ref(f"{name}-bucket"),
                "tags": {"bucketArn": Ref(f"{name}-bucket", "arn")},
            },
            parent=f"{name}-folder",
        ),
        Child(
            "aws:s3/bucketPolicy:BucketPolicy", f"{name}-policy", {"bucket": "fixed"}, depends_on=(f"{name}-bucket",)
        ),
    ]


def run_website(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    first_preview: bool,
    build: constructs.ModelBuilder = build_website,
) -> ProgramRun:
    monkeypatch.setitem(constructs.MODELS, "example:index:Website", ComponentModel(build, "example 1.x"))
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(COMPONENT_PROGRAM).lstrip())
    return run_program_dir(tmp_path, files=pulumi_files, first_preview=first_preview)


@pytest.fixture
def recorded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ProgramRun:
    return run_website(tmp_path, monkeypatch, first_preview=True)


def test_children_are_registered_under_the_component_with_nested_parents(recorded: ProgramRun) -> None:
    by_name = {record.name: record for record in recorded.resources}
    site, folder = by_name["site"], by_name["site-folder"]
    bucket, index = by_name["site-bucket"], by_name["site-index.html"]
    assert site.remote and not folder.custom and folder.parent == site.urn
    assert bucket.parent == index.parent == folder.urn
    assert bucket.urn.endswith("::example:index:Website$example:index:Folder$aws:s3/bucketV2:BucketV2::site-bucket")
    assert index.dependencies == (bucket.urn,) and by_name["site-policy"].dependencies == (bucket.urn,)
    assert index.property_dependencies == {"bucket": (bucket.urn,), "tags": (bucket.urn,)}
    assert by_name["site-policy"].property_dependencies == {}
    assert bucket.provider.startswith("urn:pulumi:dev::probe::pulumi:providers:aws::default_")
    order = [record.name for record in recorded.resources]
    positions = [order.index(name) for name in ("site", "site-folder", "site-bucket", "site-index.html")]
    assert positions == sorted(positions)


def test_children_keep_unknown_inputs_and_point_at_the_components_line(recorded: ProgramRun) -> None:
    by_name = {record.name: record for record in recorded.resources}
    bucket, index = by_name["site-bucket"], by_name["site-index.html"]
    assert bucket.inputs_struct["bucket"] == UNKNOWN and not is_known(bucket.inputs_struct["bucket"])
    assert index.inputs["source"].endswith("/index.html")
    assert index.source is not None and index.source.line == by_name["site"].source.line == 12  # type: ignore[union-attr]


def test_references_to_other_children_resolve_to_their_outputs_or_unknown(
    recorded: ProgramRun, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = next(record for record in recorded.resources if record.name == "site-index.html")
    assert index.inputs_struct["bucket"] == index.inputs_struct["tags"]["bucketArn"] == UNKNOWN  # a first preview
    after_create = run_website(tmp_path / "update", monkeypatch, first_preview=False)
    by_name = {record.name: record for record in after_create.resources}
    bucket, index = by_name["site-bucket"], by_name["site-index.html"]
    assert bucket.id and index.inputs["bucket"] == bucket.id
    assert index.inputs["tags"]["bucketArn"] == bucket.outputs["arn"] == f"arn:aws:s3:::{bucket.id}"


def test_a_modelled_component_is_named_in_the_notes_not_as_unchecked(recorded: ProgramRun) -> None:
    assert not_checked(recorded) == []
    [entry] = modelled(recorded)
    assert (entry["type"], entry["name"], entry["follows"]) == ("example:index:Website", "site", "example 1.x")
    assert "example:index:Website: example 1.x" in format_notes(recorded)


def test_secrets_are_read_through_and_unknown_secrets_are_unknown() -> None:
    signature, secret = "4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270"
    assert constructs.unwrap({signature: secret, "value": "s3cr3t"}) == "s3cr3t"
    assert not is_known({signature: secret, "value": UNKNOWN})
    assert is_known("index.html") and constructs.unwrap([1]) == [1]
    assert constructs.secret("s3cr3t") == {signature: secret, "value": "s3cr3t"}
    assert constructs.is_secret([{"env": {signature: secret, "value": "x"}}]) and not constructs.is_secret({"a": [1]})


def build_named_alike(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    """Children named alike, told apart by their keys, and a document holding another child's output."""
    name = context.name
    return [
        Child("example:index:Inner", name, custom=False, key="inner"),
        Child("aws:cloudwatch/logGroup:LogGroup", name, parent="inner", key="logs"),
        Child(
            "aws:ecs/taskDefinition:TaskDefinition",
            name,
            {"family": context.stack, "containerDefinitions": constructs.JsonText([{"group": Ref("logs", "name")}])},
            parent="inner",
            key="task",
        ),
    ]


def test_children_named_alike_are_told_apart_by_key_and_documents_resolve_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = run_website(tmp_path, monkeypatch, first_preview=False, build=build_named_alike)
    by_type = {record.type: record for record in recorded.resources if record.name == "site"}
    inner, logs = by_type["example:index:Inner"], by_type["aws:cloudwatch/logGroup:LogGroup"]
    task = by_type["aws:ecs/taskDefinition:TaskDefinition"]
    assert logs.parent == task.parent == inner.urn and task.dependencies == (logs.urn,)
    assert task.inputs["family"] == "dev"
    assert json.loads(task.inputs["containerDefinitions"]) == [{"group": logs.outputs["name"]}]
    first = run_website(tmp_path / "first", monkeypatch, first_preview=True, build=build_named_alike)
    by_type = {record.type: record for record in first.resources if record.name == "site"}
    task, logs = by_type["aws:ecs/taskDefinition:TaskDefinition"], by_type["aws:cloudwatch/logGroup:LogGroup"]
    # A first preview knows the log group's auto-name (the provider's Check writes it), as pulumi preview does.
    assert json.loads(task.inputs_struct["containerDefinitions"]) == [{"group": logs.outputs["name"]}]
    assert logs.outputs["name"].startswith("site-")


def test_the_provider_version_is_looked_up_on_the_programs_thread_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # runpy takes the program's folder off sys.path while the monitor's threads still register children; a
    # metadata scan of sys.path on those threads then missed pulumi_aws now and then.
    import threading
    from importlib import metadata

    from offline import harness

    threads: list[str] = []
    real_version = metadata.version

    def version(name: str) -> str:
        threads.append(threading.current_thread().name)
        return real_version(name)

    harness._provider_version.cache_clear()
    monkeypatch.setattr(harness.metadata, "version", version)
    recorded = run_website(tmp_path, monkeypatch, first_preview=True)
    assert any(record.name == "site-bucket" for record in recorded.resources)
    assert threads == [threading.main_thread().name]


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (ValueError("bucketName must be known during a preview"), "(bucketName must be known during a preview)"),
        (KeyError("index"), "(the model failed: KeyError: 'index')"),
    ],
    ids=["the-package-needs-a-known-input", "a-fault-of-the-model"],
)
def test_a_model_that_cannot_plan_the_children_leaves_the_component_not_checked_with_why(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, error: Exception, reason: str
) -> None:
    def refuse(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
        raise error

    monkeypatch.setitem(constructs.MODELS, "example:index:Website", ComponentModel(refuse, "example 1.x"))
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(COMPONENT_PROGRAM).lstrip())
    recorded = run_program_dir(tmp_path, files=pulumi_files, first_preview=True)
    assert [record.name for record in recorded.resources if record.name.startswith("site")] == ["site"]
    [entry] = not_checked(recorded)
    assert entry["name"] == "site" and reason in entry["reason"]
    assert modelled(recorded) == [] and "example:index:Website" not in format_notes(recorded)
