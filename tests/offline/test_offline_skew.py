"""The version-skew check itself: it fails, naming both versions, whenever deployed and tested differ."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from platform import python_version

import pytest

from components.layer import build_key
from offline.harness import run_program
from offline.recording import ProgramRun
from offline.skew import (
    DeployedFunction,
    DeployedLayer,
    InstalledEnvironment,
    VersionSkewError,
    check_versions,
    deployed_functions,
    find_skew,
    installed_environment,
    summarize,
    unverified_layers,
)

PINS = {"aws-lambda-powertools": "3.37.0", "pydantic": "2.14.3", "pydantic-core": "2.50.4"}
TESTED = InstalledEnvironment(python="3.13.0", versions=PINS)
LAYER = DeployedLayer(arn="arn:layer:1", name="powertools-layer", runtimes=("python3.13",), distributions=PINS)
TESTS_RUNTIME = f"python{sys.version_info.major}.{sys.version_info.minor}"


def function(runtime: str = "python3.13", *layers: DeployedLayer) -> DeployedFunction:
    return DeployedFunction(name="create-order-function", runtime=runtime, layers=layers or (LAYER,))


def skew(functions: list[DeployedFunction], tested: InstalledEnvironment, required: Iterable[str] = ()) -> list[str]:
    return [str(problem) for problem in find_skew(functions, tested, required=required)]


def test_same_versions_are_no_skew() -> None:
    assert skew([function()], TESTED, required=PINS) == []


@pytest.mark.parametrize(
    ("deployed", "name"),
    [
        ({**PINS, "aws-lambda-powertools": "3.23.0"}, "aws-lambda-powertools"),
        ({**PINS, "pydantic": "2.11.7"}, "pydantic"),
        ({**PINS, "pydantic-core": "2.33.2"}, "pydantic-core"),
    ],
)
def test_a_package_bumped_on_one_side_only_is_skew_with_both_versions(deployed: dict[str, str], name: str) -> None:
    layer = DeployedLayer(arn="arn:layer:2", name="powertools-layer", runtimes=("python3.13",), distributions=deployed)
    (problem,) = skew([function("python3.13", layer)], TESTED, required=PINS)
    assert problem == (
        f"create-order-function: {name} {deployed[name]} deployed (layer powertools-layer) "
        f"but {PINS[name]} installed for the tests"
    )


@pytest.mark.parametrize(("runtime", "tests"), [("python3.14", "3.13.0"), ("python3.13", "3.11.7")])
def test_a_runtime_other_than_the_tests_python_is_skew_with_both_versions(runtime: str, tests: str) -> None:
    layer = DeployedLayer(arn="arn:layer:1", name="powertools-layer", runtimes=(runtime,), distributions=PINS)
    problems = skew([function(runtime, layer)], InstalledEnvironment(tests, PINS), required=PINS)
    assert problems == [f"create-order-function: runtime {runtime} but the tests run on Python {tests}"]


def test_a_layer_built_for_another_runtime_is_skew() -> None:
    (problem,) = skew([function("python3.14", LAYER)], InstalledEnvironment("3.14.0", PINS))
    assert problem == "create-order-function: runtime python3.14 but layer powertools-layer is built for python3.13"


def test_a_function_without_the_handlers_packages_is_skew() -> None:
    other = DeployedLayer(arn="arn:layer:3", name="jwt-layer", runtimes=("python3.13",), distributions={"pyjwt": "2"})
    problems = skew([function("python3.13", other)], TESTED, required=["pydantic"])
    assert problems == [
        "create-order-function: pydantic 2.14.3 is installed for the tests but no layer of the function deploys it"
    ]


def test_a_later_layer_replaces_an_earlier_ones_package_as_lambda_extracts_them() -> None:
    older = DeployedLayer(arn="arn:layer:4", name="extra-layer", runtimes=(), distributions={"pydantic": "2.9.0"})
    (problem,) = skew([function("python3.13", LAYER, older)], TESTED, required=PINS)
    assert "pydantic 2.9.0 deployed (layer extra-layer) but 2.14.3 installed" in problem
    assert skew([function("python3.13", older, LAYER)], TESTED, required=PINS) == []


def test_a_difference_shared_by_functions_is_summarized_once_naming_them_all() -> None:
    bumped = DeployedLayer(arn="arn:layer:5", name="powertools-layer", distributions={**PINS, "pydantic": "2.11.7"})
    functions = [DeployedFunction(name, "python3.13", (bumped,)) for name in ("notify-function", "audit-function")]
    assert summarize(find_skew(functions, TESTED)) == [
        "pydantic 2.11.7 deployed (layer powertools-layer) but 2.14.3 installed for the tests "
        "(2 functions: audit-function, notify-function)"
    ]


def test_a_layer_the_program_does_not_build_is_unverified_never_fine() -> None:
    public = DeployedLayer(arn="arn:aws:lambda:eu-west-1:017000801446:layer:AWSLambdaPowertoolsPythonV3:27", name=None)
    functions = [function("python3.13", public)]
    assert skew(functions, TESTED, required=PINS) == []  # nothing to compare ...
    assert unverified_layers(functions) == {public.arn: ["create-order-function"]}  # ... so it is reported


def test_installed_environment_reads_this_interpreter_and_its_installed_packages() -> None:
    tested = installed_environment(["Pydantic", "not-installed-anywhere"])
    assert tested.python_minor == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert tested.versions == {"pydantic": metadata.version("pydantic")}


# ---- the check on a recorded program, through the layer the program really builds ------------------
PROGRAM = """
from pathlib import Path

from components.function import Function, FunctionArgs
from components.layer import DependencyLayer, DependencyLayerArgs

here = Path(__file__).parent
layer = DependencyLayer(
    "deps",
    DependencyLayerArgs(
        requirements=here / "requirements.txt", build_root=here / "build", resolve_dependencies=False, runtime=RUNTIME
    ),
)
Function(
    "worker",
    FunctionArgs(
        package="worker",
        shared_packages=(),
        handlers_dir=here / "handlers",
        reserved_concurrency=1,
        log_retention_days=1,
        powertools_layer_arn=layer.arn,
        runtime=RUNTIME,
    ),
)
"""


def recorded_probe(tmp_path: Path, layer_pydantic: str, runtime: str) -> ProgramRun:
    """A program whose layer build (seeded in its cache, so no pip runs) holds ``layer_pydantic``."""
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  aws:region: eu-west-1\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM).replace("RUNTIME", repr(runtime)))
    (tmp_path / "handlers" / "worker").mkdir(parents=True)
    (tmp_path / "handlers" / "worker" / "app.py").write_text("def lambda_handler(event, context):\n    return {}\n")
    requirements = tmp_path / "requirements.txt"
    requirements.write_text(f"pydantic=={layer_pydantic}\n")
    built = tmp_path / "build" / build_key(requirements, "arm64", runtime, resolve_dependencies=False)
    info = built / "python" / f"pydantic-{layer_pydantic}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: pydantic\nVersion: {layer_pydantic}\n")
    return run_program("dev", project_dir=tmp_path)


def test_the_check_fails_on_a_recorded_program_whose_layer_holds_another_pydantic(tmp_path: Path) -> None:
    installed = metadata.version("pydantic")
    run = recorded_probe(tmp_path, "2.11.7", TESTS_RUNTIME)
    (worker,) = deployed_functions(run)
    assert worker.layers[0].distributions == {"pydantic": "2.11.7"}
    problems = skew([worker], installed_environment(["pydantic"]), required=["pydantic"])
    assert problems == [
        f"worker-function: pydantic 2.11.7 deployed (layer deps-layer) but {installed} installed for the tests"
    ]


def test_the_check_fails_on_a_recorded_program_on_another_runtime(tmp_path: Path) -> None:
    run = recorded_probe(tmp_path, metadata.version("pydantic"), "python3.9")
    problems = skew(deployed_functions(run), installed_environment(["pydantic"]))
    assert problems == [f"worker-function: runtime python3.9 but the tests run on Python {python_version()}"]


def test_check_versions_raises_with_every_difference_and_both_versions(tmp_path: Path) -> None:
    run = recorded_probe(tmp_path, "2.11.7", TESTS_RUNTIME)
    with pytest.raises(VersionSkewError) as raised:
        check_versions(run)
    message = str(raised.value)
    assert f"pydantic 2.11.7 deployed (layer deps-layer) but {metadata.version('pydantic')} installed" in message
    assert "aws-lambda-powertools" in message and "no layer of the function deploys it" in message
