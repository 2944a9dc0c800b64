"""AWS Lambda runtimes by deprecation date: which are deprecated today, and which will be soon.

The dated table is ``data/lambda_runtimes.csv`` (one row per runtime identifier, with the date Lambda
deprecates it, the page it came from and when it was read). ``lambda-runtime-supported``
(:mod:`policy_pack.lambda_`) fails functions on a runtime past its date; ``lambda-runtime-deprecation-soon``
here advises on those whose date is within a configurable number of days. Both compare against today's
date (UTC), so the pack needs no release to notice that a runtime has passed its date.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any, Final

from pulumi_policy import EnforcementLevel, Severity

from policy_pack._core import ABSENT, Props, ResourceRule, today_utc
from policy_pack.figures import DATA_DIR, FigureFileError

FUNCTION: Final = "aws:lambda/function:Function"
RUNTIMES_FILE: Final = DATA_DIR / "lambda_runtimes.csv"
COLUMNS: Final = ("runtime", "deprecated_on", "source", "as_of")

SERVICE: Final = "lambda"


@dataclass(frozen=True)
class RuntimeLifecycle:
    """One row of the runtime table."""

    runtime: str
    deprecated_on: date
    """The day Lambda stops patching the runtime (creating, then updating, functions on it is blocked weeks later)."""
    source: str
    as_of: str


def load_runtime_table(path: Path) -> Mapping[str, RuntimeLifecycle]:
    """A runtime table read from ``path`` (``#`` lines are comments), by runtime identifier.

    Raises
    ------
    FigureFileError
        When the header is not :data:`COLUMNS`, a row has the wrong number of cells, a date does not
        parse, or a runtime repeats; the message names the file and the row.
    """
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    rows = csv.reader(lines)
    header = next(rows, None)
    if tuple(header or ()) != COLUMNS:
        raise FigureFileError(f"{path.name}: header must be {','.join(COLUMNS)}, got {header}")
    table: dict[str, RuntimeLifecycle] = {}
    for number, row in enumerate(rows, start=2):
        if len(row) != len(COLUMNS):
            raise FigureFileError(f"{path.name}: row {number} has {len(row)} cells, expected {len(COLUMNS)}")
        runtime, deprecated_on, source, as_of = (cell.strip() for cell in row)
        if runtime in table:
            raise FigureFileError(f"{path.name}: row {number} repeats {runtime}")
        try:
            table[runtime] = RuntimeLifecycle(runtime, date.fromisoformat(deprecated_on), source, as_of)
        except ValueError as error:
            raise FigureFileError(f"{path.name}: row {number}: {error}") from error
    return table


@cache
def runtime_table() -> Mapping[str, RuntimeLifecycle]:
    """The pack's runtime table (``data/lambda_runtimes.csv``)."""
    return load_runtime_table(RUNTIMES_FILE)


def zip_runtime(props: Props) -> Any:
    """A function's runtime identifier; ``None`` for a container image (it carries its own), ABSENT when unset."""
    if props.text("packageType", "Zip") == "Image":
        return None
    return props.text("runtime")


def _deprecation_soon(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
    runtime = zip_runtime(props)
    if runtime is None or runtime is ABSENT:
        return
    row = runtime_table().get(runtime)
    if row is None:
        return
    days = (row.deprecated_on - today_utc()).days
    if 0 < days <= config["withinDays"]:
        yield (
            f"runtime {runtime!r} is deprecated on {row.deprecated_on.isoformat()} ({days} days from today, per "
            f"{row.source} as of {row.as_of}): Lambda then stops patching it, and blocks creating and then updating "
            "functions on it weeks later; "
            "move to the newest runtime of the same language"
        )


RULES: Final = [
    ResourceRule(
        name="lambda-runtime-deprecation-soon",
        summary="Lambda functions run on a runtime whose deprecation date is more than withinDays away",
        anchors=(
            "AWS Trusted Advisor Lambda Functions Using Deprecated Runtimes (approaching part)",
            "serverless-rules E2531 / aws_lambda_function_eol_runtime (approaching part)",
        ),
        severity=Severity.LOW,
        enforcement_level=EnforcementLevel.ADVISORY,
        service=SERVICE,
        resource_types=(FUNCTION,),
        check=_deprecation_soon,
        # Trusted Advisor warns 120 days ahead; 180 leaves a release cycle to test the upgrade.
        config={"withinDays": {"type": "integer", "default": 180, "minimum": 1}},
    ),
]
