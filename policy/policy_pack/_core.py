"""The rule framework: defensive property reads, rule metadata, and the SDK policy wrappers.

Every rule of the pack is a :class:`ResourceRule` or a :class:`StackRule`. Both are ordinary
``pulumi_policy`` policies (so ``--policy-pack-config`` and the engine treat them like any other), and
both wrap the rule body so that:

- a value that is unknown during preview ends the rule for that resource with an *advisory*
  "cannot evaluate" diagnostic (the SDK's own path for :class:`UnknownValueError`), after the findings
  it had already made are reported;
- an absent key means the provider default, read with :meth:`Props.get`'s ``default``;
- a malformed value (bad JSON, a string where a number belongs) is a violation naming the property;
- nothing raises out of a rule: an unexpected error becomes an advisory diagnostic naming the rule,
  because an exception inside a policy would fail the whole ``Analyze`` call and the engine run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, cast

from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceRemediation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError

# Wire sentinels for values the engine does not know yet (pulumi/sdk/go/common/resource/plugin/rpc.go).
# The SDK's unknown-checking proxy raises on them, but remediation props arrive without that proxy,
# so reads here check the raw strings too.
UNKNOWN_STRING: Final = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
UNKNOWN_SENTINELS: Final = frozenset(
    {
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        UNKNOWN_STRING,
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


class _Absent:
    """Marker for a key the program did not set (so the provider default applies)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT: Final = _Absent()


class CannotEvaluateError(UnknownValueError):
    """A value a rule needs is unknown during preview.

    It subclasses the SDK's :class:`UnknownValueError`, which the SDK reports as an advisory
    diagnostic ("can't run policy … during preview: <message>") instead of failing the call.
    """

    def __init__(self, what: str) -> None:
        super().__init__(UNKNOWN_STRING, [what])
        self.message = f"cannot evaluate: {what} is not known until the update runs"

    def __str__(self) -> str:
        return self.message


class BadValueError(Exception):
    """A property holds a value of the wrong shape; reported as a violation naming the property."""


def is_unknown(value: Any) -> bool:
    """Whether ``value`` is one of the engine's unknown sentinels."""
    return isinstance(value, str) and value in UNKNOWN_SENTINELS


@dataclass(frozen=True)
class Props:
    """A defensive, read-only view over a resource's properties (inputs, or outputs in stack rules).

    Paths are dotted (``tracingConfig.mode``); a numeric segment indexes a list (``rules.0.name``).
    """

    raw: Mapping[str, Any]

    def get(self, path: str, default: Any = ABSENT) -> Any:
        """The value at ``path``, ``default`` when a key on the way is absent or null.

        Raises
        ------
        CannotEvaluateError
            When the value, or a container on the way, is unknown during preview.
        """
        current: Any = self.raw
        for segment in path.split("."):
            try:
                if isinstance(current, Mapping):
                    current = current[segment]
                elif isinstance(current, Sequence) and not isinstance(current, str) and segment.isdigit():
                    current = current[int(segment)]
                else:
                    return default
            except (KeyError, IndexError):
                return default
            except UnknownValueError as error:
                raise CannotEvaluateError(path) from error
            if is_unknown(current):
                raise CannotEvaluateError(path)
            if current is None:
                return default
        return current

    def has(self, path: str) -> bool:
        """Whether ``path`` is set (present and not null)."""
        return self.get(path) is not ABSENT

    def text(self, path: str, default: Any = ABSENT) -> Any:
        """A string value, ``default`` when absent.

        Raises
        ------
        BadValueError
            When the value is not a string.
        """
        value = self.get(path, default)
        if value is default:
            return value
        if not isinstance(value, str):
            raise BadValueError(f"{path} should be a string, not {type(value).__name__}")
        return value

    def number(self, path: str, default: Any = ABSENT) -> Any:
        """A numeric value (``int`` or ``float``; numeric strings are accepted), ``default`` when absent.

        Raises
        ------
        BadValueError
            When the value is not a number.
        """
        value = self.get(path, default)
        if value is default:
            return value
        if isinstance(value, bool):
            raise BadValueError(f"{path} should be a number, not a boolean")
        if isinstance(value, int | float):
            return value
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise BadValueError(f"{path} should be a number, not {value!r}")

    def flag(self, path: str, default: Any = ABSENT) -> Any:
        """A boolean value (``"true"``/``"false"`` strings are accepted), ``default`` when absent.

        Raises
        ------
        BadValueError
            When the value is not a boolean.
        """
        value = self.get(path, default)
        if value is default or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise BadValueError(f"{path} should be a boolean, not {value!r}")

    def seq(self, path: str) -> list[Any]:
        """The elements of a list (empty when absent); a single non-list value counts as one element."""
        value = self.get(path)
        if value is ABSENT:
            return []
        if isinstance(value, Sequence) and not isinstance(value, str):
            return [self.get(f"{path}.{index}") for index in range(len(value))]
        return [value]

    def each(self, path: str) -> list[Props]:
        """Views over the mapping elements of a list (non-mapping elements are skipped)."""
        return [Props(item) for item in self.seq(path) if isinstance(item, Mapping)]

    def child(self, path: str) -> Props:
        """A view over a nested mapping (empty when absent)."""
        value = self.get(path)
        if isinstance(value, Mapping):
            return Props(value)
        if value is ABSENT:
            return Props({})
        raise BadValueError(f"{path} should be an object, not {type(value).__name__}")

    def keys(self) -> list[str]:
        """The keys that are present (iteration never touches unknown values)."""
        return list(self.raw)

    def json(self, path: str) -> Any:
        """A property that holds a JSON document as a string (or already as an object), parsed.

        Returns
        -------
        Any
            The parsed document, or :data:`ABSENT` when the property is not set.

        Raises
        ------
        CannotEvaluateError
            When the string is unknown during preview.
        BadValueError
            When the string is not valid JSON.
        """
        value = self.get(path)
        if value is ABSENT or not isinstance(value, str):
            return plain(value) if value is not ABSENT else ABSENT
        if not value.strip():
            return ABSENT
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise BadValueError(f"{path} is not valid JSON ({error.msg} at character {error.pos})") from error


def plain(value: Any) -> Any:
    """A deep copy of a (proxied) value as plain dicts and lists.

    Raises
    ------
    CannotEvaluateError
        When some part of the value is unknown.
    """
    if isinstance(value, Mapping):
        return {key: plain(Props(value).get(key, None)) for key in list(value)}
    if isinstance(value, Sequence) and not isinstance(value, str):
        return [plain(item) for item in Props({"v": value}).seq("v")]
    if is_unknown(value):
        raise CannotEvaluateError("a nested value")
    return value


# ---- rule metadata -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleInfo:
    """What the README and the meta-tests know about a rule."""

    name: str
    summary: str
    anchors: tuple[str, ...]
    severity: Severity
    enforcement_level: EnforcementLevel
    kind: str
    service: str
    resource_types: tuple[str, ...]
    config: Mapping[str, Mapping[str, Any]]
    remediates: bool

    @property
    def description(self) -> str:
        """The one-line policy description: what good looks like, then the public ids it covers."""
        ids = ", ".join(self.anchors) if self.anchors else "no public rule covers this (pack rule)"
        return f"{self.summary} [{ids}]"

    def config_defaults(self) -> dict[str, Any]:
        """The ``default`` of every config property."""
        return {key: schema["default"] for key, schema in self.config.items() if "default" in schema}


def _schema(config: Mapping[str, Mapping[str, Any]]) -> PolicyConfigSchema | None:
    return PolicyConfigSchema(properties={k: dict(v) for k, v in config.items()}) if config else None


def merged_config(info: RuleInfo, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule's config: schema defaults, overlaid with what the engine passed in ``Configure``."""
    config = info.config_defaults()
    config.update({key: value for key, value in (given or {}).items() if key != "enforcementLevel"})
    return config


@dataclass(frozen=True)
class Finding:
    """One violation from a stack rule: the message and the resource it is about (if any)."""

    message: str
    urn: str | None = None


ResourceCheck = Callable[[Props, Mapping[str, Any], str], Iterable[str]]
"""A resource rule body: ``(props, config, resource_type) -> violation messages``."""

ResourceFix = Callable[[Props, Mapping[str, Any], str], Mapping[str, Any] | None]
"""A remediation body: ``(props, config, resource_type) -> properties to set`` (``None``: nothing to fix)."""


class ResourceRule(ResourceValidationPolicy):
    """A per-resource rule: applies to ``resource_types``, reports each message its check yields."""

    info: RuleInfo

    def __init__(
        self,
        *,
        name: str,
        summary: str,
        anchors: Sequence[str],
        severity: Severity,
        enforcement_level: EnforcementLevel,
        service: str,
        resource_types: Sequence[str],
        check: ResourceCheck,
        config: Mapping[str, Mapping[str, Any]] | None = None,
        fix: ResourceFix | None = None,
    ) -> None:
        self.info = RuleInfo(
            name=name,
            summary=summary,
            anchors=tuple(anchors),
            severity=severity,
            enforcement_level=enforcement_level,
            kind="resource",
            service=service,
            resource_types=tuple(resource_types),
            config=dict(config or {}),
            remediates=fix is not None,
        )
        self._types = frozenset(resource_types)
        self._check = check
        self._fix = fix
        super().__init__(
            name=name,
            description=self.info.description,
            validate=self._validate,
            # The SDK also accepts a plain (non-awaitable) return from a remediation.
            remediate=cast(ResourceRemediation, self._remediate) if fix is not None else None,
            enforcement_level=enforcement_level,
            config_schema=_schema(self.info.config),
            severity=severity,
        )

    def applies_to(self, resource_type: str) -> bool:
        """Whether this rule inspects resources of ``resource_type``."""
        return resource_type in self._types

    def findings(
        self, props: Mapping[str, Any], resource_type: str, config: Mapping[str, Any] | None = None
    ) -> list[str]:
        """Run the check directly (no SDK): the violation messages for one resource.

        Raises
        ------
        CannotEvaluateError
            When a needed value is unknown (after nothing was found before it).
        """
        if resource_type not in self._types:
            return []
        found: list[str] = []
        try:
            found.extend(self._check(Props(props), merged_config(self.info, config), resource_type))
        except BadValueError as error:
            found.append(str(error))
        return found

    def _validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in self._types:
            return
        config = merged_config(self.info, args.get_config())
        try:
            for message in self._check(Props(args.props), config, args.resource_type):
                report_violation(message, None)
        except UnknownValueError:
            raise
        except BadValueError as error:
            report_violation(str(error), None)
        except Exception as error:  # a raising policy would fail the whole engine run
            raise _internal_error(self.info.name, error) from error

    def _remediate(self, args: ResourceValidationArgs) -> Mapping[str, Any] | None:
        if args.resource_type not in self._types or self._fix is None:
            return None
        config = merged_config(self.info, args.get_config())
        try:
            changes = self._fix(Props(args.props), config, args.resource_type)
        except (UnknownValueError, BadValueError):
            # Unknown or malformed: leave the resource as it is; Analyze reports why.
            return None
        except Exception as error:  # see _validate
            raise _internal_error(self.info.name, error) from error
        if not changes:
            return None
        props = args.props
        # The SDK's props proxies support item assignment and keep secrets secret on write; the SDK
        # serializes the returned mapping as the resource's new inputs.
        for key, value in changes.items():
            props[key] = value  # type: ignore[index]
        return props


StackCheck = Callable[["StackView", Mapping[str, Any]], Iterable[Finding]]
"""A stack rule body: ``(stack, config) -> findings``."""


class StackRule(StackValidationPolicy):
    """A rule over the whole stack, for checks that correlate several resources."""

    info: RuleInfo

    def __init__(
        self,
        *,
        name: str,
        summary: str,
        anchors: Sequence[str],
        severity: Severity,
        enforcement_level: EnforcementLevel,
        service: str,
        resource_types: Sequence[str],
        check: StackCheck,
        config: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> None:
        self.info = RuleInfo(
            name=name,
            summary=summary,
            anchors=tuple(anchors),
            severity=severity,
            enforcement_level=enforcement_level,
            kind="stack",
            service=service,
            resource_types=tuple(resource_types),
            config=dict(config or {}),
            remediates=False,
        )
        self._check = check
        super().__init__(
            name=name,
            description=self.info.description,
            validate=self._validate,
            enforcement_level=enforcement_level,
            config_schema=_schema(self.info.config),
            severity=severity,
        )

    def findings(self, stack: StackView, config: Mapping[str, Any] | None = None) -> list[Finding]:
        """Run the check directly (no SDK).

        Raises
        ------
        CannotEvaluateError
            When the stack has values the rule needs that are unknown (raised after all findings).
        """
        found = list(self._check(stack, merged_config(self.info, config)))
        stack.raise_if_unresolved()
        return found

    def _validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = StackView.from_policy_resources(args.resources)
        config = merged_config(self.info, args.get_config())
        try:
            for finding in self._check(stack, config):
                report_violation(finding.message, finding.urn)
        except UnknownValueError:
            raise
        except BadValueError as error:
            report_violation(str(error), None)
        except Exception as error:  # see ResourceRule._validate
            raise _internal_error(self.info.name, error) from error
        stack.raise_if_unresolved()


def _internal_error(rule: str, error: Exception) -> CannotEvaluateError:
    failure = CannotEvaluateError(rule)
    failure.message = f"cannot evaluate: rule {rule} failed with {type(error).__name__}: {error}"
    return failure


# ---- the stack as rules see it --------------------------------------------------------------------


@dataclass
class Node:
    """One resource of the stack, with its properties and the URNs each property depends on."""

    urn: str
    type: str
    name: str
    props: Props
    parent: str
    dependencies: frozenset[str]
    property_dependencies: Mapping[str, frozenset[str]]


@dataclass
class StackView:
    """Every resource of the stack, indexed by type and URN, with reference resolution."""

    nodes: list[Node]
    by_urn: dict[str, Node] = field(default_factory=dict)
    by_type: dict[str, list[Node]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    _indexes: dict[tuple[tuple[str, ...], Any], dict[str, list[Node]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in self.nodes:
            self.by_urn[node.urn] = node
            self.by_type.setdefault(node.type, []).append(node)

    @classmethod
    def from_policy_resources(cls, resources: Iterable[PolicyResource]) -> StackView:
        """Build the view from what the SDK passes a stack policy."""
        nodes = [
            Node(
                urn=resource.urn,
                type=resource.resource_type,
                name=resource.name,
                props=Props(resource.props),
                parent=resource.parent.urn if resource.parent is not None else "",
                dependencies=frozenset(dep.urn for dep in resource.dependencies),
                property_dependencies={
                    key: frozenset(dep.urn for dep in deps) for key, deps in resource.property_dependencies.items()
                },
            )
            for resource in resources
        ]
        return cls(nodes)

    def of_type(self, *types: str) -> list[Node]:
        """Every resource of the given types, in stack order."""
        if len(types) == 1:
            return list(self.by_type.get(types[0], ()))
        wanted = set(types)
        return [node for node in self.nodes if node.type in wanted]

    def cannot_evaluate(self, what: str) -> None:
        """Note something the rule could not decide; reported once, after all findings."""
        self.unresolved.append(what)

    def raise_if_unresolved(self) -> None:
        """Raise one :class:`CannotEvaluateError` listing everything noted with :meth:`cannot_evaluate`.

        Raises
        ------
        CannotEvaluateError
            When anything was noted.
        """
        if self.unresolved:
            notes = sorted(set(self.unresolved))
            self.unresolved.clear()
            error = CannotEvaluateError(notes[0])
            error.message = "cannot evaluate: " + "; ".join(notes)
            raise error

    def resolve(self, owner: Node, path: str, target_types: Sequence[str], identity: IdentityFn) -> list[Node] | None:
        """The resources of ``target_types`` that ``owner``'s property ``path`` refers to.

        A known value (ARN, name, URL or id) is matched against each candidate's identities; an
        unknown value falls back to the URNs the property depends on (the engine records those for
        every output passed as an input).

        Returns
        -------
        list[Node] | None
            The referenced resources (empty when the value names something outside the stack), or
            ``None`` when the value is unknown and no dependency names a candidate.
        """
        try:
            value = owner.props.get(path)
        except CannotEvaluateError:
            value = None
        return self.resolve_value(owner, path, value, target_types, identity)

    def resolve_value(
        self, owner: Node, path: str, value: Any, target_types: Sequence[str], identity: IdentityFn
    ) -> list[Node] | None:
        """Like :meth:`resolve` for a value the caller already read (``None`` when it is unknown)."""
        if isinstance(value, str) and value and not is_unknown(value):
            index = self.identity_index(tuple(target_types), identity)
            matched: dict[str, Node] = {}
            for key in identity(value):
                for node in index.get(key, ()):
                    matched[node.urn] = node
            return list(matched.values())
        deps = owner.property_dependencies.get(path.split(".", 1)[0], frozenset())
        wanted = set(target_types)
        found = [self.by_urn[urn] for urn in sorted(deps) if urn in self.by_urn and self.by_urn[urn].type in wanted]
        return found or None

    def identity_index(self, target_types: tuple[str, ...], identity: IdentityFn) -> dict[str, list[Node]]:
        """Identity key -> resources of ``target_types`` it names (built once per stack, types and identity)."""
        cache_key = (target_types, identity)
        index = self._indexes.get(cache_key)
        if index is None:
            index = {}
            for node in self.of_type(*target_types):
                for key in node_identities(node, identity):
                    index.setdefault(key, []).append(node)
            self._indexes[cache_key] = index
        return index


IdentityFn = Callable[[str], frozenset[str]]
"""Normalises a reference (ARN, URL, name) into the keys it can be matched on."""


def generic_identity(value: str) -> frozenset[str]:
    """Keys of a reference: the value itself and, for an ARN or URL, its last name segment."""
    keys = {value}
    if value.startswith("arn:"):
        tail = value.split(":", 5)[-1]
        keys.add(tail.rsplit("/", 1)[-1].rsplit(":", 1)[-1])
    elif value.startswith("https://"):
        keys.add(value.rstrip("/").rsplit("/", 1)[-1])
    return frozenset(keys)


def lambda_identity(value: str) -> frozenset[str]:
    """Keys of a Lambda function reference: its name, whatever form (ARN, partial ARN, qualified)."""
    name = value
    if ":function:" in value:
        name = value.split(":function:", 1)[1].split(":", 1)[0]
    elif value.startswith("arn:"):
        name = value.rsplit(":", 1)[-1]
    return frozenset({name})


_IDENTITY_KEYS: Final = ("arn", "id", "name", "url", "bucket", "functionName")


def node_identities(node: Node, identity: IdentityFn) -> frozenset[str]:
    """Every key a reference to ``node`` may match (from its ARN, id, name and URL outputs)."""
    keys: set[str] = set()
    for key in _IDENTITY_KEYS:
        try:
            value = node.props.get(key)
        except CannotEvaluateError:
            continue
        if isinstance(value, str) and value:
            keys |= identity(value)
    return frozenset(keys)


def iter_json_statements(document: Any) -> Iterator[Mapping[str, Any]]:
    """The statements of an IAM-style policy document (``Statement`` may be one object or a list)."""
    if not isinstance(document, Mapping):
        return
    statements = document.get("Statement")
    if isinstance(statements, Mapping):
        yield statements
    elif isinstance(statements, list):
        yield from (statement for statement in statements if isinstance(statement, Mapping))
