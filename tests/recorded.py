"""The real program recorded once per stack in a test process, for the suites that only read it.

Recording is pure (the same stack file gives the same run) and costs about a second per stack, paid once
instead of once per module. Readers must not mutate the run: a test that changes it works on a copy
(``dataclasses.replace``), as the policy mutations do.
"""

from __future__ import annotations

import functools

from offline.harness import run_program
from offline.recording import ProgramRun


@functools.cache
def recorded_program(stack: str) -> ProgramRun:
    """The program recorded for ``stack`` with its stack file as committed."""
    return run_program(stack)
