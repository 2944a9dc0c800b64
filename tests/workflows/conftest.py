"""Fixtures of the workflow tests: the recorded dev stack running on moto (see flowkit_fixtures)."""

from __future__ import annotations

from tests.workflows.flowkit_fixtures import flow, quiet_interpreter, recorded_program, system

__all__ = ["flow", "quiet_interpreter", "recorded_program", "system"]
