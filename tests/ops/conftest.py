"""Fixtures of the ops tests: the dev stack recorded, running in moto with the real handlers."""

from __future__ import annotations

from tests.workflows.flowkit_fixtures import flow, quiet_interpreter, recorded_program, system

__all__ = ["flow", "quiet_interpreter", "recorded_program", "system"]
