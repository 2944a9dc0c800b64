"""A model may derive a child's input from another child's output (:class:`Derived`), as a plugin's apply does.

awsx writes a trail bucket's policy from the bucket's ARN (``<arn>/*`` for the objects) and points the trail at
``<log group ARN>:*``: the engine computes the value from the output once it is known, and leaves the
whole value unknown while it is not (a first preview), as the plugin's apply would.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline import constructs
from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, Derived, Ref
from offline.harness import run_program_dir
from offline.recording import ProgramRun
from orderflow import pulumi_files

PROGRAM = """
import pulumi


class Logs(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("example:index:Logs", name, {}, opts, remote=True)


Logs("logs")
"""

BUCKET, POLICY = "aws:s3/bucket:Bucket", "aws:s3/bucketPolicy:BucketPolicy"


def objects_of(arn: str) -> dict[str, Any]:
    return {"Statement": [{"Effect": "Allow", "Resource": [f"{arn}/*"]}]}


def build_logs(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    return [
        Child(BUCKET, "logs", {}, key="bucket"),
        Child(POLICY, "logs", {"bucket": Ref("bucket", "bucket"), "policy": Derived(Ref("bucket", "arn"), objects_of)}),
    ]


def run_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, first_preview: bool) -> ProgramRun:
    monkeypatch.setitem(constructs.MODELS, "example:index:Logs", ComponentModel(build_logs, "example 1.x"))
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM).lstrip())
    return run_program_dir(tmp_path, files=pulumi_files, first_preview=first_preview)


def test_an_applied_reference_is_derived_from_the_known_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = run_logs(tmp_path, monkeypatch, first_preview=False)
    by_type = {record.type: record for record in recorded.resources}
    bucket, policy = by_type[BUCKET], by_type[POLICY]
    assert policy.inputs["policy"] == objects_of(bucket.outputs["arn"]) and policy.inputs["bucket"] == bucket.id
    assert bucket.urn in policy.dependencies


def test_an_applied_reference_is_wholly_unknown_before_the_output_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = run_logs(tmp_path, monkeypatch, first_preview=True)
    policy = next(record for record in recorded.resources if record.type == POLICY)
    assert policy.inputs_struct["policy"] == UNKNOWN
