"""Run the Pulumi program in-process for one stack and record what the engine would receive.

Used by the tests and by ``make preview``'s offline plan. It reads ``Pulumi.<stack>.yaml`` the way
the CLI does, runs ``__main__.py`` under the SDK's mock monitor, and returns every registered resource
with its engine-faithful URN, inputs (deserialized and wire ``Struct``), parent, dependencies and
options, plus the stack outputs.

Relies on SDK internals (``MockMonitor``, ``run_pulumi_func``, ``settings.ROOT``, ``settings.SETTINGS.outputs``);
the pinned ``pulumi`` version and ``tests/offline/test_offline_canaries.py`` guard them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import runpy
import sys
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from offline.mocks import AwsMocks, ProgramMocks
from offline.paths import PROJECT_DIR, importable
from offline.recording import STACK_TYPE, ProgramRun, RecordedResource
from orderflow import pulumi_files


class StackNotFoundError(Exception):
    """No ``Pulumi.<stack>.yaml`` exists for the requested stack."""


def project_name(project_dir: Path = PROJECT_DIR) -> str:
    """The ``name`` in ``Pulumi.yaml``."""
    return pulumi_files.project_name(project_dir / "Pulumi.yaml")


def load_stack_config(
    stack: str, project_dir: Path = PROJECT_DIR, *, secret_placeholder: str | None = None
) -> dict[str, str]:
    """Read ``Pulumi.<stack>.yaml`` into the engine's config map, as the Pulumi CLI does.

    Keys are fully qualified (``project:key``); scalars are passed as written (YAML 1.2: ``yes`` is a
    string), lists and maps as JSON; ``Pulumi.yaml``'s declared defaults fill the keys the stack does not
    set (see :mod:`orderflow.pulumi_files`).

    Raises
    ------
    StackNotFoundError
        When the stack file does not exist.
    orderflow.pulumi_files.SecretConfigError
        When the stack file holds ``secure:`` values (only the CLI can decrypt them) and no
        ``secret_placeholder`` is given to read them as.
    orderflow.pulumi_files.ProjectFileError
        When the stack file cannot be read as the CLI reads it.
    """
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        known = sorted(p.name[len("Pulumi.") : -len(".yaml")] for p in project_dir.glob("Pulumi.*.yaml"))
        raise StackNotFoundError(f"stack {stack!r}: {path.name} not found (known stacks: {', '.join(known)})")
    config = pulumi_files.project_config_defaults(project_dir / "Pulumi.yaml")
    config.update(
        pulumi_files.read_stack_config(path, project_name(project_dir), secret_placeholder=secret_placeholder)
    )
    return config


def _provider_version() -> str:
    return metadata.version("pulumi_aws")


def provider_config(config: dict[str, str], package: str) -> dict[str, Any]:
    """A default provider's inputs as the engine builds them from the stack's ``<package>:*`` config.

    Structured values (``aws:defaultTags``) are passed as objects, the rest as written.
    """
    inputs: dict[str, Any] = {}
    for key, value in config.items():
        namespace, _, name = key.partition(":")
        if namespace == package and name:
            inputs[name] = json.loads(value) if value[:1] in ("{", "[") else value
    return inputs


class RecordingMonitor(MockMonitor):
    """A mock monitor that keeps every ``RegisterResource`` request the way the engine receives it."""

    def __init__(
        self,
        mocks: AwsMocks,
        project: str,
        stack: str,
        region: str,
        *,
        unknown_outputs: bool = False,
        config: dict[str, str] | None = None,
    ) -> None:
        super().__init__(mocks)
        self.project = project
        self.stack = stack
        self.region = region
        self.config = config or {}
        # Computed outputs the mocks do not model resolve as unknown (as during a preview), never as None.
        self.unknown_outputs = unknown_outputs
        self.records: list[RecordedResource] = []
        self._default_providers: dict[str, str] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """URN as the engine builds it."""
        # The engine leaves the stack type out and joins the whole parent type chain with '$';
        # the SDK's MockMonitor keeps the stack type and only the last parent type.
        qualified_type = type_
        if parent:
            parent_qualified_type = parent.split("::")[2]
            if parent_qualified_type != STACK_TYPE:
                qualified_type = f"{parent_qualified_type}${type_}"
        return f"urn:pulumi:{self.stack}::{self.project}::{qualified_type}::{name}"

    def _default_provider(self, type_: str, version: str) -> str:
        """The engine's default provider reference for a package, recorded once like the engine does."""
        package = type_.split(":", 1)[0]
        version = version or (_provider_version() if package == "aws" else "")
        name = f"default_{version.replace('.', '_')}" if version else "default"
        key = f"{package}::{name}"
        if key not in self._default_providers:
            urn = f"urn:pulumi:{self.stack}::{self.project}::pulumi:providers:{package}::{name}"
            provider_id = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
            inputs: dict[str, Any] = {**provider_config(self.config, package), "version": version}
            if package == "aws":
                inputs["region"] = self.region
            struct = struct_pb2.Struct()
            struct.update(inputs)
            self.records.append(
                RecordedResource(
                    urn=urn,
                    type=f"pulumi:providers:{package}",
                    name=name,
                    custom=True,
                    parent="",
                    provider="",
                    dependencies=(),
                    property_dependencies={},
                    options={},
                    inputs=inputs,
                    inputs_struct=struct,
                    id=provider_id,
                    outputs=dict(inputs),
                )
            )
            self._default_providers[key] = f"{urn}::{provider_id}"
        return self._default_providers[key]

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Register through the mock monitor, then keep the request as the engine receives it."""
        response = super().RegisterResource(request)
        if self.unknown_outputs and request.custom:
            response.unknown = True
        provider = request.provider
        if request.custom and not provider:
            provider = self._default_provider(request.type, request.version)
        state = self.resources[response.urn].state if request.type != STACK_TYPE else {}
        inputs_struct = struct_pb2.Struct()
        inputs_struct.CopyFrom(request.object)
        self.records.append(
            RecordedResource(
                urn=response.urn,
                type=request.type,
                name=request.name,
                custom=bool(request.custom),
                parent=request.parent,
                provider=provider,
                dependencies=tuple(request.dependencies),
                property_dependencies={k: tuple(v.urns) for k, v in request.propertyDependencies.items()},
                options={
                    "protect": bool(request.protect),
                    "ignoreChanges": list(request.ignoreChanges),
                    "deleteBeforeReplace": bool(request.deleteBeforeReplace),
                    "deleteBeforeReplaceDefined": bool(request.deleteBeforeReplaceDefined),
                    "additionalSecretOutputs": list(request.additionalSecretOutputs),
                    "aliases": list(request.aliasURNs),
                    "retainOnDelete": bool(request.retainOnDelete),
                    "replaceOnChanges": list(request.replaceOnChanges),
                    "customTimeouts": {
                        "create": request.customTimeouts.create,
                        "update": request.customTimeouts.update,
                        "delete": request.customTimeouts.delete,
                    },
                },
                inputs=rpc.deserialize_properties(request.object, keep_unknowns=True),
                inputs_struct=inputs_struct,
                id=str(response.id),
                outputs=dict(state),
            )
        )
        return response


def run_program(
    stack: str = "dev",
    *,
    project_dir: Path = PROJECT_DIR,
    config_overrides: dict[str, str] | None = None,
    preview: bool = False,
) -> ProgramRun:
    """Run ``__main__.py`` for ``stack`` under the mock monitor and record every resource.

    Parameters
    ----------
    stack:
        Stack name; its config comes from ``Pulumi.<stack>.yaml``.
    project_dir:
        Folder holding ``Pulumi.yaml`` and ``__main__.py``.
    config_overrides:
        Extra or replaced config entries (fully qualified keys), as ``pulumi config set`` would make.
    preview:
        Run as a preview (``pulumi.runtime.is_dry_run()`` is then true).

    Returns
    -------
    ProgramRun
        The recorded resources in registration order (the stack first) and the stack outputs.

    Raises
    ------
    StackNotFoundError
        When there is no stack file for ``stack``.
    Exception
        Whatever the program raised (a bad config value raises ``pulumi.RunError`` naming the key).
    """
    project = project_name(project_dir)
    config = load_stack_config(stack, project_dir)
    config.update(config_overrides or {})
    region = config.get("aws:region", "us-east-1")

    mocks = AwsMocks(region, stack=stack)
    monitor = RecordingMonitor(mocks, project, stack, region, config=config)
    settings.ROOT.set(None)
    pulumi.runtime.set_all_config(config)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    root = settings.get_root_resource()

    importable(project_dir)  # as the language host runs the program: its folder first on the import path
    program = str(project_dir / "__main__.py")
    _sync_await(_run_main(lambda: runpy.run_path(program, run_name="__main__")))
    exports: dict[str, Any] = getattr(root, "outputs", {})
    outputs = _sync_await(_resolve_outputs(exports))
    return ProgramRun(
        project=project, stack=stack, config=config, resources=monitor.records, outputs=outputs, preview=preview
    )


async def _run_main(main: Callable[[], object]) -> None:
    """Run the program and wait for its registrations, as ``run_pulumi_func`` does, or raise what it raised.

    When the program raises after registering resources, the SDK would wait for every pending output first;
    one that the rest of the program was to resolve (a ``pulumi.deferred_output``) never resolves, and the run
    would hang. So a failed program's pending work is cancelled, and forgotten by the SDK's output tracking
    (``set_mocks`` does not renew it) so that the next run does not wait on it, and its exception raised at once.
    """
    # Only the program's own work is cancelled: the loop may also be running someone else's (Playwright's, in tests).
    earlier = asyncio.all_tasks()
    try:
        main()
    except BaseException:
        # Cancelling a task can start others (an output's callbacks): repeat until none is left.
        while pending := [task for task in asyncio.all_tasks() - earlier if task is not asyncio.current_task()]:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        with settings.SETTINGS.lock:
            settings.SETTINGS.outputs.clear()
        raise
    await run_pulumi_func(lambda: None)


async def _resolve_outputs(outputs: dict[str, Any]) -> dict[str, Any]:
    """Resolve stack exports to plain values, the way ``pulumi stack output --json`` shows them."""
    resolved: dict[str, Any] = {}
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        resolved[key] = await output.future(with_unknowns=True)
    return resolved


# ---- any program -----------------------------------------------------------------------------------------

DEFAULT_REGION = "us-east-1"
SECRET_PLACEHOLDER = "offline-secret-placeholder"
"""What a ``secure:`` config value reads as offline (the stack's key cannot be decrypted here)."""
UNKNOWN_OUTPUT = "(known after the update)"
"""How a stack output the mocks cannot compute is shown (``pulumi preview`` shows ``output<string>``)."""


class ProgramError(Exception):
    """The folder is not a Pulumi Python program the offline engine can run; the message says why."""


def program_entry(program_dir: Path) -> tuple[str, Path]:
    """The project name and the folder holding ``__main__.py`` (``main:`` in ``Pulumi.yaml`` may move it).

    Raises
    ------
    ProgramError
        When there is no ``Pulumi.yaml``, the runtime is not Python, or there is no ``__main__.py``.
    """
    manifest = program_dir / "Pulumi.yaml"
    if not manifest.is_file():
        raise ProgramError(f"{program_dir}: no Pulumi.yaml (is this a Pulumi program folder?)")
    document = pulumi_files.load_yaml(manifest.read_text()) or {}
    runtime = document.get("runtime")
    runtime_name = runtime.get("name") if isinstance(runtime, dict) else runtime
    if runtime_name != "python":
        raise ProgramError(f"{manifest}: runtime is {runtime_name!r}; the offline engine runs Python programs only")
    main = program_dir / str(document.get("main") or ".")
    entry = main if main.is_dir() else main.parent
    if not (entry / "__main__.py").is_file():
        raise ProgramError(f"{entry}: no __main__.py")
    return str(document["name"]), entry


def pick_stack(program_dir: Path, stack: str | None) -> str:
    """The stack to run: the one asked for, else the program's only stack file, else ``dev``."""
    if stack:
        return stack
    stacks = sorted(path.name[len("Pulumi.") : -len(".yaml")] for path in program_dir.glob("Pulumi.*.yaml"))
    return stacks[0] if len(stacks) == 1 else "dev"


@contextlib.contextmanager
def _inside(program_dir: Path) -> Iterator[None]:
    """Run with the program's folder as working directory and first on the import path, then undo both."""
    previous_cwd = Path.cwd()
    before = set(sys.modules)
    sys.path.insert(0, str(program_dir))
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        with contextlib.suppress(ValueError):
            sys.path.remove(str(program_dir))
        # Forget the program's own modules, so another program with a module of the same name imports its own.
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(str(program_dir)):
                del sys.modules[name]


def run_program_dir(program_dir: Path, stack: str | None = None, *, first_preview: bool = False) -> ProgramRun:
    """Run any Pulumi Python program folder under mocks and record what the engine would receive.

    Parameters
    ----------
    program_dir:
        Folder with the program's own ``Pulumi.yaml``; a ``Pulumi.<stack>.yaml`` is optional.
    stack:
        Stack name (default: the program's only stack file, else ``dev``).
    first_preview:
        Record a first ``pulumi preview``: nothing exists yet, every computed output is unknown.
        Otherwise the run is what ``pulumi up`` sends: outputs the mocks model are known, the others unknown.

    Raises
    ------
    ProgramError
        When the folder is not a Python Pulumi program.
    Exception
        Whatever the program raised.
    """
    program_dir = Path(program_dir).resolve()
    project, entry = program_entry(program_dir)
    stack = pick_stack(program_dir, stack)
    if (program_dir / f"Pulumi.{stack}.yaml").is_file():
        config = load_stack_config(stack, program_dir, secret_placeholder=SECRET_PLACEHOLDER)
    else:
        config = pulumi_files.project_config_defaults(program_dir / "Pulumi.yaml")
    secret_keys = [key for key, value in config.items() if value == SECRET_PLACEHOLDER]
    region = config.setdefault("aws:region", DEFAULT_REGION)

    mocks = ProgramMocks(region, first_preview=first_preview)
    monitor = RecordingMonitor(mocks, project, stack, region, unknown_outputs=True, config=config)
    settings.ROOT.set(None)
    pulumi.runtime.set_all_config(config, secret_keys)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=first_preview, monitor=monitor)
    root = settings.get_root_resource()

    with _inside(entry):
        _sync_await(_run_main(lambda: runpy.run_path(str(entry / "__main__.py"), run_name="__main__")))
        outputs = _sync_await(_resolve_outputs(getattr(root, "outputs", {})))
    known = {key: UNKNOWN_OUTPUT if isinstance(value, Unknown) else value for key, value in outputs.items()}
    return ProgramRun(
        project=project, stack=stack, config=config, resources=monitor.records, outputs=known, preview=first_preview
    )
