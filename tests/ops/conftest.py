"""Fixtures of the ops tests: the dev stack recorded, running in moto with the real handlers."""

from __future__ import annotations

from pathlib import Path

import pytest

from offline.recording import ProgramRun
from tests.ops.opskit import write_outputs
from tests.workflows.flowkit_fixtures import flow, quiet_interpreter, recorded_program, system

__all__ = ["flow", "outputs", "quiet_interpreter", "recorded_program", "system"]


@pytest.fixture
def outputs(recorded_program: ProgramRun, tmp_path: Path) -> Path:
    """The stack's outputs as ``pulumi stack output --json`` writes them, for the ops tool's ``--outputs``."""
    return write_outputs(recorded_program, tmp_path)
