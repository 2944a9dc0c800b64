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
import functools
import json
import os
import re
import runpy
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pulumi
from google.protobuf import json_format, struct_pb2
from pulumi.output import Unknown
from pulumi.runtime import rpc, settings
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.proto import provider_pb2, resource_pb2
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from offline import constructs
from offline.mocks import AwsMocks, ProgramMocks
from offline.paths import PROJECT_DIR
from offline.recording import (
    SIGNATURE_KEY,
    STACK_TYPE,
    ProgramRun,
    RecordedResource,
    SourceLocation,
    holds_signed_values,
)
from offline.stack_files import ProjectFiles, load_stack_config, project_files, project_name
from offline.stack_files import StackNotFoundError as StackNotFoundError  # raised by run_program, caught by callers
from offline.stack_traces import build_stack_traces_from_frames

DEFAULT_WATCHDOG_SECONDS = 120.0
"""How long a program may run offline before the watchdog stops it (ordinary programs take a few seconds)."""


class ProgramHangError(Exception):
    """The program did not finish in time; the message names what it was still waiting on."""


@functools.cache
def _provider_version() -> str:
    """The installed pulumi_aws version, looked up once, on the program's thread.

    The monitor's threads need it for every child of a modelled component, and may still register when the
    program's module has ended and ``runpy`` takes the program's folder off ``sys.path``: a metadata scan of
    ``sys.path`` at that moment skips an entry and did not find pulumi_aws now and then.
    """
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
        on_record: Callable[[RecordedResource], object] | None = None,
    ) -> None:
        super().__init__(mocks)
        _provider_version()  # looked up here, on the program's thread, before any registration needs it
        # Told of each resource as it is recorded (the offline plan streams them to the policy pack).
        self.on_record = on_record
        self.project = project
        self.stack = stack
        self.region = region
        self.config = config or {}
        # Computed outputs the mocks do not model resolve as unknown (as during a preview), never as None.
        self.unknown_outputs = unknown_outputs
        self.records: list[RecordedResource] = []
        # Remote component URN -> why its model registered no children (an input the package must know).
        self.unbuilt_components: dict[str, str] = {}
        self._default_providers: dict[str, str] = {}
        # Resource methods called (``pulumi:providers:aws/terraformConfig``): answered unknown (see Call).
        self.unknown_calls: list[str] = []
        # For the transforms the engine runs (resource_transform.py): the stack's, each resource's own, and parents.
        self._stack_transform_callbacks: list[Any] = []
        self._own_transforms: dict[str, list[Any]] = {}
        self._parents: dict[str, str] = {}

    def _record(self, record: RecordedResource) -> None:
        self.records.append(record)
        if self.on_record is not None:
            self.on_record(record)

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
            self._record(
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
        """Register through the mock monitor, then keep the request as the engine receives it.

        A remote component (``remote=True``: awsx, synced-folder, aws-apigateway…) is built by its
        provider plugin, which does not run here: it is recorded, its children are registered from the
        package's model in :mod:`offline.constructs` when there is one, and every output of it resolves as
        unknown (as for a create the engine could not report), so the program goes on.
        """
        request = self._transformed(request)
        if request.remote:
            response = resource_pb2.RegisterResourceResponse(
                urn=self.make_urn(request.parent, request.type, request.name), result=resource_pb2.Result.FAIL
            )
            state: dict[str, Any] = {}
        else:
            response = super().RegisterResource(_with_plain_references(request, "object"))
            if self.unknown_outputs and request.custom:
                response.unknown = True
                # An input given unknown (another stack's output, a remote component's) stays unknown as an output:
                # outside a preview the SDK would echo the input for a missing output, and read it as None.
                for key, value in request.object.fields.items():
                    if key not in response.object.fields and value.string_value == rpc.UNKNOWN:
                        response.object.fields[key].string_value = rpc.UNKNOWN
            state = self.resources[response.urn].state if request.type != STACK_TYPE else {}
        provider = request.provider
        if request.custom and not provider:
            provider = self._default_provider(request.type, request.version)
        inputs_struct = struct_pb2.Struct()
        inputs_struct.CopyFrom(request.object)
        self._record(
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
                        "create": timeout_seconds(request.customTimeouts.create),
                        "update": timeout_seconds(request.customTimeouts.update),
                        "delete": timeout_seconds(request.customTimeouts.delete),
                    },
                },
                inputs=rpc.deserialize_properties(_plain_references(request.object), keep_unknowns=True),
                inputs_struct=inputs_struct,
                id=str(response.id),
                outputs=dict(state),
                remote=bool(request.remote),
                source=user_frame(request.stackTrace),
            )
        )
        if request.remote:
            self._construct(request, response.urn)
        return response

    def RegisterStackTransform(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """Keep the stack transform's callback: the engine runs it on every later registration."""
        self._stack_transform_callbacks.append(request)
        return super().RegisterStackTransform(request)

    def _transformed(self, request: Any) -> Any:
        """``request`` after the transforms the engine runs before a registration, else ``request`` itself.

        As the engine: the resource's own ``transforms``, then each ancestor's, then the stack's
        (``register_resource_transform``), each one given what the previous returned. The mock monitor of the
        SDK runs none of them, so tags added by a stack transform were missing offline.
        """
        urn = self.make_urn(request.parent, request.type, request.name)
        self._parents[urn] = request.parent
        if request.transforms:
            self._own_transforms[urn] = list(request.transforms)
        chain = list(request.transforms)
        ancestor = request.parent
        while ancestor:
            chain += self._own_transforms.get(ancestor, [])
            ancestor = self._parents.get(ancestor, "")
        chain += self._stack_transform_callbacks
        if not chain:
            return request
        properties, options = request.object, transform_options(request)
        for callback in chain:
            asked = resource_pb2.TransformRequest(
                type=request.type,
                name=request.name,
                custom=request.custom,
                parent=request.parent,
                properties=properties,
                options=options,
            )
            answer = resource_pb2.TransformResponse.FromString(run_callback(callback.token, asked.SerializeToString()))
            properties = answer.properties
            if answer.HasField("options"):
                options = answer.options
        transformed = resource_pb2.RegisterResourceRequest()
        transformed.CopyFrom(request)
        transformed.object.Clear()
        transformed.object.CopyFrom(properties)
        with_transform_options(transformed, options)
        return transformed

    def _construct(self, request: Any, component_urn: str) -> None:
        """Register a remote component's children from its model, as its plugin's ``Construct`` would."""
        model = constructs.MODELS.get(request.type)
        if model is None:
            return
        inputs = json_format.MessageToDict(_plain_references(request.object))
        context = constructs.ConstructContext(
            name=request.name,
            program_dir=Path.cwd(),
            region=self.region,
            stack=self.stack,
            resource_output=self._resource_output,
        )
        try:
            children = model.build(inputs, context)
        except ValueError as error:
            # The package would refuse these inputs, or cannot plan its children while one is unknown: the
            # component is named under "Not checked offline" with why, and the program goes on.
            self.unbuilt_components[component_urn] = str(error)
            return
        except Exception as error:  # a fault of the model on inputs nobody tried: the program still goes on
            self.unbuilt_components[component_urn] = f"the model failed: {type(error).__name__}: {error}"
            return
        urns: dict[str, str] = {}  # by key (else name), and by "type::name" for a Ref that names the type
        for child in children:
            resolved: dict[str, Any] = {}
            # Per input, the children its value comes from: the engine's propertyDependencies.
            referred: dict[str, list[str]] = {}
            for input_name, value in child.inputs.items():
                referred[input_name] = []
                resolved[input_name] = self._resolve_refs(value, urns, referred[input_name])
            struct = struct_pb2.Struct()
            struct.update(resolved)
            dependencies = [*(urns[name] for name in child.depends_on), *(u for us in referred.values() for u in us)]
            child_request = resource_pb2.RegisterResourceRequest(
                type=child.type,
                name=child.name,
                parent=urns[child.parent] if child.parent else component_urn,
                custom=child.custom,
                object=struct,
                dependencies=list(dict.fromkeys(dependencies)),
                provider=request.providers.get(child.type.split(":", 1)[0], ""),
                version=request.version if child.type.split(":", 1)[0] == request.type.split(":", 1)[0] else "",
            )
            for input_name, input_urns in referred.items():
                if input_urns:
                    child_request.propertyDependencies[input_name].urns.extend(dict.fromkeys(input_urns))
            # The children point at the program line that created the component.
            child_request.stackTrace.CopyFrom(request.stackTrace)
            urn = self.RegisterResource(child_request).urn
            urns[child.key or child.name] = urns[f"{child.type}::{child.name}"] = urn

    def _resource_output(self, reference: Any, output: str) -> Any:
        """The output ``output`` of the registered resource whose id or URN is ``reference``, or unknown."""
        if isinstance(reference, str) and reference and reference != constructs.UNKNOWN:
            for registration in self.resources.values():
                if reference in (registration.urn, registration.id):
                    value = registration.id if output == "id" else registration.state.get(output)
                    return value if value not in (None, "") else constructs.UNKNOWN
        return constructs.UNKNOWN

    def _resolve_refs(self, value: Any, urns: dict[str, str], referred: list[str]) -> Any:
        """``value`` with each :class:`~offline.constructs.Ref` as that child's output, or unknown; notes the URNs."""
        if isinstance(value, constructs.JsonText):
            document = self._resolve_refs(value.value, urns, referred)
            return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        if isinstance(value, constructs.Ref):
            urn = urns[f"{value.type}::{value.child}" if value.type else value.child]
            referred.append(urn)
            registration = self.resources[urn]
            known = registration.id if value.output == "id" else registration.state.get(value.output)
            if known in (None, ""):
                return constructs.UNKNOWN
            return f"{known}{value.suffix}" if value.suffix else known
        if isinstance(value, dict):
            return {key: self._resolve_refs(item, urns, referred) for key, item in value.items()}
        if isinstance(value, list | tuple):
            return [self._resolve_refs(item, urns, referred) for item in value]
        if isinstance(value, constructs.Derived):
            known = self._resolve_refs(value.ref, urns, referred)
            return constructs.UNKNOWN if known == constructs.UNKNOWN else value.apply(known)
        return value

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """``Resource.get``: the resource keeps the id asked for; what the cloud would return is unknown here."""
        urn = self.make_urn(request.parent, request.type, request.name)
        state = {**rpc.deserialize_properties(_plain_references(request.properties)), "id": request.id}
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, request.id, state)
        properties = struct_pb2.Struct()
        properties.update(_plain_value(json_format.MessageToDict(_plain_references(request.properties))))
        return resource_pb2.ReadResourceResponse(urn=urn, id=request.id, properties=properties, unknown=True)

    def Call(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """A resource's method (``cluster.get_kubeconfig()``, ``provider.terraform_config()``): its result is unknown.

        The engine hands a method call to the provider plugin of the resource's package, which does not run
        offline (the SDK's mock monitor has no ``Call``, and the program stopped on an AttributeError). As for a
        remote component's outputs, the result resolves as unknown, and the method is named under the plan.
        """
        self.unknown_calls.append(request.tok)
        result = struct_pb2.Struct()
        result.update({"result": rpc.UNKNOWN})
        return provider_pb2.CallResponse(**{"return": result})

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """An invoke, with resource references passed as ids.

        ``get_resource`` of a URN the program did not register is answered as a resource whose id and
        outputs are unknown.
        """
        if request.tok == "pulumi:pulumi:getResource":
            urn = str(rpc.deserialize_properties(request.args).get("urn", ""))
            if urn not in self.resources:
                answer = struct_pb2.Struct()
                answer.update({"urn": urn, "id": "", "state": {}})
                return resource_pb2.ResourceInvokeResponse(**{"return": answer})
        return super().Invoke(_with_plain_references(request, "args"))


_GO_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,
    "\u03bcs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def timeout_seconds(timeout: str) -> float:
    """A ``custom_timeouts`` value (``"10m"``, ``"1h30m"``) in seconds, as the engine forwards it to a policy pack.

    The engine parses it with Go's ``time.ParseDuration`` and fails the registration on anything else
    (``unable to parse customTimeout Value``); ``""`` (not set) is 0.

    Raises
    ------
    ValueError
        When ``timeout`` is not a Go duration.
    """
    if not timeout:
        return 0.0
    sign, text = (-1.0, timeout[1:]) if timeout[:1] == "-" else (1.0, timeout.removeprefix("+"))
    if text == "0":
        return 0.0
    parts = _GO_DURATION_PART.findall(text)
    if not text or "".join(number + unit for number, unit in parts) != text:
        raise ValueError(f"unable to parse customTimeout Value {timeout}")
    return sign * sum(float(number) * _GO_DURATION_UNITS[unit] for number, unit in parts)


def transform_options(request: Any) -> Any:
    """The options of a registration as the engine hands them to a transform (``TransformResourceOptions``)."""
    options = resource_pb2.TransformResourceOptions(
        depends_on=list(request.dependencies),
        ignore_changes=list(request.ignoreChanges),
        replace_on_changes=list(request.replaceOnChanges),
        version=request.version,
        aliases=list(request.aliases),
        provider=request.provider,
        plugin_download_url=request.pluginDownloadURL,
        deleted_with=request.deletedWith,
        additional_secret_outputs=list(request.additionalSecretOutputs),
        providers=dict(request.providers),
        plugin_checksums=dict(request.pluginChecksums),
        **{"import": request.importId},
    )
    if request.HasField("protect"):
        options.protect = request.protect
    if request.HasField("retainOnDelete"):
        options.retain_on_delete = request.retainOnDelete
    if request.deleteBeforeReplaceDefined:
        options.delete_before_replace = request.deleteBeforeReplace
    if request.HasField("customTimeouts"):
        options.custom_timeouts.CopyFrom(request.customTimeouts)
    return options


def with_transform_options(request: Any, options: Any) -> None:
    """Set on ``request`` the options a transform returned (what the engine registers then)."""
    # The engine keeps the dependencies it had and adds what the transform made depend_on (the SDK does not pass
    # a property's dependencies through a transform).
    request.dependencies[:] = list(dict.fromkeys([*request.dependencies, *options.depends_on]))
    request.ignoreChanges[:] = list(options.ignore_changes)
    request.replaceOnChanges[:] = list(options.replace_on_changes)
    request.version = options.version
    request.provider = options.provider
    request.pluginDownloadURL = options.plugin_download_url
    request.deletedWith = options.deleted_with
    request.additionalSecretOutputs[:] = list(options.additional_secret_outputs)
    request.importId = getattr(options, "import")
    del request.aliases[:]
    request.aliases.extend(options.aliases)
    request.providers.clear()
    request.providers.update(dict(options.providers))
    request.ClearField("protect")
    if options.HasField("protect"):
        request.protect = options.protect
    request.ClearField("retainOnDelete")
    if options.HasField("retain_on_delete"):
        request.retainOnDelete = options.retain_on_delete
    request.deleteBeforeReplaceDefined = options.HasField("delete_before_replace")
    request.deleteBeforeReplace = options.delete_before_replace
    request.ClearField("customTimeouts")
    if options.HasField("custom_timeouts"):
        request.customTimeouts.CopyFrom(options.custom_timeouts)


def run_callback(token: str, request: bytes) -> bytes:
    """Call the program's callback ``token`` (a transform) on the program's loop, as the engine does over gRPC.

    The monitor runs on a worker thread while the program's loop waits for it, free to run the callback.

    Raises
    ------
    RuntimeError
        When no callback server of the program knows ``token`` (the engine fails the registration then).
    """
    from pulumi.runtime._callbacks import _CallbackServicer

    for servicer in list(_CallbackServicer._servicers):
        callback = servicer._callbacks.get(token)
        if callback is not None:

            async def call(function: Callable[[bytes], Awaitable[Any]] = callback) -> Any:
                return await function(request)

            answer: Any = asyncio.run_coroutine_threadsafe(call(), servicer._loop).result()
            return bytes(answer.SerializeToString())
    raise RuntimeError(f"Callback with token {token} not found!")


_RESOURCE_SIGNATURE = "5cf8f73096256a8f31e491e813e4eb8e"
_SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270"


def _plain_value(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain_value(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get(SIGNATURE_KEY) == _RESOURCE_SIGNATURE:
        # What a provider receives for a resource argument: the resource's id, or a component's URN.
        return value.get("id") or value.get("urn", "")
    if value.get(SIGNATURE_KEY) == _SECRET_SIGNATURE and value.get("value") == rpc.UNKNOWN:
        # A secret not known yet (a random password) is unknown; the SDK would deserialize it as None.
        return rpc.UNKNOWN
    return {key: _plain_value(item) for key, item in value.items()}


def _plain_references(source: struct_pb2.Struct) -> struct_pb2.Struct:
    """``source`` with resource references as ids (custom) or URNs (component), unknown secrets as unknown.

    The mock monitor deserializes on a worker thread with a loop of its own; a resource reference would be
    rehydrated there (``get_resource``) and the program's loop would wait on a task of that other loop.
    ``source`` itself when it holds no signed value.
    """
    if not holds_signed_values(source):
        return source
    plain = struct_pb2.Struct()
    plain.update(_plain_value(json_format.MessageToDict(source)))
    return plain


def _with_plain_references(request: Any, field: str) -> Any:
    """``request``, or a copy of it whose struct ``field`` holds no resource references."""
    plain = _plain_references(getattr(request, field))
    if plain is getattr(request, field):
        return request
    copy = type(request)()
    copy.CopyFrom(request)
    getattr(copy, field).CopyFrom(plain)
    return copy


_LIBRARY_MARKERS = ("site-packages", "dist-packages", f"{os.sep}lib{os.sep}python")
_OFFLINE_DIR = str(Path(__file__).parent)


def user_frame(stack_trace: Any) -> SourceLocation | None:
    """The program's own file and line that created a resource, from the ``stackTrace`` of its registration.

    The SDK sends the frames below the resource constructor, innermost first; the first one outside the
    SDK, installed packages and the standard library is the line a reviewer should see.
    """
    for frame in stack_trace.frames:
        uri = frame.pc.uri
        if not uri or not frame.pc.line:
            continue
        path = unquote(urlparse(uri).path)
        if any(marker in path for marker in _LIBRARY_MARKERS) or path.startswith(_OFFLINE_DIR):
            continue
        if path.startswith("<"):
            continue
        return SourceLocation(path, int(frame.pc.line))
    return None


def run_program(
    stack: str = "dev",
    *,
    project_dir: Path = PROJECT_DIR,
    config_overrides: dict[str, str] | None = None,
    preview: bool = False,
    files: ProjectFiles | None = None,
    deadline_seconds: float = DEFAULT_WATCHDOG_SECONDS,
    on_record: Callable[[RecordedResource], object] | None = None,
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
    files:
        Reader of the Pulumi files (default: this project's, :func:`project_files`).
    deadline_seconds:
        Stop a program still waiting after this long, its exports included (the project's program takes
        a few seconds), so a hang fails the caller instead of blocking it.
    on_record:
        Called with each resource as it is recorded, in registration order (the engine's moment to
        ``Analyze`` it).

    Returns
    -------
    ProgramRun
        The recorded resources in registration order (the stack first) and the stack outputs.

    Raises
    ------
    StackNotFoundError
        When there is no stack file for ``stack``.
    ProgramHangError
        When the program or one of its exports is still waiting after ``deadline_seconds``; the message
        names what it waits on.
    Exception
        Whatever the program raised (a bad config value raises ``pulumi.RunError`` naming the key).
    """
    files = files or project_files()
    project = project_name(project_dir, files)
    config = load_stack_config(stack, project_dir, files=files)
    config.update(config_overrides or {})
    region = config.get("aws:region", "us-east-1")

    mocks = AwsMocks(region, stack=stack)
    monitor = RecordingMonitor(mocks, project, stack, region, config=config, on_record=on_record)
    settings.ROOT.set(None)
    build_stack_traces_from_frames()
    pulumi.runtime.set_all_config(config)
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=preview, monitor=monitor)
    root = settings.get_root_resource()

    # A folder runs as the language host runs it: runpy puts it first on the import path for the run.
    _sync_await(_run_main(lambda: runpy.run_path(str(project_dir), run_name="__main__"), deadline_seconds))
    exports: dict[str, Any] = getattr(root, "outputs", {})
    outputs = _sync_await(_resolve_outputs(exports, deadline_seconds))
    return ProgramRun(
        project=project,
        stack=stack,
        config=config,
        resources=monitor.records,
        outputs=outputs,
        preview=preview,
        unbuilt_components=monitor.unbuilt_components,
    )


async def _run_main(main: Callable[[], object], deadline_seconds: float | None = None) -> None:
    """Run the program and wait for its registrations, as ``run_pulumi_func`` does, or raise what it raised.

    When the program raises after registering resources, the SDK would wait for every pending output first;
    one that the rest of the program was to resolve (a ``pulumi.deferred_output``) never resolves, and the run
    would hang. So a failed program's pending work is cancelled, and forgotten by the SDK's output tracking
    (``set_mocks`` does not renew it) so that the next run does not wait on it, and its exception raised at once.
    With ``deadline_seconds``, a program still waiting then is stopped the same way, with a
    :class:`ProgramHangError` naming what it waits on.
    """
    # Only the program's own work is cancelled: the loop may also be running someone else's (Playwright's, in tests).
    earlier = asyncio.all_tasks()
    loop = asyncio.get_running_loop()
    started = loop.time()
    try:
        main()
        finished = asyncio.ensure_future(run_pulumi_func(lambda: None))
        remaining = None if deadline_seconds is None else max(0.0, deadline_seconds - (loop.time() - started))
        done, _ = await asyncio.wait({finished}, timeout=remaining)
        if not done:
            waits = describe_waits(asyncio.all_tasks() - earlier - {finished, asyncio.current_task()})
            waits = await _unresolved_exports() + waits
            raise ProgramHangError(hang_message(deadline_seconds or 0.0, waits))
        finished.result()
    except BaseException:
        # Cancelling a task can start others (an output's callbacks): repeat until none is left.
        while pending := [task for task in asyncio.all_tasks() - earlier if task is not asyncio.current_task()]:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        with settings.SETTINGS.lock:
            settings.SETTINGS.outputs.clear()
        raise


async def _unresolved_exports() -> list[str]:
    """The stack exports still unresolved (the stack waits for them before it finishes)."""
    exports: dict[str, Any] = getattr(settings.get_root_resource(), "outputs", None) or {}
    checks = {key: asyncio.ensure_future(pulumi.Output.from_input(value).future()) for key, value in exports.items()}
    if not checks:
        return []
    await asyncio.wait(checks.values(), timeout=0.05)
    for check in checks.values():
        check.cancel()
    await asyncio.gather(*checks.values(), return_exceptions=True)
    return [f"stack output {key!r}" for key, check in checks.items() if check.cancelled()]


def hang_message(seconds: float, waits: list[str]) -> str:
    """What the watchdog says when a program has not finished in time."""
    listed = "\n".join(f"  - {wait}" for wait in waits) or "  - (nothing the SDK tracks: a blocking call)"
    return f"the program did not finish within {seconds:g} s; it was waiting on:\n{listed}"


_WAIT_KINDS = {
    "do_register": "registration of {ty} {name!r}: its inputs never resolved",
    "do_read": "read of {ty} {name!r}: its inputs never resolved",
    "do_get": "get_resource of {urn}",
    "do_invoke": "invoke {tok}",
}


def describe_waits(tasks: set[asyncio.Task[Any]]) -> list[str]:
    """What each pending task of a program waits on, counted.

    The registration or invoke a task belongs to, else the program's own line that awaits (an output or
    future nobody resolves).
    """
    waits: Counter[str] = Counter()
    for task in tasks:
        if not task.done():
            waits[_describe_wait(task)] += 1
    return [f"{wait}" + (f" (x{count})" if count > 1 else "") for wait, count in sorted(waits.items())]


def _describe_wait(task: asyncio.Task[Any]) -> str:
    awaited: Any = task.get_coro()
    where = ""
    while awaited is not None and hasattr(awaited, "cr_frame"):
        frame = awaited.cr_frame
        if frame is not None:
            template = _WAIT_KINDS.get(frame.f_code.co_name)
            if template is not None:
                names = {key: frame.f_locals.get(key, "?") for key in ("ty", "name", "urn", "tok")}
                return template.format(**names)
            path = frame.f_code.co_filename
            if not where and not any(marker in path for marker in _LIBRARY_MARKERS):
                where = f" at {path}:{frame.f_lineno}"
        awaited = awaited.cr_await
    if isinstance(awaited, asyncio.Future) and not isinstance(awaited, asyncio.Task):
        return f"a future or output nobody resolves{where}"
    return f"{getattr(task.get_coro(), '__qualname__', task.get_name())}{where}"


async def _export_value(output: pulumi.Output[Any]) -> Any:
    return await _without_resources(await output.future(with_unknowns=True))


async def _without_resources(value: Any) -> Any:
    """``value`` with each resource in it as the CLI shows an exported resource: its URN, and its id if custom."""
    if isinstance(value, pulumi.Resource):
        shown = {"urn": await value.urn.future(with_unknowns=True)}
        if isinstance(value, pulumi.CustomResource):
            shown["id"] = await value.id.future(with_unknowns=True)
        return shown
    if isinstance(value, dict):
        return {key: await _without_resources(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [await _without_resources(item) for item in value]
    return value


async def _resolve_outputs(outputs: dict[str, Any], deadline_seconds: float | None = None) -> dict[str, Any]:
    """Resolve stack exports to plain values, the way ``pulumi stack output --json`` shows them.

    Raises
    ------
    ProgramHangError
        When an export is still unresolved after ``deadline_seconds`` (the message names it).
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    resolved: dict[str, Any] = {}
    for key, value in outputs.items():
        output = pulumi.Output.from_input(value)
        remaining = None if deadline_seconds is None else max(0.0, deadline_seconds - (loop.time() - started))
        try:
            resolved[key] = await asyncio.wait_for(_export_value(output), remaining)
        except TimeoutError:
            raise ProgramHangError(hang_message(deadline_seconds or 0.0, [f"stack output {key!r}"])) from None
    return resolved


# ---- any program -----------------------------------------------------------------------------------------

DEFAULT_REGION = "us-east-1"
DEFAULT_ORGANIZATION = "organization"
"""``pulumi.get_organization()`` offline: what the CLI gives a program on a self-managed backend (the SDK's default)."""
SECRET_PLACEHOLDER = "offline-secret-placeholder"
"""What a ``secure:`` config value reads as offline (the stack's key cannot be decrypted here)."""
UNKNOWN_OUTPUT = "(known after the update)"
"""How a stack output the mocks cannot compute is shown (``pulumi preview`` shows ``output<string>``)."""


class ProgramError(Exception):
    """The folder is not a Pulumi Python program the offline engine can run; the message says why."""


def program_entry(program_dir: Path, files: ProjectFiles) -> tuple[str, Path]:
    """The project name and the folder holding ``__main__.py`` (``main:`` in ``Pulumi.yaml`` may move it).

    Raises
    ------
    ProgramError
        When there is no ``Pulumi.yaml``, the runtime is not Python, or there is no ``__main__.py``.
    """
    manifest = program_dir / "Pulumi.yaml"
    if not manifest.is_file():
        raise ProgramError(f"{program_dir}: no Pulumi.yaml (is this a Pulumi program folder?)")
    document = files.load_yaml(manifest.read_text()) or {}
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
    """Run with the program's folder as working directory, then go back and forget the program's modules."""
    previous_cwd = Path.cwd()
    before = set(sys.modules)
    os.chdir(program_dir)
    try:
        yield
    finally:
        os.chdir(previous_cwd)
        # Forget the program's own modules, so another program with a module of the same name imports its own.
        for name in set(sys.modules) - before:
            origin = getattr(sys.modules[name], "__file__", None) or ""
            if origin.startswith(str(program_dir)):
                del sys.modules[name]


def _known(value: Any) -> Any:
    """An export as shown: each unknown in it, however deep, as :data:`UNKNOWN_OUTPUT`."""
    if isinstance(value, Unknown):
        return UNKNOWN_OUTPUT
    if isinstance(value, dict):
        return {key: _known(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_known(item) for item in value]
    return value


def run_program_dir(
    program_dir: Path,
    stack: str | None = None,
    *,
    files: ProjectFiles,
    first_preview: bool = False,
    watchdog_seconds: float | None = DEFAULT_WATCHDOG_SECONDS,
) -> ProgramRun:
    """Run any Pulumi Python program folder under mocks and record what the engine would receive.

    Parameters
    ----------
    program_dir:
        Folder with the program's own ``Pulumi.yaml``; a ``Pulumi.<stack>.yaml`` is optional.
    stack:
        Stack name (default: the program's only stack file, else ``dev``).
    files:
        Reader of the Pulumi files (``Pulumi.yaml``, ``Pulumi.<stack>.yaml``), as the CLI reads them.
    first_preview:
        Record a first ``pulumi preview``: nothing exists yet, every computed output is unknown.
        Otherwise the run is what ``pulumi up`` sends: outputs the mocks model are known, the others unknown.
    watchdog_seconds:
        Stop a program still waiting after this long (``None``: wait for ever).

    Raises
    ------
    ProgramError
        When the folder is not a Python Pulumi program.
    ProgramHangError
        When the program is still waiting after ``watchdog_seconds``; the message names what it waits on.
    Exception
        Whatever the program raised.
    """
    program_dir = Path(program_dir).resolve()
    project, entry = program_entry(program_dir, files)
    stack = pick_stack(program_dir, stack)
    if (program_dir / f"Pulumi.{stack}.yaml").is_file():
        config = load_stack_config(stack, program_dir, secret_placeholder=SECRET_PLACEHOLDER, files=files)
    else:
        config = files.project_config_defaults(program_dir / "Pulumi.yaml")
    secret_keys = [key for key, value in config.items() if value == SECRET_PLACEHOLDER]
    region = config.setdefault("aws:region", DEFAULT_REGION)

    mocks = ProgramMocks(region, first_preview=first_preview)
    monitor = RecordingMonitor(mocks, project, stack, region, unknown_outputs=True, config=config)
    settings.ROOT.set(None)
    build_stack_traces_from_frames()
    pulumi.runtime.set_all_config(config, secret_keys)
    pulumi.runtime.set_mocks(
        mocks, project=project, stack=stack, preview=first_preview, monitor=monitor, organization=DEFAULT_ORGANIZATION
    )
    root = settings.get_root_resource()

    with _inside(entry):
        # As the language host runs a program folder: runpy puts it first on the import path for the run.
        _sync_await(_run_main(lambda: runpy.run_path(str(entry), run_name="__main__"), watchdog_seconds))
        outputs = _sync_await(_resolve_outputs(getattr(root, "outputs", {}), watchdog_seconds))
    known = {key: _known(value) for key, value in outputs.items()}
    return ProgramRun(
        project=project,
        stack=stack,
        config=config,
        resources=monitor.records,
        outputs=known,
        preview=first_preview,
        generic_invokes=sorted(set(mocks.generic_invokes)),
        unknown_calls=sorted(set(monitor.unknown_calls)),
        unbuilt_components=monitor.unbuilt_components,
    )
