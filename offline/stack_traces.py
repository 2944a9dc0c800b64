"""The SDK's per-registration stack trace, built without formatting every frame of the stack.

For each resource the Pulumi SDK sends the engine the call stack of the program line that created it
(``RegisterResourceRequest.stackTrace``; the offline plan reads the program's file and line from it for
SARIF locations). ``pulumi.runtime.resource._get_stack_trace`` builds it with ``traceback.extract_stack()``:
a ``FrameSummary`` for every frame, each with its source line read through ``linecache``, then
``pathlib.Path(filename).as_uri()`` for every frame it keeps. Only each frame's file name, line number and
function name are used. That was 0.09 s of CPU for the 224 resources of the dev stack, on the plan's
critical path.

:func:`build_stack_traces_from_frames` swaps in a function that walks the same frames (``sys._getframe``)
and returns the same message: the same frames cut at the same ``__init__``, in the same order, with the same
URIs (memoized per file name). It runs only on the SDK release it was checked against
(:data:`CHECKED_SDK_VERSION`, pinned in ``requirements.txt``), only while the SDK's function is the one it
replaces, and not when ``sys.tracebacklimit`` is set; otherwise the SDK's own function runs.
``tests/offline/test_offline_stack_traces.py`` compares both on real registrations (the canary).
"""

from __future__ import annotations

import functools
import pathlib
import sys
from importlib import metadata
from types import FrameType
from typing import Final

from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

__all__ = ["CHECKED_SDK_VERSION", "build_stack_traces_from_frames", "stack_trace"]

CHECKED_SDK_VERSION: Final = "3.272.0"
"""The ``pulumi`` release whose ``_get_stack_trace`` :func:`stack_trace` reproduces."""

_SDK_FUNCTION: Final = sdk_resource._get_stack_trace
_CONSTRUCTOR_FRAMES: Final = 3
"""``Resource.__init__``, then ``CustomResource``/``ComponentResource.__init__``, then the concrete class's."""


@functools.cache
def _position(filename: str, line: int) -> source_pb2.SourcePosition | None:
    """What the SDK's ``_get_source_position_for_frame`` makes of a frame's file and line (``None``: no position)."""
    if filename == "":
        return None
    try:
        uri = pathlib.Path(filename).as_uri()
    except ValueError:  # a relative name (``<frozen runpy>``) has no URI: the SDK leaves the frame without one
        return None
    return source_pb2.SourcePosition(uri=uri, line=line)


def stack_trace() -> source_pb2.StackTrace:
    """The stack trace ``_get_stack_trace`` returns when called from the same place.

    The frames outside the resource's third ``__init__`` (counted from the innermost frame), innermost
    first; an empty trace when there is no such frame or nothing outside it.
    """
    if getattr(sys, "tracebacklimit", None) is not None:  # the SDK's extract_stack would cut the stack
        return _SDK_FUNCTION()
    frame: FrameType | None = sys._getframe()
    constructors = 0
    while frame is not None:
        if frame.f_code.co_name == "__init__":
            constructors += 1
            if constructors == _CONSTRUCTOR_FRAMES:
                break
        frame = frame.f_back
    if frame is None or frame.f_back is None:
        return source_pb2.StackTrace()
    frames = []
    caller: FrameType | None = frame.f_back
    while caller is not None:
        line = caller.f_lineno
        position = _position(caller.f_code.co_filename, line) if line is not None else None
        frames.append(source_pb2.StackFrame(pc=position))
        caller = caller.f_back
    return source_pb2.StackTrace(frames=frames)


def build_stack_traces_from_frames() -> bool:
    """Have the SDK build each registration's stack trace with :func:`stack_trace`; idempotent.

    Returns
    -------
    bool
        ``True`` when :func:`stack_trace` is in place; ``False`` when the installed ``pulumi`` is not
        :data:`CHECKED_SDK_VERSION` or its ``_get_stack_trace`` was replaced by someone else (the SDK's
        own path then runs).
    """
    if sdk_resource._get_stack_trace is stack_trace:
        return True
    if metadata.version("pulumi") != CHECKED_SDK_VERSION or sdk_resource._get_stack_trace is not _SDK_FUNCTION:
        return False
    sdk_resource._get_stack_trace = stack_trace
    return True
