"""Other teams' programs, written the way public Pulumi AWS examples are, gated with ``offline.preview --program``.

Each folder under ``foreign/`` is a program with its own ``Pulumi.yaml`` (a stack file and a policy config
optional) and an ``expected.json``: the exit status, the resource count, the idle cost and every finding
``[level, rule, resource]``. A run must match it exactly: no finding missing, none unexpected. The same
program recorded as a first preview sees most values unknown: it may defer findings to advisory notes,
but must never report a mandatory finding the update would not.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from offline import preview

FOREIGN = Path(__file__).resolve().parent / "foreign"
PROGRAMS = sorted(path.parent.name for path in FOREIGN.glob("*/Pulumi.yaml"))


@dataclass(frozen=True)
class Gate:
    """What ``offline.preview --program`` returned and printed."""

    returncode: int
    stdout: str
    stderr: str


RunGate = Callable[..., tuple[Gate, dict[str, Any]]]


@pytest.fixture
def gate(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> RunGate:
    """``offline.preview --program`` run by its entry point in this process, from a fresh working directory.

    In-process rather than ``python -m``: each program then pays only its own recording and pack, not a new
    interpreter importing the SDK and ``pulumi_aws`` again (about 0.7 s of CPU a program). The command line
    itself, run as a subprocess, is ``test_offline_program``'s subject.
    """
    monkeypatch.chdir(tmp_path)

    def run(program: str, *extra: str) -> tuple[Gate, dict[str, Any]]:
        folder = FOREIGN / program
        output = tmp_path / f"{program}.json"
        argv = ["--program", str(folder), "--json", str(output), *extra]
        if (folder / "policy-config.json").is_file():
            argv += ["--policy-config", str(folder / "policy-config.json")]
        returncode = preview.main(argv)
        printed = capsys.readouterr()
        result = Gate(returncode, printed.out, printed.err)
        assert output.is_file(), result.stdout + result.stderr
        return result, json.loads(output.read_text())

    return run


def findings(report: dict[str, Any]) -> list[list[str]]:
    return sorted([v["level"], v["rule"], v["urn"].rsplit("::", 1)[-1]] for v in report["violations"])


def test_policy_foreign_there_are_at_least_five_programs() -> None:
    assert len(PROGRAMS) >= 5, PROGRAMS


@pytest.mark.parametrize("program", PROGRAMS)
def test_policy_foreign_program_has_exactly_its_expected_findings(program: str, gate: RunGate) -> None:
    expected = json.loads((FOREIGN / program / "expected.json").read_text())
    result, report = gate(program)
    assert findings(report) == expected["findings"], result.stdout
    assert result.returncode == expected["exit"], result.stderr
    assert (report["resources"], report["idleCostUsd"]) == (expected["resources"], expected["idleCostUsd"])
    assert "Policies:" in result.stdout and "Resources by type:" in result.stdout


@pytest.mark.parametrize("program", PROGRAMS)
def test_policy_foreign_first_preview_never_reports_more_than_the_update(program: str, gate: RunGate) -> None:
    expected = json.loads((FOREIGN / program / "expected.json").read_text())
    result, report = gate(program, "--first-preview")
    assert result.returncode in (0, 1), result.stderr
    mandatory = Counter(tuple(f) for f in findings(report) if f[0] == "mandatory")
    allowed = Counter(tuple(f) for f in expected["findings"] if f[0] == "mandatory")
    assert not (mandatory - allowed), f"first preview invents {sorted(mandatory - allowed)}"
