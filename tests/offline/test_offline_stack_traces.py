"""Canary: the harness's stack traces are the SDK's own, frame for frame, on real registrations."""

from __future__ import annotations

import sys
from importlib import metadata
from typing import Any

import pytest
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime.proto import source_pb2

from offline import stack_traces
from offline.harness import run_program
from offline.paths import PROJECT_DIR


def test_the_checked_sdk_release_is_the_pinned_one() -> None:
    assert metadata.version("pulumi") == stack_traces.CHECKED_SDK_VERSION
    # The function replaced is still the SDK module's name for it, called with no argument.
    assert sdk_resource._get_stack_trace in (stack_traces._SDK_FUNCTION, stack_traces.stack_trace)
    assert stack_traces._SDK_FUNCTION.__code__.co_argcount == 0


def test_every_registration_of_the_dev_stack_gets_the_trace_the_sdk_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    pairs: list[tuple[source_pb2.StackTrace, source_pb2.StackTrace]] = []

    def both() -> source_pb2.StackTrace:
        # Called from the SDK's own call site: both walk the same frames (this one is inside the cut).
        ours, sdk = stack_traces.stack_trace(), stack_traces._SDK_FUNCTION()
        pairs.append((ours, sdk))
        return sdk

    monkeypatch.setattr(sdk_resource, "_get_stack_trace", both)
    run = run_program("dev")
    assert len(pairs) == len(run.resources) - 1  # every registration but the default provider's
    assert [ours for ours, _ in pairs] == [sdk for _, sdk in pairs]
    program = (PROJECT_DIR / "__main__.py").as_uri()
    assert sum(any(frame.pc.uri == program for frame in sdk.frames) for _, sdk in pairs) > 100


def test_a_trace_limit_is_left_to_the_sdk(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[Any] = []
    monkeypatch.setattr(sys, "tracebacklimit", 3, raising=False)
    monkeypatch.setattr(stack_traces, "_SDK_FUNCTION", lambda: calls.append("sdk") or source_pb2.StackTrace())
    stack_traces.stack_trace()
    assert calls == ["sdk"]


def test_installed_only_on_the_checked_release_and_over_the_sdk_function(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sdk_resource, "_get_stack_trace", stack_traces._SDK_FUNCTION)
    monkeypatch.setattr(stack_traces.metadata, "version", lambda _name: "3.999.0")
    assert stack_traces.build_stack_traces_from_frames() is False
    assert sdk_resource._get_stack_trace is stack_traces._SDK_FUNCTION
    monkeypatch.undo()

    def someone_elses() -> source_pb2.StackTrace:
        return source_pb2.StackTrace()

    monkeypatch.setattr(sdk_resource, "_get_stack_trace", someone_elses)
    assert stack_traces.build_stack_traces_from_frames() is False
    assert sdk_resource._get_stack_trace is someone_elses
    monkeypatch.setattr(sdk_resource, "_get_stack_trace", stack_traces._SDK_FUNCTION)
    assert stack_traces.build_stack_traces_from_frames() is True
    assert sdk_resource._get_stack_trace is stack_traces.stack_trace
