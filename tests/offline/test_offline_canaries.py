"""Canaries: the SDK internals the harness relies on still have the shape we use.

An upgrade of ``pulumi`` that changes one of these fails here, loudly, instead of making the harness
record something subtly different from what the engine sees.
"""

from __future__ import annotations

import inspect
from contextvars import ContextVar
from importlib import metadata

from pulumi.runtime import mocks, rpc, settings, stack, sync_await


def test_pinned_sdk_versions() -> None:
    assert metadata.version("pulumi") == "3.272.0"
    assert metadata.version("pulumi_aws") == "7.51.1"


def test_mock_monitor_hooks_we_override_exist() -> None:
    assert inspect.signature(mocks.MockMonitor.make_urn).parameters.keys() == {"self", "parent", "type_", "name"}
    assert "request" in inspect.signature(mocks.MockMonitor.RegisterResource).parameters
    # The monitor keeps registrations by URN with the mocks' state: we read it back after super().
    assert mocks.MockMonitor.ResourceRegistration._fields == ("urn", "id", "state")


def test_set_mocks_accepts_a_monitor() -> None:
    assert "monitor" in inspect.signature(mocks.set_mocks).parameters


def test_runtime_entry_points_exist() -> None:
    assert inspect.iscoroutinefunction(stack.run_pulumi_func)
    assert callable(sync_await._sync_await)
    assert isinstance(settings.ROOT, ContextVar)
    # A failed program's pending outputs are dropped from the SDK's tracking set (offline.harness._run_main).
    assert isinstance(settings.SETTINGS.outputs, set) and hasattr(settings.SETTINGS.lock, "acquire")
    assert "keep_unknowns" in inspect.signature(rpc.deserialize_properties).parameters


def test_register_resource_response_can_mark_missing_outputs_unknown() -> None:
    # offline.harness sets `unknown` on responses for any program, so outputs the mocks do not model
    # resolve as unknown (not None) in an update, through rpc.resolve_outputs' resolve_missing_as_unknown.
    from pulumi.runtime.proto import resource_pb2

    assert "unknown" in resource_pb2.RegisterResourceResponse.DESCRIPTOR.fields_by_name
    assert "resolve_missing_as_unknown" in inspect.signature(rpc.resolve_outputs).parameters


def test_config_map_readers_exist() -> None:
    # orderflow/config.py lists the stack's keys from the engine's config map to refuse undeclared ones.
    from pulumi.runtime import config

    assert isinstance(config.CONFIG, ContextVar)
    assert callable(config.get_config_env)
    assert "config" in inspect.signature(config.set_all_config).parameters


def test_sdk_type_readers_the_program_mocks_use_exist() -> None:
    # offline.mocks.as_output_types reads a resource's output types as the SDK does when it builds its outputs.
    import pulumi_aws as aws
    from pulumi import _types

    role_types = _types.resource_types(aws.iam.Role)
    assert role_types["assumeRolePolicy"] is str
    inline = _types.unwrap_optional_type(role_types["inlinePolicies"])
    (item,) = inline.__args__
    assert _types.is_output_type(item) and _types.output_type_types(item)["policy"] is str


def test_callback_server_internals_the_harness_runs_transforms_through_exist() -> None:
    # offline.harness.run_callback calls a program's transform by its token, as the engine does over gRPC.
    from pulumi.runtime._callbacks import _CallbackServicer

    assert isinstance(_CallbackServicer._servicers, list)
    annotations = _CallbackServicer.__annotations__
    assert {"_callbacks", "_loop", "_transforms"} <= set(annotations)
    assert "request" in inspect.signature(mocks.MockMonitor.RegisterStackTransform).parameters
    assert inspect.iscoroutinefunction(_CallbackServicer.Invoke)
