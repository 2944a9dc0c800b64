"""What is tested is what is deployed: the recorded functions' runtime and layers against this test run."""

from __future__ import annotations

import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.requirements import Requirement

from components.layer import normalize_name, pinned_versions
from offline.recording import ProgramRun
from offline.skew import check_versions, deployed_functions

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"
# What Lambda's Python runtimes bring (the AWS SDK and what it needs): the layer leaves these out.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "urllib3", "python-dateutil", "six"})


def test_functions_run_the_python_and_packages_the_tests_run(stack_run: ProgramRun) -> None:
    check_versions(stack_run)  # raises VersionSkewError naming both versions of every difference


def test_every_function_gets_powertools_first_from_the_layer_built_from_the_handlers_pins(
    stack_run: ProgramRun,
) -> None:
    pins = pinned_versions(HANDLERS / "requirements.txt")
    layer = stack_run.named("powertools-layer", "aws:lambda/layerVersion:LayerVersion")
    assert layer.inputs["description"].startswith(
        f"Powertools for AWS Lambda (Python) {pins['aws-lambda-powertools']} and Pydantic {pins['pydantic']}"
    )
    for function in deployed_functions(stack_run):
        assert function.layers[0].arn == layer.outputs["arn"], function.name
        assert function.layers[0].distributions == pins, function.name  # exactly the pins: nothing else shipped


def test_the_handlers_pins_are_complete_for_the_runtimes_python() -> None:
    # The layer installs the pins without resolving dependencies: a dependency the file forgets would be
    # missing in AWS only. Each pinned distribution's requirements, for the extras it is pinned with and
    # the runtime's Python, must be pinned too or come with the runtime.
    pinned = pinned_versions(HANDLERS / "requirements.txt")
    extras = {
        normalize_name(Requirement(line).name): Requirement(line).extras
        for line in (HANDLERS / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    }
    environment = {"python_version": f"{sys.version_info.major}.{sys.version_info.minor}"}
    missing: list[str] = []
    for name in pinned:
        for requirement in map(Requirement, metadata.requires(name) or []):
            marker: Marker | None = requirement.marker
            wanted = marker is None or any(
                marker.evaluate({**environment, "extra": extra}) for extra in (extras.get(name) or {""})
            )
            dependency = normalize_name(requirement.name)
            if wanted and dependency not in pinned and dependency not in RUNTIME_PROVIDED:
                missing.append(f"{name} needs {requirement}")
    assert not missing, f"pin these in handlers/requirements.txt: {missing}"


@pytest.mark.parametrize(
    "workflow", sorted((Path(__file__).resolve().parents[2] / ".github" / "workflows").glob("*.yml"))
)
def test_ci_sets_up_the_python_named_in_python_version(workflow: Path) -> None:
    text = workflow.read_text()
    if "actions/setup-python" in text:
        assert "python-version-file: .python-version" in text and "python-version:" not in text, workflow.name
