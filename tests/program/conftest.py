"""The whole program, recorded once per stack for the session (each test reads, none mutates)."""

from __future__ import annotations

import pytest

from offline.recording import ProgramRun
from tests.recorded import recorded_program


@pytest.fixture(scope="session")
def dev() -> ProgramRun:
    return recorded_program("dev")


@pytest.fixture(scope="session")
def prod() -> ProgramRun:
    return recorded_program("prod")


@pytest.fixture(params=["dev", "prod"], scope="session")
def stack_run(request: pytest.FixtureRequest) -> ProgramRun:
    return request.getfixturevalue(request.param)
