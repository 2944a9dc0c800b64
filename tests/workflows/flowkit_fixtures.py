"""Fixtures shared by ``tests/workflows`` and ``tests/e2e`` (each conftest imports them)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from offline.recording import ProgramRun
from tests import recorded
from tests.workflows.flowkit import OrderFlow, RecordedSystem, running_flow


@pytest.fixture(scope="session")
def recorded_program() -> ProgramRun:
    """The dev stack, recorded once for the session (tests read it, none mutates it)."""
    return recorded.recorded_program("dev")


@pytest.fixture(scope="session")
def system(recorded_program: ProgramRun) -> RecordedSystem:
    """What the order flow needs from the recording."""
    return RecordedSystem.from_program(recorded_program)


@pytest.fixture(autouse=True)
def quiet_interpreter() -> Iterator[None]:
    """moto logs every failed execution at ERROR; failures are expected outcomes in these tests."""
    logger = logging.getLogger("moto.stepfunctions")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    yield
    logger.setLevel(level)


@pytest.fixture
def flow(system: RecordedSystem) -> Iterator[OrderFlow]:
    """The recorded system in a fresh moto account, with the real handlers."""
    with running_flow(system) as running:
        yield running
