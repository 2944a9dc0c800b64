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

Targets: init ≤ :data:`MAX_INIT_RATIO` × baseline and zip ≤ :data:`MAX_PACKAGE_BYTES`. Missed targets
are reported as MISS; the exit status is non-zero only if something crashed.

Run: ``venv/bin/python benchmarks/cold_start.py [package ...]``.
"""

from __future__ import annotations

import ast
import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Final

PROJECT_DIR: Final = Path(__file__).resolve().parent.parent
HANDLERS_DIR: Final = PROJECT_DIR / "handlers"
sys.path.insert(0, str(PROJECT_DIR))

from components.function import package_files  # noqa: E402 - needs the project root on sys.path

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
REGION: Final = "eu-west-1"
# Values only need the right shape: nothing is called at import time.
FUNCTION_ENVIRONMENT: Final = {
    "ORDERS_TABLE_NAME": "orders",
    "TIMELINE_TABLE_NAME": "timeline",
    "INVENTORY_TABLE_NAME": "inventory",
    "PAYMENTS_TABLE_NAME": "payments",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "EVENT_BUS_NAME": "orderflow",
    "REALTIME_TOPIC_PREFIX": "orders",
    "IOT_DATA_ENDPOINT": f"example-ats.iot.{REGION}.amazonaws.com",
    "NOTIFICATIONS_TOPIC_ARN": f"arn:aws:sns:{REGION}:123456789012:order-notifications",
    "COGNITO_ISSUER": f"https://cognito-idp.{REGION}.amazonaws.com/{REGION}_Example",
    "COGNITO_CLIENT_ID": "exampleclientid",
    "POWERTOOLS_METRICS_NAMESPACE": "orderflow",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
}
# Libraries the baseline leaves out on purpose: they are what is being measured.
MEASURED_LIBRARIES: Final = frozenset({"aws_lambda_powertools", "pydantic", "pydantic_core", "shared"})


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


def time_import(module: str, code_dir: Path, package: str) -> float:
    """Seconds a fresh interpreter spends importing ``module`` from ``code_dir``."""
    environment = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(code_dir),
        "PYTHONDONTWRITEBYTECODE": "1",
        "LAMBDA_TASK_ROOT": str(code_dir),
        "AWS_LAMBDA_FUNCTION_NAME": package,
        "POWERTOOLS_SERVICE_NAME": package,
        **FUNCTION_ENVIRONMENT,
    }
    script = f"import time; t=time.perf_counter(); import {module}; print(time.perf_counter()-t)"
    completed = subprocess.run(
        [sys.executable, "-c", script],
        cwd=code_dir,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"importing {module} failed:\n{completed.stderr}")
    return float(completed.stdout.strip().splitlines()[-1])


def measure(package: str, workdir: Path) -> Measurement:
    """Size and median init time of one function and of its baseline."""
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

    modules = (
        (f"{package}.app", code_dir),
        ("baseline_handler.app", baseline_dir),
        ("floor_handler.app", baseline_dir),
    )
    # Warm the OS file cache once; then interleave so drift affects every variant alike.
    for module, directory in modules:
        time_import(module, directory, package)
    times: dict[str, list[float]] = {module: [] for module, _ in modules}
    for _ in range(RUNS):
        for module, directory in modules:
            times[module].append(time_import(module, directory, package))
    return Measurement(
        package=package,
        init_seconds=statistics.median(times[f"{package}.app"]),
        baseline_seconds=statistics.median(times["baseline_handler.app"]),
        floor_seconds=statistics.median(times["floor_handler.app"]),
        zip_bytes=zip_bytes,
    )


def verdict(passed: bool) -> str:
    """PASS or MISS."""
    return "PASS" if passed else "MISS"


def main(packages: list[str]) -> int:
    """Measure, print the table, return 0 (missed targets are reported, not fatal)."""
    print(
        f"python {sys.version.split()[0]}; {RUNS} runs per function, median; targets: init <= "
        f"{MAX_INIT_RATIO} x baseline, zip <= {MAX_PACKAGE_BYTES // 1024} KB"
    )
    header = (
        f"{'function':<22}{'init ms':>9}{'baseline ms':>13}{'ratio':>7}  {'init':<5}"
        f"{'floor ms':>10}{'floor ratio':>13}{'zip KB':>8}  size"
    )
    print(header)
    print("-" * len(header))
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="orderflow-cold-start-") as temp:
        for package in packages:
            result = measure(package, Path(temp))
            results.append(result)
            print(
                f"{result.package:<22}{result.init_seconds * 1000:>9.1f}{result.baseline_seconds * 1000:>13.1f}"
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
