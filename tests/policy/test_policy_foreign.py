"""Other teams' programs, written the way public Pulumi AWS examples are, gated with ``offline.preview --program``.

Each folder under ``foreign/`` is a program with its own ``Pulumi.yaml`` (a stack file and a policy config
optional) and an ``expected.json``: the exit status, the resource count, the idle cost and every finding
``[level, rule, resource]``. A run must match it exactly: no finding missing, none unexpected. The same
program recorded as a first preview sees most values unknown: it may defer findings to advisory notes,
but must never report a mandatory finding the update would not.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
FOREIGN = Path(__file__).resolve().parent / "foreign"
PROGRAMS = sorted(path.parent.name for path in FOREIGN.glob("*/Pulumi.yaml"))


def gate(program: str, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    folder = FOREIGN / program
    output = tmp_path / f"{program}.json"
    command = [sys.executable, "-m", "offline.preview", "--program", str(folder), "--json", str(output), *extra]
    if (folder / "policy-config.json").is_file():
        command += ["--policy-config", str(folder / "policy-config.json")]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False, env=_env())
    assert output.is_file(), result.stdout + result.stderr
    return result, json.loads(output.read_text())


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONPATH": str(PROJECT_DIR)}


def findings(report: dict[str, Any]) -> list[list[str]]:
    return sorted([v["level"], v["rule"], v["urn"].rsplit("::", 1)[-1]] for v in report["violations"])


def test_policy_foreign_there_are_at_least_five_programs() -> None:
    assert len(PROGRAMS) >= 5, PROGRAMS


@pytest.mark.parametrize("program", PROGRAMS)
def test_policy_foreign_program_has_exactly_its_expected_findings(program: str, tmp_path: Path) -> None:
    expected = json.loads((FOREIGN / program / "expected.json").read_text())
    result, report = gate(program, tmp_path)
    assert findings(report) == expected["findings"], result.stdout
    assert result.returncode == expected["exit"], result.stderr
    assert (report["resources"], report["idleCostUsd"]) == (expected["resources"], expected["idleCostUsd"])
    assert "Policies:" in result.stdout and "Resources by type:" in result.stdout


@pytest.mark.parametrize("program", PROGRAMS)
def test_policy_foreign_first_preview_never_reports_more_than_the_update(program: str, tmp_path: Path) -> None:
    expected = json.loads((FOREIGN / program / "expected.json").read_text())
    result, report = gate(program, tmp_path, "--first-preview")
    assert result.returncode in (0, 1), result.stderr
    mandatory = Counter(tuple(f) for f in findings(report) if f[0] == "mandatory")
    allowed = Counter(tuple(f) for f in expected["findings"] if f[0] == "mandatory")
    assert not (mandatory - allowed), f"first preview invents {sorted(mandatory - allowed)}"
