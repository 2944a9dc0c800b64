"""``DependencyLayer``: a Lambda layer of third-party packages, built for the target architecture.

Functions ship only their own code; their third-party packages come from layers installed from a
pinned requirements file into ``python/`` with pip's cross-platform wheel selection
(``--platform``/``--python-version``/``--only-binary``), so an arm64 layer built on an x86 laptop or CI
runner still contains arm64 binaries. The build is cached by the hash of its inputs.

A layer built from the same file the tests install deploys exactly the tested versions. Two options
serve that: without dependency resolution (``--no-deps``) the file must pin every distribution the layer
holds, so nothing the runtime already provides (boto3, botocore) is shadowed by a version nobody chose;
with bytecode compiled for the runtime, imports skip compiling on every cold start (Lambda cannot write
``__pycache__`` into ``/opt``).
"""

from __future__ import annotations

import email.parser
import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

from components.function import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME
from components.naming import LAMBDA_LAYER, physical_name

# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): accept wheels up to that.
_PLATFORMS = {
    "arm64": ("manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64"),
    "x86_64": ("manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"),
}
DEFAULT_BUILD_ROOT = Path(__file__).resolve().parent.parent / "build" / "layers"
# Where Lambda extracts a layer's ``python/`` folder: the path tracebacks show for its modules.
LAYER_PYTHON_PATH = "/opt/python"
_PIN = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[A-Za-z0-9_,.\s-]*\])?\s*==\s*(?P<version>[^\s;#]+)$")


def normalize_name(name: str) -> str:
    """A distribution name in its canonical form (PEP 503): ``PyJWT`` and ``pyjwt`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_python(runtime: str) -> str:
    """The Python version of a Lambda runtime identifier: ``python3.13`` → ``3.13``.

    Raises
    ------
    ValueError
        For a runtime that is not a Python one.
    """
    match = re.fullmatch(r"python(3\.\d+)", runtime)
    if match is None:
        raise ValueError(f"not a Python runtime: {runtime!r}")
    return match.group(1)


def pinned_versions(requirements: Path) -> dict[str, str]:
    """Every ``name==version`` line of a requirements file, by canonical name.

    Raises
    ------
    ValueError
        For a line that does not pin exactly one version (a range, a URL, an option), naming the file
        and the line: such a line would let the layer and the tests install different versions.
    """
    pins: dict[str, str] = {}
    for number, raw in enumerate(requirements.read_text().splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        match = _PIN.match(line)
        if match is None:
            raise ValueError(f"{requirements}:{number}: expected one pinned version (name==version), got {line!r}")
        pins[normalize_name(match.group("name"))] = match.group("version")
    return pins


def layer_distributions(directory: Path) -> dict[str, str]:
    """The distributions installed in a built layer (``<directory>/python/*.dist-info``): name → version."""
    found: dict[str, str] = {}
    for metadata in sorted((directory / "python").glob("*.dist-info/METADATA")):
        headers = email.parser.HeaderParser().parsestr(metadata.read_text(encoding="utf-8"))
        found[normalize_name(headers["Name"])] = headers["Version"]
    return found


def pip_install_command(
    requirements: Path, target: Path, architecture: str, runtime: str, *, resolve_dependencies: bool = True
) -> list[str]:
    """The pip command that installs ``requirements`` as wheels for a Lambda architecture and runtime.

    Raises
    ------
    ValueError
        For an unknown architecture or a non-Python runtime.
    """
    if architecture not in _PLATFORMS:
        raise ValueError(f"unsupported architecture {architecture!r}")
    python_version = runtime_python(runtime)
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--requirement", str(requirements), "--target", str(target)]
    for platform in _PLATFORMS[architecture]:
        command += ["--platform", platform]
    command += ["--implementation", "cp", "--python-version", python_version]
    command += ["--only-binary=:all:", "--no-compile"]
    if not resolve_dependencies:
        command.append("--no-deps")
    return command


def compile_command(target: Path) -> list[str]:
    """The command that compiles a layer's ``python/`` folder to bytecode for this interpreter.

    Hash-based pycs that are not checked against their source (PEP 552): a layer never changes once
    published, and timestamp-based ones would be rejected (and recompiled at every cold start) because
    the archive does not keep the files' times. Paths in tracebacks are the ones Lambda extracts to.
    """
    return [
        sys.executable,
        "-m",
        "compileall",
        "-q",
        "--invalidation-mode",
        "unchecked-hash",
        "-s",
        str(target),
        "-p",
        LAYER_PYTHON_PATH,
        str(target),
    ]


def build_key(
    requirements: Path,
    architecture: str,
    runtime: str,
    *,
    resolve_dependencies: bool = True,
    compile_bytecode: bool = False,
) -> str:
    """Cache key of a layer build: what it installs, for which platform, and how."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{architecture}/{runtime}".encode())
    # Options outside the defaults only: a default build keeps the key (and the archive) it always had.
    if not resolve_dependencies:
        digest.update(b"/no-deps")
    if compile_bytecode:
        digest.update(f"/pyc-{sys.implementation.cache_tag}".encode())
    return digest.hexdigest()[:16]


def _run(command: list[str], what: str) -> None:
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{what} failed:\n{result.stdout}{result.stderr}")


def build_layer_directory(
    requirements: Path,
    architecture: str,
    runtime: str,
    build_root: Path,
    *,
    resolve_dependencies: bool = True,
    compile_bytecode: bool = False,
) -> Path:
    """Install the requirements into ``<build_root>/<key>/python`` once, and return ``<build_root>/<key>``.

    A half-finished build is never reused: pip installs into a private staging folder that is renamed
    into place only when it succeeds. Two programs building at once (parallel previews or tests) each
    stage their own copy; the first rename wins and the other copy is discarded.

    Raises
    ------
    RuntimeError
        When pip or the bytecode compiler fails (its output is included).
    ValueError
        When bytecode is asked for a runtime other than this interpreter's Python (bytecode is specific
        to one minor version).
    """
    if compile_bytecode and runtime_python(runtime) != f"{sys.version_info.major}.{sys.version_info.minor}":
        raise ValueError(
            f"bytecode for {runtime} must be compiled by that Python, not by Python {sys.version.split()[0]}"
        )
    key = build_key(
        requirements,
        architecture,
        runtime,
        resolve_dependencies=resolve_dependencies,
        compile_bytecode=compile_bytecode,
    )
    layer_dir = build_root / key
    if (layer_dir / "python").is_dir():
        return layer_dir
    build_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{layer_dir.name}.", suffix=".partial", dir=build_root))
    try:
        command = pip_install_command(
            requirements, staging / "python", architecture, runtime, resolve_dependencies=resolve_dependencies
        )
        _run(command, f"building layer from {requirements}")
        if compile_bytecode:
            _run(compile_command(staging / "python"), f"compiling the layer from {requirements}")
        try:
            staging.rename(layer_dir)
        except OSError:
            if not (layer_dir / "python").is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return layer_dir


@dataclass
class DependencyLayerArgs:
    """Inputs of :class:`DependencyLayer`."""

    requirements: Path
    """Pinned requirements file (``package==version`` lines)."""
    architecture: str = DEFAULT_ARCHITECTURE
    """Architecture of the functions that use the layer."""
    runtime: str = DEFAULT_RUNTIME
    """Runtime of the functions that use the layer."""
    description: str = ""
    """Shown in the Lambda console."""
    build_root: Path = DEFAULT_BUILD_ROOT
    """Where builds are cached (ignored by git)."""
    resolve_dependencies: bool = True
    """``False`` installs exactly the file's lines (pip ``--no-deps``): every line must pin one version and
    the file must list every distribution the layer needs."""
    compile_bytecode: bool = False
    """Ship bytecode compiled for ``runtime`` (faster cold starts, larger layer); the program must run on
    that runtime's Python."""


class DependencyLayer(pulumi.ComponentResource):
    """A Lambda layer built from a pinned requirements file for one architecture and runtime."""

    layer: aws.lambda_.LayerVersion
    arn: pulumi.Output[str]
    distributions: dict[str, str]
    """What the built layer holds: canonical distribution name → version."""

    def __init__(self, name: str, args: DependencyLayerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:lambda:DependencyLayer", name, None, opts)
        if not args.resolve_dependencies:
            pinned_versions(args.requirements)  # every line must pin one version: fail before building
        directory = build_layer_directory(
            args.requirements,
            args.architecture,
            args.runtime,
            args.build_root,
            resolve_dependencies=args.resolve_dependencies,
            compile_bytecode=args.compile_bytecode,
        )
        self.distributions = layer_distributions(directory)
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-layer",
            layer_name=physical_name(pulumi.get_project(), pulumi.get_stack(), name, LAMBDA_LAYER),
            description=args.description or f"Dependencies from {args.requirements.name}",
            code=pulumi.FileArchive(str(directory)),
            compatible_architectures=[args.architecture],
            compatible_runtimes=[args.runtime],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.layer.arn
        self.register_outputs({"arn": self.arn})
