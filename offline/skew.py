"""Version skew: what the recorded program deploys against what the tests run on.

Each function's runtime against the Python the tests run on, and each distribution in the function's
layers (Powertools, Pydantic and what they pull in, read from the built layer's ``*.dist-info``) against
the version installed for the tests. A layer the program does not build (an ARN of someone else's) cannot
be read: it is reported as unverified, never as fine. Used by the version-skew test and by ``make preview``.
"""

from __future__ import annotations

import platform
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from components.layer import layer_distributions, normalize_name, pinned_versions, runtime_python
from offline.harness import PROJECT_DIR
from offline.recording import ProgramRun

FUNCTION_TYPE = "aws:lambda/function:Function"
LAYER_TYPE = "aws:lambda/layerVersion:LayerVersion"
# Installed for the tests and deployed in layers: the distributions whose versions must agree.
TESTED_REQUIREMENTS = (
    PROJECT_DIR / "handlers" / "requirements.txt",
    PROJECT_DIR / "handlers" / "layer-requirements.txt",
)
# Imported by every handler: each function must get them from one of its layers.
HANDLER_REQUIREMENTS = PROJECT_DIR / "handlers" / "requirements.txt"


class VersionSkewError(Exception):
    """The program deploys other versions than the tests run on; the message names both of each."""


@dataclass(frozen=True)
class DeployedLayer:
    """A layer a function lists, as far as the recorded program tells."""

    arn: str
    name: str | None
    """Logical name of the ``LayerVersion`` the program builds; ``None`` for a layer it only references."""
    runtimes: tuple[str, ...] = ()
    """The runtimes the layer was built for."""
    distributions: Mapping[str, str] | None = None
    """Canonical distribution name → version; ``None`` when the layer's content cannot be read."""

    @property
    def label(self) -> str:
        """How messages name the layer."""
        return self.name or self.arn


@dataclass(frozen=True)
class DeployedFunction:
    """A recorded function: its runtime and its layers, in order."""

    name: str
    runtime: str
    layers: tuple[DeployedLayer, ...]


@dataclass(frozen=True)
class InstalledEnvironment:
    """The interpreter and distribution versions this process runs on: what the tests (and the offline plan) run."""

    python: str
    """Full version, e.g. ``3.13.0``."""
    versions: Mapping[str, str]
    """Canonical distribution name → installed version, for the distributions that are compared."""

    @property
    def python_minor(self) -> str:
        """``3.13`` for ``3.13.0``."""
        return ".".join(self.python.split(".")[:2])


def deployed_functions(run: ProgramRun) -> list[DeployedFunction]:
    """Every recorded function with its runtime and layers, each layer read from its build when the program built it."""
    built: dict[str, DeployedLayer] = {}
    for layer in run.of_type(LAYER_TYPE):
        path = getattr(layer.inputs.get("code"), "path", None)
        built[layer.outputs["arn"]] = DeployedLayer(
            arn=layer.outputs["arn"],
            name=layer.name,
            runtimes=tuple(layer.inputs.get("compatibleRuntimes") or ()),
            distributions=layer_distributions(Path(path)) if path else None,
        )
    return [
        DeployedFunction(
            name=function.name,
            runtime=str(function.inputs.get("runtime", "")),
            layers=tuple(
                built.get(arn, DeployedLayer(arn=arn, name=None)) for arn in function.inputs.get("layers") or ()
            ),
        )
        for function in run.of_type(FUNCTION_TYPE)
    ]


def installed_environment(names: Iterable[str]) -> InstalledEnvironment:
    """The running interpreter's version and the installed version of each named distribution (absent ones left out)."""
    versions: dict[str, str] = {}
    for name in names:
        try:
            versions[normalize_name(name)] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return InstalledEnvironment(python=platform.python_version(), versions=versions)


@dataclass(frozen=True)
class Skew:
    """One difference between what a function runs and what the tests run on."""

    function: str
    difference: str
    """What differs, with both versions."""

    def __str__(self) -> str:
        return f"{self.function}: {self.difference}"


def find_skew(
    functions: Iterable[DeployedFunction], tested: InstalledEnvironment, required: Iterable[str] = ()
) -> list[Skew]:
    """Every difference between what the functions run and what the tests run on, both versions in each.

    Parameters
    ----------
    functions:
        The deployed functions (:func:`deployed_functions`).
    tested:
        The tests' interpreter and installed versions (:func:`installed_environment`); only the distributions
        it lists are compared.
    required:
        Distributions every function must get from a layer it can read (what every handler imports).
    """
    required_names = sorted(normalize_name(name) for name in required)
    problems: list[Skew] = []
    for function in functions:
        differences: list[str] = []
        if function.runtime.startswith("python") and runtime_python(function.runtime) != tested.python_minor:
            differences.append(f"runtime {function.runtime} but the tests run on Python {tested.python}")
        provided: dict[str, tuple[str, DeployedLayer]] = {}
        readable = True
        for layer in function.layers:
            if layer.runtimes and function.runtime not in layer.runtimes:
                differences.append(
                    f"runtime {function.runtime} but layer {layer.label} is built for {', '.join(layer.runtimes)}"
                )
            if layer.distributions is None:
                readable = False
                continue
            # Lambda extracts layers in order into /opt: a later layer's files replace an earlier one's.
            provided.update({name: (version, layer) for name, version in layer.distributions.items()})
        for name, (version, layer) in sorted(provided.items()):
            expected = tested.versions.get(name)
            if expected is not None and expected != version:
                differences.append(
                    f"{name} {version} deployed (layer {layer.label}) but {expected} installed for the tests"
                )
        if readable:
            differences += [
                f"{name} {tested.versions.get(name, '(not installed)')} is installed for the tests "
                "but no layer of the function deploys it"
                for name in required_names
                if name not in provided
            ]
        problems += [Skew(function.name, difference) for difference in differences]
    return problems


def summarize(problems: Iterable[Skew]) -> list[str]:
    """One line per difference, naming every function it affects."""
    functions: dict[str, list[str]] = {}
    for problem in problems:
        functions.setdefault(problem.difference, []).append(problem.function)
    return [
        f"{difference} ({names[0]})"
        if len(names) == 1
        else f"{difference} ({len(names)} functions: {', '.join(sorted(names))})"
        for difference, names in functions.items()
    ]


def unverified_layers(functions: Iterable[DeployedFunction]) -> dict[str, list[str]]:
    """Layers whose content the program cannot read (not built by it): ARN → the functions that use it."""
    found: dict[str, list[str]] = {}
    for function in functions:
        for layer in function.layers:
            if layer.distributions is None:
                found.setdefault(layer.arn, []).append(function.name)
    return found


@dataclass(frozen=True)
class VersionReport:
    """The project's deployed and tested versions, with the skew between them."""

    functions: list[DeployedFunction]
    tested: InstalledEnvironment
    problems: list[Skew]
    unverified: dict[str, list[str]]


def project_versions(run: ProgramRun) -> VersionReport:
    """Compare a recorded run of this project with the versions installed here for the tests."""
    pinned = [name for path in TESTED_REQUIREMENTS for name in pinned_versions(path)]
    functions = deployed_functions(run)
    tested = installed_environment(pinned)
    problems = find_skew(functions, tested, required=pinned_versions(HANDLER_REQUIREMENTS))
    return VersionReport(functions, tested, problems, unverified_layers(functions))


def check_versions(run: ProgramRun) -> None:
    """Raise when the recorded program deploys other versions than the tests run on.

    Raises
    ------
    VersionSkewError
        Listing every difference (both versions in each line) and every layer that cannot be checked.
    """
    report = project_versions(run)
    lines = summarize(report.problems)
    lines += [
        f"layer {arn} (used by {', '.join(names)}) is not built by the program: its versions cannot be checked"
        for arn, names in report.unverified.items()
    ]
    if lines:
        raise VersionSkewError("what is deployed is not what is tested:\n" + "\n".join(f"  - {line}" for line in lines))


def _functions(count: int) -> str:
    return f"{count} function{'s' if count != 1 else ''}"


def format_versions(report: VersionReport) -> str:
    """The offline plan's section: runtimes and layers deployed, beside the versions the tests run on."""
    lines: list[str] = []
    runtimes: dict[str, int] = {}
    for function in report.functions:
        runtimes[function.runtime] = runtimes.get(function.runtime, 0) + 1
    for runtime, count in sorted(runtimes.items()):
        lines.append(f"    runtime {runtime} ({_functions(count)}); tests on Python {report.tested.python}")
    layers: dict[str, tuple[DeployedLayer, int]] = {}
    for function in report.functions:
        for layer in function.layers:
            layers[layer.arn] = (layer, layers.get(layer.arn, (layer, 0))[1] + 1)
    for layer, count in layers.values():
        if layer.distributions is None:
            lines.append(f"    layer {layer.arn} ({_functions(count)}): NOT CHECKED, not built by the program")
            continue
        lines.append(f"    layer {layer.label} ({_functions(count)}), built for {', '.join(layer.runtimes)}:")
        width = max((len(name) for name in layer.distributions), default=0)
        for name, version in sorted(layer.distributions.items()):
            tested = report.tested.versions.get(name)
            beside = f"tests {tested}" if tested else "not compared: not pinned for the tests"
            lines.append(f"        {name:<{width}}  {version:<10}  {beside}")
    if report.problems:
        lines.append("  VERSION SKEW (make test fails on it):")
        lines += [f"    - {line}" for line in summarize(report.problems)]
    elif not report.unverified:
        lines.append("  No version skew: the functions run the Python and packages the tests run.")
    return "\n".join(lines)
