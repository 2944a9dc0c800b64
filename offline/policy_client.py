"""Drive a CrossGuard policy pack over the Analyzer gRPC protocol exactly as the Pulumi engine does.

The pack is launched the way the engine launches Python packs (``python -u -m pulumi.policy
<engine-address> .`` in the pack folder, with ``PULUMI_PROJECT``, ``PULUMI_STACK``, ``PULUMI_DRY_RUN``,
``PULUMI_CONFIG`` and ``PULUMI_ORGANIZATION`` set), its port is read from the first line it prints, and
the calls follow the engine's order: ``Handshake`` (packs may not implement it), ``ConfigureStack``,
``GetAnalyzerInfo``, ``Configure`` with the reconciled policy config, then ``Remediate`` and
``Analyze`` for every resource in registration order (the stack, components and providers too), then
one ``AnalyzeStack``. :class:`AnalyzeStream` sends ``Remediate`` and ``Analyze`` while the program still
registers resources, as the engine does during a preview.

What the engine does and this module copies (pulumi ``pkg/resource/deploy/step_generator.go``,
``sdk/go/common/resource/plugin/analyzer_plugin.go``, ``pkg/resource/analyzer/config.go``):

- a remediation's properties *replace* the resource's inputs before ``Analyze`` (and before the next
  remediation); a remediation diagnostic is an advisory violation;
- ``Analyze`` and ``AnalyzeStack`` get properties without internal (``__``) keys; resource references
  become the referenced resource's id (custom) or URN (component);
- ``AnalyzeStack`` gets each resource's outputs (the mocks' state, with remediated inputs applied),
  parent, dependencies and property dependencies; its diagnostics without a URN of the stack are
  attributed to the stack resource;
- a ``remediate`` level that still fires is reported as ``mandatory``;
- the policy config is schema defaults, then the pack's initial config, then the config file (its
  ``all`` key sets every level), validated against each policy's schema before ``Configure``.
"""

from __future__ import annotations

import contextlib
import json
import pickle
import queue
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Final

import grpc
import yaml
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from offline.pack_process import STARTUP_TIMEOUT_SECONDS, PolicyPackError, PolicyPackProcess, launch_pack
from offline.paths import POLICY_DIR, PROJECT_DIR, import_package
from offline.recording import SIGNATURE_KEY, STACK_TYPE, ProgramRun, RecordedResource, holds_signed_values

PACK_DIR: Final = POLICY_DIR

# Wire signatures (pulumi/sdk/go/common/resource/properties.go).
_ASSET_SIG: Final = "c44067f5952c0a294b673a41bacd8c17"
_ARCHIVE_SIG: Final = "0def7320c3a5731c473e5ecbe6d01bc7"
_RESOURCE_SIG: Final = "5cf8f73096256a8f31e491e813e4eb8e"
_OUTPUT_SIG: Final = "d0e6a833031e9bbcd3f4e8bde6ca49a4"
_SECRET_SIG: Final = "1b47061264138c4ac30d75fd1eb44270"
_UNKNOWN: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"

_LEVELS: Final = {
    analyzer_pb2.ADVISORY: "advisory",
    analyzer_pb2.MANDATORY: "mandatory",
    analyzer_pb2.REMEDIATE: "remediate",
    analyzer_pb2.DISABLED: "disabled",
}
_LEVEL_CODES: Final = {name: code for code, name in _LEVELS.items()}
_SEVERITIES: Final = {
    analyzer_pb2.POLICY_SEVERITY_UNSPECIFIED: "",
    analyzer_pb2.POLICY_SEVERITY_LOW: "low",
    analyzer_pb2.POLICY_SEVERITY_MEDIUM: "medium",
    analyzer_pb2.POLICY_SEVERITY_HIGH: "high",
    analyzer_pb2.POLICY_SEVERITY_CRITICAL: "critical",
}

NOTE_POLICIES: Final = frozenset({"pack-notes", "pack-notes-stack"})
"""Policies of the serverless-well-architected pack that carry other rules' advisory notes."""


class PolicyConfigError(ValueError):
    """The policy config (file or mapping) is malformed; the message names the policy and key."""


@dataclass(frozen=True)
class PolicyViolation:
    """One diagnostic, as the engine reports it."""

    policy_name: str
    pack_name: str
    pack_version: str
    enforcement_level: str
    """``advisory`` or ``mandatory`` (a ``remediate`` policy that still fires is ``mandatory``)."""
    severity: str
    description: str
    message: str
    """The policy description, a newline, then what the rule found (the SDK's format)."""
    urn: str
    stage: str
    """``remediate``, ``analyze`` or ``analyze-stack``: which call reported it."""

    @property
    def detail(self) -> str:
        """The message without the policy description in front."""
        prefix = self.description + "\n"
        return self.message[len(prefix) :] if self.message.startswith(prefix) else self.message

    @property
    def rule(self) -> str:
        """The rule the violation is about: the policy, or for a pack's notes the rule the note names.

        Notes (waived findings, checks that cannot be decided yet) are reported by one advisory policy and
        start with ``<rule>: ``; a note of the SDK itself names the policy in quotes.
        """
        if self.policy_name in NOTE_POLICIES:
            head = self.detail.split(":", 1)[0].strip()
            if head and " " not in head:
                return head
        return self.policy_name

    @property
    def resource_type(self) -> str:
        """The URN's resource type (the last one of its type chain)."""
        return _urn_type(self.urn)

    @property
    def resource_name(self) -> str:
        """The URN's resource name."""
        return self.urn.rsplit("::", 1)[-1]


@dataclass(frozen=True)
class PropertyChange:
    """One top-level input a remediation changed: its value before and after (``None``: absent)."""

    key: str
    old: Any
    new: Any


@dataclass(frozen=True)
class AppliedRemediation:
    """A remediation the engine would apply before creating the resource."""

    policy_name: str
    pack_name: str
    pack_version: str
    urn: str
    changed_keys: tuple[str, ...]
    changes: tuple[PropertyChange, ...] = ()


@dataclass(frozen=True)
class PolicyDescription:
    """A policy as the pack describes it in ``GetAnalyzerInfo``."""

    name: str
    description: str
    enforcement_level: str
    severity: str
    tags: tuple[str, ...]
    """The pack's tags; this project's pack puts the service first, then the public rule ids it covers."""
    remediation_steps: str = ""
    url: str = ""


@dataclass(frozen=True)
class IdleCost:
    """The stack's zero-traffic monthly bill, from the pack's own price table."""

    total_usd: float
    lines: tuple[str, ...]
    unpriced: int


@dataclass
class PolicyReport:
    """Everything one run of the pack over a program produced."""

    pack_name: str
    pack_version: str
    pack_path: str
    stack: str
    violations: list[PolicyViolation] = field(default_factory=list)
    remediations: list[AppliedRemediation] = field(default_factory=list)
    resources_analyzed: int = 0
    idle_cost: IdleCost | None = None
    final_inputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    """URN → the inputs ``Analyze`` saw (after remediations), as plain values."""
    policies: dict[str, PolicyDescription] = field(default_factory=dict)
    """Policy name → what the pack says of it (for rule metadata in reports)."""

    @property
    def mandatory(self) -> list[PolicyViolation]:
        """Violations that fail ``pulumi up``."""
        return [v for v in self.violations if v.enforcement_level == "mandatory"]

    @property
    def advisory(self) -> list[PolicyViolation]:
        """Violations that only warn."""
        return [v for v in self.violations if v.enforcement_level == "advisory"]

    @property
    def has_mandatory_violations(self) -> bool:
        """Whether the engine would fail the update."""
        return bool(self.mandatory)

    def of_policy(self, name: str) -> list[PolicyViolation]:
        """The violations one policy reported."""
        return [v for v in self.violations if v.policy_name == name]


# ---- config -----------------------------------------------------------------------------------------


def load_policy_config(source: Path | str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Read a ``--policy-pack-config`` file (or take a mapping) as ``{policy: level | {level, props}}``.

    Raises
    ------
    PolicyConfigError
        When the file is missing, is not a JSON object, or a value is neither a level nor an object.
    """
    if source is None:
        return {}
    if isinstance(source, Mapping):
        document: Any = dict(source)
    else:
        path = Path(source)
        try:
            document = json.loads(path.read_text())
        except FileNotFoundError as error:
            raise PolicyConfigError(f"policy config {path} not found") from error
        except json.JSONDecodeError as error:
            raise PolicyConfigError(f"policy config {path} is not valid JSON: {error}") from error
    if not isinstance(document, dict):
        raise PolicyConfigError("policy config must be a JSON object keyed by policy name")
    for name, value in document.items():
        if isinstance(value, str):
            if value not in _LEVEL_CODES:
                raise PolicyConfigError(f"{name}: {value!r} is not an enforcement level ({', '.join(_LEVEL_CODES)})")
        elif isinstance(value, dict):
            level = value.get("enforcementLevel")
            if level is not None and level not in _LEVEL_CODES:
                raise PolicyConfigError(f"{name}.enforcementLevel: {level!r} is not an enforcement level")
        else:
            raise PolicyConfigError(f"{name}: must be an enforcement level or an object, not {type(value).__name__}")
    return document


def reconcile_policy_config(info: analyzer_pb2.AnalyzerInfo, given: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The config the engine sends in ``Configure``: defaults, initial config, then ``given``.

    Returns
    -------
    dict[str, dict[str, Any]]
        Policy name → ``{"enforcementLevel": str, "properties": dict}`` for every policy.

    Raises
    ------
    PolicyConfigError
        When ``given`` names a policy the pack does not have, or a value breaks a policy's schema.
    """
    schemas: dict[str, dict[str, Any]] = {}
    result: dict[str, dict[str, Any]] = {}
    for policy in info.policies:
        schema = json_format.MessageToDict(policy.configSchema.properties) if policy.HasField("configSchema") else {}
        required = list(policy.configSchema.required) if policy.HasField("configSchema") else []
        schemas[policy.name] = {"type": "object", "properties": schema, **({"required": required} if required else {})}
        defaults = {key: prop["default"] for key, prop in schema.items() if "default" in prop}
        result[policy.name] = {"enforcementLevel": _LEVELS[policy.enforcementLevel], "properties": defaults}

    def apply(config: Mapping[str, Any]) -> None:
        everyone = config.get("all")
        everyone_level = everyone if isinstance(everyone, str) else None
        if isinstance(everyone, Mapping):
            everyone_level = everyone.get("enforcementLevel")
        if everyone_level:
            for entry in result.values():
                entry["enforcementLevel"] = everyone_level
        for name, value in config.items():
            if name == "all":
                continue
            if name not in result:
                raise PolicyConfigError(f"{name}: the pack has no policy of that name")
            if isinstance(value, str):
                result[name]["enforcementLevel"] = value
                continue
            properties = dict(value)
            level = properties.pop("enforcementLevel", None)
            if level:
                result[name]["enforcementLevel"] = level
            result[name]["properties"].update(properties)

    initial = {
        name: {
            **json_format.MessageToDict(entry.properties),
            "enforcementLevel": _LEVELS[entry.enforcementLevel],
        }
        for name, entry in info.initialConfig.items()
    }
    apply(initial)
    apply(given)
    import jsonschema  # here: the offline plan validates in offline.analyze_worker, not in the program's process

    for name, entry in result.items():
        try:
            # The engine checks values, not the pack's schemas: no meta-schema check (jsonschema.validate's
            # cost, 76 times over) here.
            validator = jsonschema.validators.validator_for(schemas[name])(schemas[name])
            error = jsonschema.exceptions.best_match(validator.iter_errors(entry["properties"]))
            if error is not None:
                raise error
        except jsonschema.ValidationError as error:
            where = ".".join(str(part) for part in error.absolute_path) or "(config)"
            raise PolicyConfigError(f"{name}.{where}: {error.message}") from error
    return result


# ---- wire conversions -----------------------------------------------------------------------------


def _engine_value(value: Any, ids: Mapping[str, str]) -> Any:
    """A wire value as the engine forwards it to analyzers: resource references and outputs resolved."""
    if isinstance(value, list):
        return [_engine_value(item, ids) for item in value]
    if not isinstance(value, dict):
        return value
    signature = value.get(SIGNATURE_KEY)
    if signature == _RESOURCE_SIG:
        urn = str(value.get("urn", ""))
        resource_id = value.get("id")
        if resource_id is None:
            resource_id = ids.get(urn)
        return str(resource_id) if resource_id not in (None, "") else urn
    if signature == _OUTPUT_SIG:
        inner = _engine_value(value["value"], ids) if "value" in value else _UNKNOWN
        return {SIGNATURE_KEY: _SECRET_SIG, "value": inner} if value.get("secret") else inner
    return {key: _engine_value(item, ids) for key, item in value.items()}


def engine_struct(source: struct_pb2.Struct, ids: Mapping[str, str], *, skip_internal_keys: bool) -> struct_pb2.Struct:
    """Copy of a wire ``Struct`` as the engine marshals it for ``Analyze`` (or ``Remediate``)."""
    if not holds_signed_values(source):  # nothing to resolve: a plain copy
        return _without_internal_keys(source) if skip_internal_keys else _copy(source)
    return _struct_of(_engine_mapping(source, ids), skip_internal_keys=skip_internal_keys)


def _copy(source: struct_pb2.Struct) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.CopyFrom(source)
    return result


def _without_internal_keys(source: struct_pb2.Struct) -> struct_pb2.Struct:
    result = _copy(source)
    for key in [key for key in result.fields if key.startswith("__")]:
        del result.fields[key]
    return result


def _engine_mapping(source: struct_pb2.Struct, ids: Mapping[str, str]) -> dict[str, Any]:
    return {key: _engine_value(value, ids) for key, value in json_format.MessageToDict(source).items()}


def _struct_of(converted: Mapping[str, Any], *, skip_internal_keys: bool) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update({key: value for key, value in converted.items() if not (skip_internal_keys and key.startswith("__"))})
    return result


def _python_to_wire(value: Any) -> Any:
    """A mock-state value (plain Python, assets, archives) as a JSON-able wire value."""
    import pulumi  # local: only needed for asset/archive detection

    if isinstance(value, dict):
        return {str(key): _python_to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_python_to_wire(item) for item in value]
    if isinstance(value, pulumi.FileAsset):
        return {SIGNATURE_KEY: _ASSET_SIG, "path": str(value.path)}
    if isinstance(value, pulumi.StringAsset):
        return {SIGNATURE_KEY: _ASSET_SIG, "text": value.text}
    if isinstance(value, pulumi.RemoteAsset):
        return {SIGNATURE_KEY: _ASSET_SIG, "uri": value.uri}
    if isinstance(value, pulumi.AssetArchive):
        return {SIGNATURE_KEY: _ARCHIVE_SIG, "assets": {k: _python_to_wire(v) for k, v in value.assets.items()}}
    if isinstance(value, pulumi.FileArchive):
        return {SIGNATURE_KEY: _ARCHIVE_SIG, "path": str(value.path)}
    if isinstance(value, pulumi.RemoteArchive):
        return {SIGNATURE_KEY: _ARCHIVE_SIG, "uri": value.uri}
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _struct(mapping: Mapping[str, Any]) -> struct_pb2.Struct:
    result = struct_pb2.Struct()
    result.update(_python_to_wire(dict(mapping)))
    return result


def _urn_type(urn: str) -> str:
    parts = urn.split("::")
    return parts[2].rsplit("$", 1)[-1] if len(parts) >= 4 else ""


def pack_version(pack_dir: Path) -> str:
    """The version in the pack's ``PulumiPolicy.yaml`` (``""`` when it has none)."""
    manifest = pack_dir / "PulumiPolicy.yaml"
    if not manifest.is_file():
        raise PolicyPackError(f"{pack_dir} is not a policy pack: it has no PulumiPolicy.yaml")
    document = yaml.safe_load(manifest.read_text()) or {}
    return str(document.get("version", ""))


def configure(
    stub: analyzer_pb2_grpc.AnalyzerStub,
    *,
    project: str,
    stack: str,
    config: Mapping[str, str],
    dry_run: bool,
    organization: str,
    policy_config: Mapping[str, Any],
) -> analyzer_pb2.AnalyzerInfo:
    """The engine's set-up calls: ``Handshake``, ``ConfigureStack``, ``GetAnalyzerInfo``, ``Configure``.

    Raises
    ------
    PolicyConfigError
        When ``policy_config`` does not fit the pack.
    """
    try:
        stub.Handshake(analyzer_pb2.AnalyzerHandshakeRequest(engine_address="127.0.0.1:0"))
    except grpc.RpcError as error:
        if error.code() != grpc.StatusCode.UNIMPLEMENTED:
            raise
    stack_config = struct_pb2.Struct()
    stack_config.update(dict(config))
    stub.ConfigureStack(
        analyzer_pb2.AnalyzerStackConfigureRequest(
            stack=stack, project=project, organization=organization, dry_run=dry_run, config=stack_config
        )
    )
    info = stub.GetAnalyzerInfo(empty_pb2.Empty())
    if info.supportsConfig:
        reconciled = reconcile_policy_config(info, policy_config)
        request = analyzer_pb2.ConfigureAnalyzerRequest()
        for name, entry in reconciled.items():
            request.policyConfig[name].enforcementLevel = _LEVEL_CODES[entry["enforcementLevel"]]
            request.policyConfig[name].properties.update(entry["properties"])
        stub.Configure(request)
    elif policy_config:
        raise PolicyConfigError(f"policy pack {info.name} does not support config")
    return info


def _options(record: RecordedResource, *, with_parent: bool) -> analyzer_pb2.AnalyzerResourceOptions:
    options = record.options
    timeouts = options.get("customTimeouts") or {}
    return analyzer_pb2.AnalyzerResourceOptions(
        protect=bool(options.get("protect")),
        ignoreChanges=list(options.get("ignoreChanges") or []),
        deleteBeforeReplace=bool(options.get("deleteBeforeReplace")),
        deleteBeforeReplaceDefined=bool(options.get("deleteBeforeReplaceDefined")),
        additionalSecretOutputs=list(options.get("additionalSecretOutputs") or []),
        aliases=list(options.get("aliases") or []),
        customTimeouts=analyzer_pb2.AnalyzerResourceOptions.CustomTimeouts(
            create=float(timeouts.get("create") or 0),
            update=float(timeouts.get("update") or 0),
            delete=float(timeouts.get("delete") or 0),
        ),
        parent=record.parent if with_parent else "",
    )


def _provider(
    record: RecordedResource,
    by_urn: Mapping[str, RecordedResource],
    ids: Mapping[str, str],
    known: dict[str, analyzer_pb2.AnalyzerProviderResource] | None = None,
) -> analyzer_pb2.AnalyzerProviderResource | None:
    """The provider of ``record`` as the engine sends it; ``known`` keeps each provider's, built once a run."""
    if not record.provider:
        return None
    provider_urn = record.provider.rsplit("::", 1)[0]
    if known is not None and provider_urn in known:
        return known[provider_urn]
    provider = by_urn.get(provider_urn)
    if provider is None:
        return None
    message = analyzer_pb2.AnalyzerProviderResource(
        urn=provider.urn,
        type=provider.type,
        name=provider.urn.rsplit("::", 1)[-1],
        properties=engine_struct(provider.inputs_struct, ids, skip_internal_keys=True),
    )
    if known is not None:
        known[provider_urn] = message
    return message


def _diagnostic(d: analyzer_pb2.AnalyzeDiagnostic, urn: str, version: str, stage: str) -> PolicyViolation:
    level = _LEVELS.get(d.enforcementLevel, "advisory")
    return PolicyViolation(
        policy_name=d.policyName,
        pack_name=d.policyPackName,
        pack_version=version or d.policyPackVersion,
        enforcement_level="mandatory" if level == "remediate" else level,
        severity=_SEVERITIES.get(d.severity, ""),
        description=d.description,
        message=d.message,
        urn=urn,
        stage=stage,
    )


@dataclass(frozen=True)
class AnalyzedResource:
    """What ``Remediate`` and ``Analyze`` returned for one resource."""

    violations: tuple[PolicyViolation, ...]
    remediations: tuple[AppliedRemediation, ...]
    final_inputs: struct_pb2.Struct
    """The inputs after every remediation (what ``Analyze`` saw, internal keys kept)."""


def analyze_resource(
    stub: analyzer_pb2_grpc.AnalyzerStub,
    record: RecordedResource,
    by_urn: Mapping[str, RecordedResource],
    ids: Mapping[str, str],
    version: str,
    providers: dict[str, analyzer_pb2.AnalyzerProviderResource] | None = None,
) -> AnalyzedResource:
    """The engine's calls for one registered resource: ``Remediate``, its changes applied, then ``Analyze``.

    ``by_urn`` and ``ids`` need only the resources registered before ``record`` (the ones it can refer to);
    ``providers`` keeps the provider messages of one run, each built once.
    """
    violations: list[PolicyViolation] = []
    remediations: list[AppliedRemediation] = []
    inputs = engine_struct(record.inputs_struct, ids, skip_internal_keys=False)
    request = analyzer_pb2.AnalyzeRequest(
        type=record.type,
        name=record.name,
        urn=record.urn,
        properties=inputs,
        options=_options(record, with_parent=True),
        provider=_provider(record, by_urn, ids, providers),
    )
    for remediation in stub.Remediate(request).remediations:
        if remediation.diagnostic:
            violations.append(
                PolicyViolation(
                    policy_name=remediation.policyName,
                    pack_name=remediation.policyPackName,
                    pack_version=version,
                    enforcement_level="advisory",
                    severity="",
                    description=remediation.description,
                    message=remediation.diagnostic,
                    urn=record.urn,
                    stage="remediate",
                )
            )
        elif remediation.HasField("properties"):
            before = json_format.MessageToDict(inputs)
            after = json_format.MessageToDict(remediation.properties)
            changed = tuple(sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)))
            inputs = remediation.properties
            remediations.append(
                AppliedRemediation(
                    remediation.policyName,
                    remediation.policyPackName,
                    version,
                    record.urn,
                    changed,
                    tuple(PropertyChange(key, before.get(key), after.get(key)) for key in changed),
                )
            )
    if remediations:
        request.properties.CopyFrom(engine_struct(inputs, ids, skip_internal_keys=True))
    else:  # the converted inputs are already as the engine sends them: only the internal keys go
        request.properties.CopyFrom(_without_internal_keys(inputs))
    analyzed = stub.Analyze(request)
    violations.extend(_diagnostic(d, record.urn, version, "analyze") for d in analyzed.diagnostics)
    return AnalyzedResource(tuple(violations), tuple(remediations), inputs)


class AnalyzeStream:
    """``Remediate`` and ``Analyze`` sent while the program still runs, as the engine sends them during a preview.

    A thread waits for the started pack's port, then starts :mod:`offline.analyze_worker`, which configures
    the pack and analyzes each resource :meth:`submit` hands it, in registration order: the pack's work and
    the calls' own overlap the program on other cores. :func:`run_policy_pack` with ``stream=`` then only
    sends ``AnalyzeStack``.

    Parameters
    ----------
    pack:
        The pack, launched for the run's project, stack, config and dry-run flag (:func:`launch_pack`).
    policy_config:
        A ``--policy-pack-config`` file, or the same content as a mapping.
    engine:
        What ``ConfigureStack`` tells the pack: ``project``, ``stack``, ``config``, ``dry_run``, ``organization``.
    timeout_seconds:
        How long :meth:`finish` waits for the outstanding ``Remediate``/``Analyze`` calls once the pack is set up,
        before naming the one the pack is stuck on.
    setup_timeout_seconds:
        How long, from the stream's start, the worker's start and the pack's set-up calls may take. They are timed
        apart because a loaded machine can start a process slower than a pack answers a call.
    """

    def __init__(
        self,
        pack: PolicyPackProcess,
        policy_config: Path | str | Mapping[str, Any] | None,
        engine: Mapping[str, Any],
        *,
        timeout_seconds: float = STARTUP_TIMEOUT_SECONDS,
        setup_timeout_seconds: float = STARTUP_TIMEOUT_SECONDS,
    ) -> None:
        self.pack = pack
        self.timeout_seconds = timeout_seconds
        self.setup_timeout_seconds = setup_timeout_seconds
        self._setup_deadline = time.monotonic() + setup_timeout_seconds
        self._policy_config = dict(policy_config) if isinstance(policy_config, Mapping) else policy_config
        self._engine = dict(engine)
        self._queue: queue.SimpleQueue[RecordedResource | None] = queue.SimpleQueue()
        self._submitted: list[str] = []
        self._results: dict[str, AnalyzedResource] = {}
        self._info: analyzer_pb2.AnalyzerInfo | None = None
        self._error: BaseException | None = None
        self._set_up = threading.Event()  # the pack answered the set-up calls, or the stream ended
        self._ended = threading.Event()
        self._worker: subprocess.Popen[bytes] | None = None
        threading.Thread(target=self._send, name="analyze-stream", daemon=True).start()

    def submit(self, record: RecordedResource) -> None:
        """Queue one registered resource for ``Remediate`` and ``Analyze`` (thread-safe, never blocks)."""
        self._submitted.append(record.urn)
        self._queue.put(record)

    def _send(self) -> None:
        """Start the worker once the pack listens, then hand it the set-up and each batch of records queued."""
        try:
            self.pack.stub  # noqa: B018 - waits for the pack's port and connects (AnalyzeStack goes from here)
            worker = subprocess.Popen(
                [sys.executable, "-m", "offline.analyze_worker"],
                cwd=PROJECT_DIR,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
            )
            self._worker = worker
            assert worker.stdin is not None
            threading.Thread(target=self._receive, args=(worker,), name="analyze-stream-answers", daemon=True).start()
            setup = {
                "port": self.pack.port,
                "pack_dir": self.pack.pack_dir,
                "policy_config": self._policy_config,
                "engine": self._engine,
            }
            pickle.dump(setup, worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
            worker.stdin.flush()
            ended = False
            while not ended:
                batch = [self._queue.get()]
                while not self._queue.empty():
                    batch.append(self._queue.get())
                ended = any(record is None for record in batch)
                # The worker needs what the calls are built from; the deserialized inputs and outputs stay here.
                records = [replace(record, inputs={}, outputs={}, source=None) for record in batch if record]
                if records:
                    pickle.dump(records, worker.stdin, protocol=pickle.HIGHEST_PROTOCOL)
                if ended:
                    pickle.dump(None, worker.stdin)
                worker.stdin.flush()
            worker.stdin.close()
        except BaseException as error:  # handed to the caller by finish()
            if self._worker is not None and self._worker.stdin is not None:
                # Closed here, or the unflushed pipe to a stopped worker raises again when it is collected.
                with contextlib.suppress(OSError):
                    self._worker.stdin.close()
            if self._worker is not None and isinstance(error, OSError):
                return  # the worker stopped: what it said is read by _receive
            self._error = self._error or error
            if self._worker is not None:
                self._worker.kill()
            self._set_up.set()
            self._ended.set()

    def _receive(self, worker: subprocess.Popen[bytes]) -> None:
        """Keep what the worker answers until it is done or fails."""
        assert worker.stdout is not None and worker.stderr is not None
        try:
            while True:
                answer = pickle.load(worker.stdout)
                if answer[0] == "info":
                    self._info = analyzer_pb2.AnalyzerInfo.FromString(answer[1])
                    self._set_up.set()
                elif answer[0] == "analyzed":
                    self._results.update(answer[1])
                else:
                    if answer[0] == "error":
                        self._error = answer[1]
                    return
        except EOFError:
            stderr = worker.stderr.read().decode(errors="replace")
            stopped = PolicyPackError(f"the Analyze worker of {self.pack.pack_dir} stopped:\n{stderr}")
            self._error = self._error or stopped
        except BaseException as error:
            self._error = self._error or error
        finally:
            self._set_up.set()
            self._ended.set()

    def _current_call(self) -> str:
        """The call the stream waits on: the set-up, or the first resource not answered yet."""
        if self._info is None:
            return "the pack's set-up calls (Handshake, ConfigureStack, GetAnalyzerInfo, Configure)"
        waiting = next((urn for urn in self._submitted if urn not in self._results), None)
        return f"Remediate/Analyze of {waiting}" if waiting else "the end of the Analyze calls"

    def close(self) -> None:
        """Let the worker end once the queued calls are done (without waiting for them)."""
        self._queue.put(None)

    def finish(self) -> tuple[analyzer_pb2.AnalyzerInfo, dict[str, AnalyzedResource]]:
        """Wait for the outstanding calls; what ``GetAnalyzerInfo`` returned, and URN → what the pack returned.

        Raises
        ------
        PolicyPackError
            When the pack is not set up within ``setup_timeout_seconds`` of the start, or has not answered the
            calls within ``timeout_seconds`` after (the message names the call it is on).
        PolicyConfigError
            When the policy config does not fit the pack.
        """
        self.close()
        set_up = self._set_up.wait(max(0.0, self._setup_deadline - time.monotonic()))
        if not set_up or not self._ended.wait(self.timeout_seconds):
            call = self._current_call()
            if self._worker is not None:
                self._worker.kill()
            waited = f"{self.timeout_seconds if set_up else self.setup_timeout_seconds:g}"
            raise PolicyPackError(
                f"policy pack in {self.pack.pack_dir} did not answer within {waited} s: still waiting on {call}"
            )
        if self._worker is not None:
            self._worker.wait()
        if self._error is not None:
            raise self._error
        assert self._info is not None
        return self._info, self._results


def run_policy_pack(
    run: ProgramRun,
    pack_dir: Path = PACK_DIR,
    policy_config: Path | str | Mapping[str, Any] | None = None,
    *,
    dry_run: bool | None = None,
    organization: str = "organization",
    python: str = sys.executable,
    started: PolicyPackProcess | None = None,
    stream: AnalyzeStream | None = None,
) -> PolicyReport:
    """Send a recorded program run to a policy pack exactly as the engine would, and collect the results.

    Parameters
    ----------
    run:
        The recorded resources of one program run (:func:`offline.harness.run_program`).
    pack_dir:
        The policy pack folder (holding ``PulumiPolicy.yaml`` and ``__main__.py``).
    policy_config:
        A ``--policy-pack-config`` file, or the same content as a mapping.
    dry_run:
        Whether this is a preview (``PULUMI_DRY_RUN``); by default what the run was (``run.preview``), so the
        pack is told the truth: a run recorded with known outputs is what ``pulumi up`` sends.
    organization:
        ``PULUMI_ORGANIZATION``.
    python:
        Interpreter that runs the pack (it needs ``pulumi`` and ``pulumi-policy``).
    started:
        A pack launched ahead for this run (:func:`launch_pack` with the run's project, stack, config and
        dry-run flag); the caller stops it. By default the pack is launched and stopped here.
    stream:
        An :class:`AnalyzeStream` that already configured a started pack and sent ``Remediate`` and
        ``Analyze`` for the run's resources as the program registered them; only ``AnalyzeStack`` is left.

    Returns
    -------
    PolicyReport
        Violations in the order the engine saw them, remediations applied, and the idle cost.

    Raises
    ------
    PolicyConfigError
        When the policy config is malformed or does not fit the pack.
    PolicyPackError
        When the pack cannot start.
    """
    pack_dir = Path(pack_dir)
    dry_run = run.preview if dry_run is None else dry_run
    given = load_policy_config(policy_config)
    version = pack_version(pack_dir)
    report = PolicyReport(pack_name="", pack_version=version, pack_path=str(pack_dir), stack=run.stack)
    by_urn = {record.urn: record for record in run.resources}
    ids = {record.urn: record.id for record in run.resources}
    stack_urn = run.stack_urn

    # What the engine tells the pack, at launch (environment) and again in ConfigureStack.
    engine: dict[str, Any] = {
        "project": run.project,
        "stack": run.stack,
        "config": run.config,
        "dry_run": dry_run,
        "organization": organization,
    }
    if stream is not None:
        started = stream.pack
    launched = nullcontext(started) if started is not None else launch_pack(pack_dir, python=python, **engine)
    with launched as pack:
        analyzed_by_urn: dict[str, AnalyzedResource] = {}
        if stream is not None:
            info, analyzed_by_urn = stream.finish()
        else:
            info = configure(pack.stub, policy_config=given, **engine)
        report.pack_name = info.name
        report.pack_version = version or info.version
        report.policies = {
            policy.name: PolicyDescription(
                name=policy.name,
                description=policy.description,
                enforcement_level=_LEVELS.get(policy.enforcementLevel, "advisory"),
                severity=_SEVERITIES.get(policy.severity, ""),
                tags=tuple(policy.tags),
                remediation_steps=policy.remediation_steps,
                url=policy.url,
            )
            for policy in info.policies
        }
        final_structs: dict[str, struct_pb2.Struct] = {}
        providers: dict[str, analyzer_pb2.AnalyzerProviderResource] = {}
        for record in run.resources:  # in registration order (a stream's calls may have run in another)
            analyzed = analyzed_by_urn.get(record.urn) or analyze_resource(
                pack.stub, record, by_urn, ids, report.pack_version, providers
            )
            report.violations.extend(analyzed.violations)
            report.remediations.extend(analyzed.remediations)
            final_structs[record.urn] = analyzed.final_inputs
            report.resources_analyzed += 1

        stack_request = analyzer_pb2.AnalyzeStackRequest()
        for record in run.resources:
            final_inputs = json_format.MessageToDict(final_structs[record.urn])
            report.final_inputs[record.urn] = final_inputs
            outputs = {**_python_to_wire(record.outputs), **final_inputs} if record.custom else final_inputs
            if record.type == STACK_TYPE:
                outputs = _python_to_wire(run.outputs)
            resource = stack_request.resources.add(
                type=record.type,
                name=record.name,
                urn=record.urn,
                options=_options(record, with_parent=False),
                parent=record.parent,
                dependencies=list(record.dependencies),
            )
            resource.properties.CopyFrom(engine_struct(_struct(outputs), ids, skip_internal_keys=True))
            provider = _provider(record, by_urn, ids, providers)
            if provider is not None:
                resource.provider.CopyFrom(provider)
            for key, urns in record.property_dependencies.items():
                if urns:
                    resource.propertyDependencies[key].urns.extend(urns)
        analyzing_stack = pack.stub.AnalyzeStack.future(stack_request)
        # Priced while the pack runs its stack policies.
        report.idle_cost = idle_cost_of(run, report.final_inputs, pack_dir)
        for d in analyzing_stack.result().diagnostics:
            urn = d.urn if d.urn in by_urn else stack_urn
            report.violations.append(_diagnostic(d, urn, report.pack_version, "analyze-stack"))
    return report


def idle_cost_of(run: ProgramRun, final_inputs: Mapping[str, Mapping[str, Any]], pack_dir: Path = PACK_DIR) -> IdleCost:
    """The stack's idle monthly cost, from the pack's own ``policy_pack.cost.estimate_idle_cost``."""
    import_package("policy_pack", pack_dir)
    from policy_pack.cost import CostedResource, estimate_idle_cost

    resources = [
        CostedResource(
            record.urn,
            record.type,
            record.name,
            {**record.outputs, **final_inputs.get(record.urn, record.inputs)} if record.custom else record.inputs,
            {key: frozenset(urns) for key, urns in record.property_dependencies.items()},
        )
        for record in run.resources
    ]
    total, items = estimate_idle_cost(resources)
    return IdleCost(total, tuple(grouped_cost_lines(items)), sum(1 for item in items if item.monthly_usd is None))


def grouped_cost_lines(items: Sequence[Any]) -> list[str]:
    """One line per priced thing, dearest first; the same item on several resources once, with their names.

    ``items`` are the pack's ``IdleCostItem`` (``monthly_usd``, ``what``, ``name``).
    """
    groups: dict[tuple[float | None, str], list[str]] = {}
    for item in items:
        groups.setdefault((item.monthly_usd, item.what), []).append(item.name)
    lines = []
    for (monthly, what), names in sorted(groups.items(), key=lambda g: (-((g[0][0] or 0.0) * len(g[1])), g[0][1])):
        price = f"${monthly:,.2f}" if monthly is not None else "unpriced"
        if len(names) == 1:
            lines.append(f"{price:>10}  {what}  ({names[0]})")
        else:
            total = f"${monthly * len(names):,.2f}" if monthly is not None else "unpriced"
            lines.append(f"{total:>10}  {len(names)} x {price} {what}  ({', '.join(sorted(names))})")
    return lines


# ---- the CLI's "Policies:" section -----------------------------------------------------------------


REPORT_WIDTH: Final = 100
"""Lines of the printed report are wrapped to this many characters."""


def _wrapped(text: str, indent: str, width: int = REPORT_WIDTH) -> list[str]:
    """``text``'s lines wrapped to ``width`` under ``indent`` (continuations indented two more)."""
    lines: list[str] = []
    for line in text.rstrip("\n").split("\n"):
        lines.extend(
            textwrap.wrap(
                line,
                width=width,
                initial_indent=indent,
                subsequent_indent=indent + "  ",
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [indent]
        )
    return lines


def _resource_list(violations: Sequence[PolicyViolation], indent: str, width: int = REPORT_WIDTH) -> list[str]:
    """``on <type>: name, name…`` per resource type, wrapped under ``indent``."""
    by_type: dict[str, list[str]] = {}
    for violation in violations:
        by_type.setdefault(violation.resource_type, []).append(violation.resource_name)
    lines: list[str] = []
    for resource_type, names in sorted(by_type.items()):
        lines.extend(
            textwrap.wrap(
                f"on {resource_type}: {', '.join(sorted(names))}",
                width=width,
                initial_indent=indent,
                subsequent_indent=indent + "     ",
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    return lines


def format_report(report: PolicyReport, *, local_path: str | None = None) -> str:
    """The report the way ``pulumi preview`` prints its ``Policies:`` section, then the idle cost.

    Remediations are summarised per policy, then violations sorted by enforcement level, policy name and
    URN. A finding several resources share (same level, policy and message) is printed once, with the list
    of its resources; long lines are wrapped to :data:`REPORT_WIDTH`.
    """
    key = f"{report.pack_name}@v{report.pack_version}"
    mark = "✅"
    if report.violations:
        mark = "❌" if report.has_mandatory_violations else "⚠️"
    lines = ["Policies:", f"    {mark} {key} (local: {local_path or report.pack_path})"]
    indent = "        "
    counts: dict[str, int] = {}
    for remediation in report.remediations:
        counts[remediation.policy_name] = counts.get(remediation.policy_name, 0) + 1
    for name in sorted(counts):
        count = counts[name]
        lines.append(f"{indent}- [remediate]  {name}  ({count} resource{'s' if count != 1 else ''})")
    groups: dict[tuple[str, str, str], list[PolicyViolation]] = {}
    for violation in sorted(report.violations, key=lambda v: (v.enforcement_level, v.policy_name, v.urn)):
        groups.setdefault((violation.enforcement_level, violation.policy_name, violation.message), []).append(violation)
    for (level, policy_name, message), shared in groups.items():
        if len(shared) == 1:
            lines.append(f"{indent}- [{level}]  {policy_name}  ({shared[0].resource_type}: {shared[0].resource_name})")
        else:
            lines.append(f"{indent}- [{level}]  {policy_name}  ({len(shared)} resources)")
        lines.extend(_wrapped(message, indent + "  "))
        if len(shared) > 1:
            lines.extend(_resource_list(shared, indent + "  "))
    lines.append("")
    if report.idle_cost is not None:
        cost = report.idle_cost
        qualifier = f" (+ {cost.unpriced} unpriced item(s))" if cost.unpriced else ""
        lines.append(f"Idle cost (zero traffic): ${cost.total_usd:,.2f}/month{qualifier}")
        for line in cost.lines:
            lines.extend(_wrapped(line, "    "))
    return "\n".join(lines)


def summarize(violations: Sequence[PolicyViolation]) -> dict[str, int]:
    """Count of violations per policy name (handy in tests and logs)."""
    counts: dict[str, int] = {}
    for violation in violations:
        counts[violation.policy_name] = counts.get(violation.policy_name, 0) + 1
    return counts
