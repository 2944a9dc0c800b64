"""Cold-start cost and package size of every Lambda function, beside a bare-boto3 baseline.

For each handler package this script:

1. builds its deployment zip exactly as ``components.function`` does (the package + ``shared``,
   deflated) and reports the size;
2. generates a *baseline* handler in a temp dir: a module that creates the same boto3 clients and
   imports the same third-party libraries (e.g. PyJWT) as the real one, without Powertools or Pydantic;
3. times the init of both the way Lambda does it: a fresh interpreter importing ``<package>.app``
   from the unpacked zip, with the function's environment set, ``LAMBDA_TASK_ROOT`` set (so
   Powertools and the X-Ray SDK take their in-Lambda code paths) and no bytecode cache for our code
   (Lambda cannot write one). One untimed warm-up run, then :data:`RUNS` timed runs; the median is kept.

A third variant, the *floor*, adds only Powertools' Logger, Tracer and Metrics and one trivial Pydantic
model to the baseline: what any handler written in the project's style pays before its own code runs.

Powertools and Pydantic come, as in AWS, from the ``powertools`` layer built from
``handlers/requirements.txt`` (``components.layer``), placed before the installed packages on the path the
way Lambda puts ``/opt/python`` before its runtime's boto3: *init* uses the layer as deployed (bytecode
compiled for the runtime), *no-pyc* the same layer without bytecode (what every cold start in AWS pays when
a layer ships sources only), *site* the packages pip installed for the tests. The layer is built for this
machine's architecture so that its binary wheels import here; its deployed arm64 build is measured for size.

Targets: init ≤ :data:`MAX_INIT_RATIO` × baseline and zip ≤ :data:`MAX_PACKAGE_BYTES`. Missed targets
are reported as MISS; the exit status is non-zero only if something crashed.

Run: ``venv/bin/python benchmarks/cold_start.py [package ...]``.
"""

from __future__ import annotations

import ast
import importlib
import os
import platform
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
HANDLERS_DIR: Final = PROJECT_DIR / "handlers"
sys.path.insert(0, str(PROJECT_DIR))

from components.function import DEFAULT_ARCHITECTURE, DEFAULT_RUNTIME, package_files  # noqa: E402
from components.layer import DEFAULT_BUILD_ROOT, build_layer_directory, layer_distributions  # noqa: E402

PACKAGES: Final = (
    "create_order",
    "get_order",
    "customer_status",
    "reserve_inventory",
    "process_payment",
    "create_shipment",
    "cancel_shipment",
    "release_inventory",
    "refund_payment",
    "notify",
    "audit",
    "realtime_authorizer",
)
RUNS: Final = 5
MAX_INIT_RATIO: Final = 1.3
MAX_PACKAGE_BYTES: Final = 64 * 1024
# The handler test kit's function environment: values only need the right shape, nothing is called at
# import time. Imported by name so the type checker, which leaves tests/ out, does not follow it.
FUNCTION_ENVIRONMENT: Final[dict[str, str]] = importlib.import_module(
    "tests.handlers.handlers_testkit"
).FUNCTION_ENVIRONMENT
# Libraries the baseline leaves out on purpose: they are what is being measured.
MEASURED_LIBRARIES: Final = frozenset({"aws_lambda_powertools", "pydantic", "pydantic_core", "shared"})
POWERTOOLS_REQUIREMENTS: Final = HANDLERS_DIR / "requirements.txt"
HOST_ARCHITECTURE: Final = "arm64" if platform.machine().lower() in ("arm64", "aarch64") else "x86_64"
SITE_PACKAGES: Final = Path(sysconfig.get_paths()["purelib"])


@dataclass(frozen=True)
class Dependencies:
    """What a handler needs besides Powertools and Pydantic, found by reading its source."""

    boto3_clients: tuple[str, ...]
    third_party_imports: tuple[str, ...]


@dataclass(frozen=True)
class Measurement:
    """The figures of one function."""

    package: str
    init_seconds: float
    no_pyc_seconds: float
    site_seconds: float
    baseline_seconds: float
    floor_seconds: float
    zip_bytes: int

    @property
    def ratio(self) -> float:
        """Init time relative to the baseline."""
        return self.init_seconds / self.baseline_seconds


def dependencies_of(package: str) -> Dependencies:
    """The boto3 clients and third-party top-level imports of a handler package (AST scan)."""
    clients: list[str] = []
    imports: set[str] = set()
    for path in sorted((HANDLERS_DIR / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "client"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "boto3"
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                clients.append(str(node.args[0].value))
            elif isinstance(node, ast.Import):
                imports.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imports.add(node.module.split(".")[0])
    third_party = sorted(
        name
        for name in imports
        if name not in sys.stdlib_module_names
        and name not in MEASURED_LIBRARIES
        and name not in {"boto3", "botocore", package}
    )
    return Dependencies(boto3_clients=tuple(clients), third_party_imports=tuple(third_party))


def baseline_source(dependencies: Dependencies, *, floor: bool = False) -> str:
    """A handler module doing the same AWS/library setup as the real one, nothing else.

    With ``floor``, it also creates Powertools' Logger, Tracer and Metrics and one trivial Pydantic
    model: the least any handler following the project's style pays, whatever its own code does.
    """
    lines = ["import json", "import os"]
    lines += [f"import {name}" for name in dependencies.third_party_imports]
    if floor:
        lines += [
            "from aws_lambda_powertools import Logger, Metrics, Tracer",
            "from pydantic import BaseModel",
            "logger, metrics = Logger(), Metrics()",
            # As the handlers do: patch botocore when they call AWS, else http.client (the JWKS fetch).
            f"tracer = Tracer(patch_modules=({'botocore' if dependencies.boto3_clients else 'httplib'!r},))",
            "class Payload(BaseModel):",
            "    order_id: str",
        ]
    if dependencies.boto3_clients:
        lines.append("import boto3")
    for index, service in enumerate(dependencies.boto3_clients):
        endpoint = ', endpoint_url="https://" + os.environ["IOT_DATA_ENDPOINT"]' if service == "iot-data" else ""
        lines.append(f'client_{index} = boto3.client("{service}"{endpoint})')
    lines.append("")
    lines.append("def lambda_handler(event, context):")
    lines.append('    return {"statusCode": 200, "body": json.dumps({})}')
    return "\n".join(lines) + "\n"


def build_zip(package: str, destination: Path) -> int:
    """Write the deployment zip of ``package`` (as components.function packages it); return its size."""
    files = package_files(HANDLERS_DIR, [package, "shared"])
    with zipfile.ZipFile(destination, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for archive_path, source in files.items():
            archive.write(source, archive_path)
    return destination.stat().st_size


def powertools_layer(architecture: str, *, compile_bytecode: bool) -> Path:
    """The ``powertools`` layer's build folder, as the program builds it (cached under ``build/layers``)."""
    return build_layer_directory(
        POWERTOOLS_REQUIREMENTS,
        architecture,
        DEFAULT_RUNTIME,
        DEFAULT_BUILD_ROOT,
        resolve_dependencies=False,
        compile_bytecode=compile_bytecode,
    )


def archive_sizes(directory: Path) -> tuple[int, int]:
    """Deflated zip size and unpacked size, in bytes, of a layer folder."""
    unpacked = 0
    with tempfile.TemporaryFile() as handle:
        with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(directory.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(directory).as_posix())
                    unpacked += path.stat().st_size
        return handle.tell(), unpacked


def time_import(module: str, code_dir: Path, package: str, layer: Path | None = None) -> float:
    """Seconds a fresh interpreter spends importing ``module`` from ``code_dir``.

    The path is Lambda's order: the code, then the layer's ``python/`` (when given), then the installed
    packages standing in for the runtime's boto3 (and the ``jwt`` layer); ``-S`` keeps site from adding
    anything else.
    """
    path = [code_dir, *([layer / "python"] if layer else []), SITE_PACKAGES]
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": os.pathsep.join(map(str, path)),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": package,
        "POWERTOOLS_SERVICE_NAME": package,
        **FUNCTION_ENVIRONMENT,
    }
    script = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    completed = subprocess.run(
        [sys.executable, "-S", "-c", script],
        cwd=code_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{completed.stderr}")
    return float(completed.stdout.strip().splitlines()[-1])


def measure(package: str, workdir: Path, layers: dict[str, Path]) -> Measurement:
    """Size and median init time of one function (with each layer variant) and of its baseline."""
    code_dir = workdir / package / "code"
    baseline_dir = workdir / package / "baseline"
    code_dir.mkdir(parents=True)
    (baseline_dir / "baseline_handler").mkdir(parents=True)
    (baseline_dir / "floor_handler").mkdir(parents=True)
    zip_path = workdir / package / f"{package}.zip"
    zip_bytes = build_zip(package, zip_path)
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(code_dir)
    dependencies = dependencies_of(package)
    for module, floor in (("baseline_handler", False), ("floor_handler", True)):
        (baseline_dir / module / "__init__.py").write_text("")
        (baseline_dir / module / "app.py").write_text(baseline_source(dependencies, floor=floor))

    variants: dict[str, tuple[str, Path, Path | None]] = {
        "init": (f"{package}.app", code_dir, layers["pyc"]),
        "no-pyc": (f"{package}.app", code_dir, layers["no-pyc"]),
        "site": (f"{package}.app", code_dir, None),
        "baseline": ("baseline_handler.app", baseline_dir, None),
        "floor": ("floor_handler.app", baseline_dir, None),
    }
    # Warm the OS file cache once; then interleave so drift affects every variant alike.
    for module, directory, layer in variants.values():
        time_import(module, directory, package, layer)
    times: dict[str, list[float]] = {variant: [] for variant in variants}
    for _ in range(RUNS):
        for variant, (module, directory, layer) in variants.items():
            times[variant].append(time_import(module, directory, package, layer))
    return Measurement(
        package=package,
        init_seconds=statistics.median(times["init"]),
        no_pyc_seconds=statistics.median(times["no-pyc"]),
        site_seconds=statistics.median(times["site"]),
        baseline_seconds=statistics.median(times["baseline"]),
        floor_seconds=statistics.median(times["floor"]),
        zip_bytes=zip_bytes,
    )


def report_layer_sizes() -> dict[str, Path]:
    """Print the deployed layer's size with and without bytecode; return this machine's builds for timing."""
    print(f"powertools layer from {POWERTOOLS_REQUIREMENTS.relative_to(PROJECT_DIR)} ({DEFAULT_RUNTIME}):")
    for compiled in (True, False):
        deployed = powertools_layer(DEFAULT_ARCHITECTURE, compile_bytecode=compiled)
        zipped, unpacked = archive_sizes(deployed)
        contents = layer_distributions(deployed)
        print(
            f"    {DEFAULT_ARCHITECTURE}, {'with bytecode   ' if compiled else 'without bytecode'}: zip "
            f"{zipped / 1024 / 1024:5.2f} MB, unpacked {unpacked / 1024 / 1024:5.1f} MB, {len(contents)} distributions"
        )
    print(f"    pins: {', '.join(f'{name} {version}' for name, version in sorted(contents.items()))}\n")
    return {
        "pyc": powertools_layer(HOST_ARCHITECTURE, compile_bytecode=True),
        "no-pyc": powertools_layer(HOST_ARCHITECTURE, compile_bytecode=False),
    }


def verdict(passed: bool) -> str:
    """PASS or MISS."""
    return "PASS" if passed else "MISS"


def main(packages: list[str]) -> int:
    """Measure, print the table, return 0 (missed targets are reported, not fatal)."""
    layers = report_layer_sizes()
    print(
        f"python {sys.version.split()[0]} ({HOST_ARCHITECTURE}); {RUNS} runs per function, median; targets: init <= "
        f"{MAX_INIT_RATIO} x baseline, zip <= {MAX_PACKAGE_BYTES // 1024} KB"
    )
    header = (
        f"{'function':<22}{'init ms':>9}{'no-pyc ms':>11}{'site ms':>9}{'baseline ms':>13}{'ratio':>7}  {'init':<5}"
        f"{'floor ms':>10}{'floor ratio':>13}{'zip KB':>8}  size"
    )
    print(header)
    print("-" * len(header))
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="orderflow-cold-start-") as temp:
        for package in packages:
            result = measure(package, Path(temp), layers)
            results.append(result)
            print(
                f"{result.package:<22}{result.init_seconds * 1000:>9.1f}{result.no_pyc_seconds * 1000:>11.1f}"
                f"{result.site_seconds * 1000:>9.1f}{result.baseline_seconds * 1000:>13.1f}"
                f"{result.ratio:>7.2f}  {verdict(result.ratio <= MAX_INIT_RATIO):<5}"
                f"{result.floor_seconds * 1000:>10.1f}{result.floor_seconds / result.baseline_seconds:>13.2f}"
                f"{result.zip_bytes / 1024:>8.1f}  {verdict(result.zip_bytes <= MAX_PACKAGE_BYTES)}",
                flush=True,
            )
    missed = [r.package for r in results if r.ratio > MAX_INIT_RATIO or r.zip_bytes > MAX_PACKAGE_BYTES]
    print(
        f"\n{len(results) - len(missed)}/{len(results)} functions meet both targets"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or list(PACKAGES)))
