"""Offline models of aws-apigateway's RestAPI and synced-folder's folders (issue 22).

Pure tests of each model (the defaults, then one change per option modelled) and runs of programs through the
offline engine, which registers the children under the component.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline import constructs
from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, Ref
from offline.harness import run_program_dir
from orderflow import pulumi_files

# ---- the engine: children sharing a name, outputs with the package's suffix ------------------------------

SAME_NAME_PROGRAM = """
import pulumi


class Api(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("example:index:Api", name, {}, opts, remote=True)


Api("shop")
"""


def build_same_name(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    name = context.name
    api = Ref(name, type="aws:apigateway/restApi:RestApi")
    return [
        Child("aws:apigateway/restApi:RestApi", name, {"name": name}),
        Child("aws:apigateway/deployment:Deployment", name, {"restApi": api}),
        Child(
            "aws:apigateway/stage:Stage",
            name,
            {
                "restApi": api,
                "deployment": Ref(name, type="aws:apigateway/deployment:Deployment"),
                "stageName": Ref(name, "executionArn", type="aws:apigateway/restApi:RestApi", suffix="/*/GET/"),
            },
        ),
    ]


def run_same_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, first_preview: bool) -> dict[str, Any]:
    monkeypatch.setitem(constructs.MODELS, "example:index:Api", ComponentModel(build_same_name, "example 1.x"))
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(SAME_NAME_PROGRAM).lstrip())
    run = run_program_dir(tmp_path, files=pulumi_files, first_preview=first_preview)
    return {record.type.rsplit(":", 1)[-1]: record for record in run.resources}


def test_a_reference_naming_the_type_picks_that_child_among_children_of_one_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    records = run_same_name(tmp_path, monkeypatch, first_preview=False)
    api, deployment, stage = records["RestApi"], records["Deployment"], records["Stage"]
    assert stage.inputs["restApi"] == deployment.inputs["restApi"] == api.id
    assert stage.inputs["deployment"] == deployment.id != api.id
    assert stage.inputs["stageName"] == f"{api.outputs['executionArn']}/*/GET/"
    assert set(stage.dependencies) == {api.urn, deployment.urn}


def test_a_suffixed_reference_stays_unknown_while_the_output_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stage = run_same_name(tmp_path, monkeypatch, first_preview=True)["Stage"]
    assert stage.inputs_struct["stageName"] == UNKNOWN
