"""``DependencyLayer``: a Lambda layer of third-party packages, built for the target architecture.

Functions ship only their own code; dependencies that the public Powertools layer does not carry are
installed from a pinned requirements file into ``python/`` with pip's cross-platform wheel selection
(``--platform``/``--python-version``/``--only-binary``), so an arm64 layer built on an x86 laptop or CI
runner still contains arm64 binaries. The build is cached by the hash of its inputs.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_aws as aws

# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): accept wheels up to that.
_PLATFORMS = {
    "arm64": ("manylinux_2_34_aarch64", "manylinux_2_28_aarch64", "manylinux2014_aarch64"),
    "x86_64": ("manylinux_2_34_x86_64", "manylinux_2_28_x86_64", "manylinux2014_x86_64"),
}
DEFAULT_BUILD_ROOT = Path(__file__).resolve().parent.parent / "build" / "layers"


def pip_install_command(requirements: Path, target: Path, architecture: str, runtime: str) -> list[str]:
    """The pip command that installs ``requirements`` as wheels for a Lambda architecture and runtime.

    Raises
    ------
    ValueError
        For an unknown architecture or a non-Python runtime.
    """
    if architecture not in _PLATFORMS:
        raise ValueError(f"unsupported architecture {architecture!r}")
    if not runtime.startswith("python3."):
        raise ValueError(f"not a Python runtime: {runtime!r}")
    command = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    command += ["--requirement", str(requirements), "--target", str(target)]
    for platform in _PLATFORMS[architecture]:
        command += ["--platform", platform]
    command += ["--implementation", "cp", "--python-version", runtime.removeprefix("python")]
    command += ["--only-binary=:all:", "--no-compile"]
    return command


def build_key(requirements: Path, architecture: str, runtime: str) -> str:
    """Cache key of a layer build: what it installs, and for which platform."""
    digest = hashlib.sha256(requirements.read_bytes())
    digest.update(f"{architecture}/{runtime}".encode())
    return digest.hexdigest()[:16]


def build_layer_directory(requirements: Path, architecture: str, runtime: str, build_root: Path) -> Path:
    """Install the requirements into ``<build_root>/<key>/python`` once, and return ``<build_root>/<key>``.

    A half-finished build is never reused: pip installs into a private staging folder that is renamed
    into place only when it succeeds. Two programs building at once (parallel previews or tests) each
    stage their own copy; the first rename wins and the other copy is discarded.

    Raises
    ------
    RuntimeError
        When pip fails (its output is included).
    """
    layer_dir = build_root / build_key(requirements, architecture, runtime)
    if (layer_dir / "python").is_dir():
        return layer_dir
    build_root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{layer_dir.name}.", suffix=".partial", dir=build_root))
    try:
        result = subprocess.run(
            pip_install_command(requirements, staging / "python", architecture, runtime),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"building layer from {requirements} failed:\n{result.stdout}{result.stderr}")
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
    architecture: str = "arm64"
    """Architecture of the functions that use the layer."""
    runtime: str = "python3.13"
    """Runtime of the functions that use the layer."""
    description: str = ""
    """Shown in the Lambda console."""
    build_root: Path = DEFAULT_BUILD_ROOT
    """Where builds are cached (ignored by git)."""


class DependencyLayer(pulumi.ComponentResource):
    """A Lambda layer built from a pinned requirements file for one architecture and runtime."""

    layer: aws.lambda_.LayerVersion
    arn: pulumi.Output[str]

    def __init__(self, name: str, args: DependencyLayerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:lambda:DependencyLayer", name, None, opts)
        directory = build_layer_directory(args.requirements, args.architecture, args.runtime, args.build_root)
        self.layer = aws.lambda_.LayerVersion(
            f"{name}-layer",
            layer_name=f"{pulumi.get_project()}-{pulumi.get_stack()}-{name}",
            description=args.description or f"Dependencies from {args.requirements.name}",
            code=pulumi.FileArchive(str(directory)),
            compatible_architectures=[args.architecture],
            compatible_runtimes=[args.runtime],
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.arn = self.layer.arn
        self.register_outputs({"arn": self.arn})
