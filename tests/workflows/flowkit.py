"""The workflow, end-to-end and ops tests' names for the emulator (``offline/emulator``).

The tests run exactly what ``make local`` runs: the recorded program in moto with the real handlers, its
deliveries on a virtual clock. ``OrderFlow`` is the running :class:`~offline.emulator.world.Emulator`.
"""

from __future__ import annotations

from offline.emulator.lambdas import (
    MOTO_IOT_DATA_HOST,
    FaultInjector,
    FaultKind,
    Invocation,
    LambdaRuntime,
    handler_environment,
    load_handler,
)
from offline.emulator.moto_seams import ServiceFaultInjector, ServiceFaultKind
from offline.emulator.recorded import DEFAULT_BUS, HANDLERS_DIR, PROJECT_DIR, RecordedSystem, RecordingError
from offline.emulator.world import Emulator as OrderFlow
from offline.emulator.world import ExecutionView, aws_client, read_execution
from offline.emulator.world import running_emulator as running_flow

__all__ = [
    "DEFAULT_BUS",
    "HANDLERS_DIR",
    "MOTO_IOT_DATA_HOST",
    "PROJECT_DIR",
    "ExecutionView",
    "FaultInjector",
    "FaultKind",
    "Invocation",
    "LambdaRuntime",
    "OrderFlow",
    "RecordedSystem",
    "RecordingError",
    "ServiceFaultInjector",
    "ServiceFaultKind",
    "aws_client",
    "handler_environment",
    "load_handler",
    "read_execution",
    "running_flow",
]
