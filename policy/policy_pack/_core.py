"""The rule framework: defensive property reads, rule metadata, waivers, and one base for every rule.

Every rule of the pack is a :class:`ResourceRule` or a :class:`StackRule`. Both are ordinary
``pulumi_policy`` policies (so ``--policy-pack-config`` and the engine treat them like any other), and
both run their body through :meth:`Rule.evaluate`, the one path shared by the engine and the tests:

- a value that is unknown during preview ends the rule for that resource with an *advisory*
  "cannot evaluate" note, after the findings it had already made are reported; a value that is set but
  unknown still counts as set (:meth:`Props.is_set`), so presence checks decide in preview too;
- an absent key means the provider default, read with :meth:`Props.get`'s ``default``;
- a malformed value (bad JSON, a string where a number belongs) is a violation naming the property;
- a finding on a resource with a waiver (pack config or a ``policy:waive:<rule>`` tag) is reported as
  advisory with the waiver's reason; an expired waiver is itself a violation;
- nothing raises out of a rule: an unexpected error becomes an advisory note naming the rule, because an
  exception inside a policy would fail the whole ``Analyze`` call and the engine run.

Advisory notes (waived findings, cannot-evaluate) are reported by the pack's ``pack-notes`` policies,
which run after every rule: a ``pulumi_policy`` policy reports at one enforcement level only.
"""

from __future__ import annotations

import contextlib
import fnmatch
import json
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Final, NotRequired, TypedDict, Unpack, cast

from pulumi.runtime.config import get_config_env
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
    The typed reads (:meth:`text`, :meth:`number`, :meth:`flag`, :meth:`child`, :meth:`json`) raise
    :class:`BadValueError` naming the property when a value has the wrong shape.
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
        """Whether ``path`` is set (present and not null).

        Raises
        ------
        CannotEvaluateError
            When the value, or a container on the way, is unknown.
        """
        return self.get(path) is not ABSENT

    def is_set(self, path: str) -> bool:
        """Whether ``path`` is set, counting a value that is unknown during preview as set.

        For rules that only need presence (a DLQ ARN, a log destination): an ARN that comes from another
        resource is unknown during a first preview, yet it is set.
        """
        try:
            return self.get(path) is not ABSENT
        except CannotEvaluateError:
            return True

    def text(self, path: str, default: Any = ABSENT) -> Any:
        """A string value, ``default`` when absent."""
        value = self.get(path, default)
        if value is default:
            return value
        if not isinstance(value, str):
            raise BadValueError(f"{path} should be a string, not {type(value).__name__}")
        return value

    def number(self, path: str, default: Any = ABSENT) -> Any:
        """A numeric value (``int`` or ``float``; numeric strings are accepted), ``default`` when absent."""
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
        """A boolean value (``"true"``/``"false"`` strings are accepted), ``default`` when absent."""
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

PACK_NAME: Final = "serverless-well-architected"
PACK_VERSION: Final = "1.4.0"
"""Kept equal to ``PulumiPolicy.yaml``'s ``version`` (a meta-test checks): every message carries it."""


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
        """The one-line policy description: what good looks like (the first line of every message)."""
        return self.summary

    @property
    def trailer(self) -> str:
        """The trailing field of every message: the public ids the rule covers and the pack's version."""
        ids = ", ".join(self.anchors) if self.anchors else "pack rule"
        return f"[{ids} | {PACK_NAME}@{PACK_VERSION}]"

    def config_defaults(self) -> dict[str, Any]:
        """The ``default`` of every config property."""
        return {key: schema["default"] for key, schema in self.config.items() if "default" in schema}


# ---- waivers ---------------------------------------------------------------------------------------

WAIVER_TAG_PREFIX: Final = "policy:waive:"
"""A resource tag ``policy:waive:<rule>`` = ``<reason>[; until YYYY-MM-DD]`` waives ``<rule>`` for it."""

WAIVERS_SCHEMA: Final[Mapping[str, Any]] = {
    "type": "array",
    "default": [],
    "items": {
        "type": "object",
        "properties": {
            "resource": {"type": "string", "minLength": 1},
            "reason": {"type": "string", "minLength": 1, "pattern": r"\S"},
            "until": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
        },
        "required": ["resource", "reason"],
        "additionalProperties": False,
    },
}
"""Config property ``waivers`` of every rule: resource name or URN pattern (``*`` wildcards), reason, expiry."""

_TAG_UNTIL: Final = re.compile(r"^(?P<reason>.*?)[\s;,]*\buntil\s+(?P<date>\S+)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Waiver:
    """An accepted exception to one rule for the resources it matches."""

    rule: str
    reason: str
    until: date | None
    source: str
    """``config`` or ``tag <key>``: where the waiver was written."""
    pattern: str = ""
    """Resource name or URN pattern (config waivers); empty for a tag, which waives its own resource."""

    def expired(self, today: date) -> bool:
        """Whether the expiry date has passed."""
        return self.until is not None and self.until < today

    def matches(self, urn: str, name: str) -> bool:
        """Whether a config waiver's pattern matches the resource's logical name or URN."""
        return fnmatch.fnmatchcase(name, self.pattern) or fnmatch.fnmatchcase(urn, self.pattern)

    def describe(self) -> str:
        """``waived by <source> (<reason>; until <date>)``."""
        until = f"; until {self.until.isoformat()}" if self.until else ""
        return f"waived by {self.source} ({self.reason}{until})"


class WaiverError(ValueError):
    """A waiver cannot be read (no reason, a date that does not exist); the message says which."""


def _date(text: str, where: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise WaiverError(f"{where}: until {text!r} is not a date (YYYY-MM-DD)") from error


def config_waivers(rule: str, config: Mapping[str, Any]) -> list[Waiver]:
    """The waivers in a rule's config (``waivers``: ``[{resource, reason, until?}]``).

    Raises
    ------
    WaiverError
        When an entry has no resource or reason, or its date does not exist. The engine validates the
        schema first (a waiver without a reason stops the run before any resource is analyzed); this
        repeats the check for callers that bypass it.
    """
    waivers: list[Waiver] = []
    for index, entry in enumerate(config.get("waivers") or []):
        where = f"{rule}.waivers[{index}]"
        if not isinstance(entry, Mapping):
            raise WaiverError(f"{where}: must be an object with resource, reason and optional until")
        pattern, reason = str(entry.get("resource") or "").strip(), str(entry.get("reason") or "").strip()
        if not pattern or not reason:
            raise WaiverError(f"{where}: a waiver needs a resource pattern and a reason")
        until = _date(str(entry["until"]), where) if entry.get("until") else None
        waivers.append(Waiver(rule, reason, until, "config", pattern))
    return waivers


def tag_waiver(rule: str, tags: Any) -> Waiver | str | None:
    """The waiver a resource's ``policy:waive:<rule>`` tag declares, a problem with it, or ``None``.

    The value is ``<reason>`` optionally followed by ``until YYYY-MM-DD`` (``; until`` where the service
    allows ``;`` in tag values: IAM, Lambda and most others accept only letters, digits, spaces and
    ``_ . : / = + - @``).
    """
    if not isinstance(tags, Mapping):
        return None
    key = WAIVER_TAG_PREFIX + rule
    try:
        value = tags.get(key)
    except UnknownValueError:
        return None
    if value is None or is_unknown(value):
        return None
    text = str(value).strip()
    until: date | None = None
    match = _TAG_UNTIL.match(text)
    try:
        if match:
            text, until = match["reason"].strip(), _date(match["date"], f"tag {key}")
    except WaiverError as error:
        return str(error)
    if not text:
        return f"tag {key} has no reason: a waiver must say why ('<reason> until YYYY-MM-DD')"
    return Waiver(rule, text, until, f"tag {key}")


def today_utc() -> date:
    """Today's date in UTC, the clock waiver expiry is measured on."""
    return datetime.now(UTC).date()


# ---- outcomes and notes ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """One violation: the message and the resource it is about (``None``: the whole stack)."""

    message: str
    urn: str | None = None


@dataclass
class Outcome:
    """What one rule decided for one resource (resource rules) or the stack (stack rules)."""

    findings: list[Finding] = field(default_factory=list)
    """Violations reported at the rule's enforcement level."""
    waived: list[tuple[Finding, Waiver]] = field(default_factory=list)
    """Violations a waiver accepts: reported as advisory with the waiver's reason."""
    undecided: list[str] = field(default_factory=list)
    """Notes on what could not be decided (values unknown until the update, a rule that failed)."""

    @property
    def messages(self) -> list[str]:
        """The messages of the findings."""
        return [finding.message for finding in self.findings]


@dataclass(frozen=True)
class Subject:
    """What waivers are matched against: a resource's URN, logical name and tags."""

    urn: str
    name: str
    tags: Any = None


class _Notes(threading.local):
    """Advisory notes waiting for the ``pack-notes`` policies, per gRPC worker thread.

    The SDK runs every policy of one ``Analyze`` (or ``AnalyzeStack``) call in order on one thread, and
    ``pack-notes`` comes after every rule, so a rule's notes are reported in the call that made them.
    """

    def __init__(self) -> None:
        self.pending: dict[str, list[str]] = {}


NOTES: Final = _Notes()
_STACK_KEY: Final = "<stack>"


def record_notes(key: str, notes: Iterable[str]) -> None:
    """Queue advisory notes for ``key`` (a resource URN, or the stack), dropping any left from other keys."""
    notes = list(notes)
    if not notes:
        return
    for stale in [other for other in NOTES.pending if other != key]:
        del NOTES.pending[stale]
    NOTES.pending.setdefault(key, []).extend(notes)


def take_notes(key: str) -> list[str]:
    """The notes queued for ``key``, removed from the queue."""
    return NOTES.pending.pop(key, [])


def _schema(info: RuleInfo) -> PolicyConfigSchema:
    properties: dict[str, Any] = {k: dict(v) for k, v in info.config.items()}
    properties["waivers"] = dict(WAIVERS_SCHEMA)
    return PolicyConfigSchema(properties=properties)


def merged_config(info: RuleInfo, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The rule's config: schema defaults, overlaid with what the engine passed in ``Configure``."""
    config = info.config_defaults()
    config["waivers"] = []
    config.update({key: value for key, value in (given or {}).items() if key != "enforcementLevel"})
    return config


ResourceCheck = Callable[["Props", Mapping[str, Any], str], Iterable[str]]
"""A resource rule body: ``(props, config, resource_type) -> violation messages``."""

ResourceFix = Callable[["Props", Mapping[str, Any], str], Mapping[str, Any] | None]
"""A remediation body: ``(props, config, resource_type) -> properties to set`` (``None``: nothing to fix).

Only fixes AWS can never reject at create belong here (see ``tests/policy/test_policy_deployable``)."""

StackCheck = Callable[["StackView", Mapping[str, Any]], Iterable[Finding]]
"""A stack rule body: ``(stack, config) -> findings``."""


def must_be_set(path: str, consequence: str) -> ResourceCheck:
    """A check that ``path`` is set (unknown during preview counts as set): ``"<path> is not set: <consequence>"``."""

    def check(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
        if not props.is_set(path):
            yield f"{path} is not set: {consequence}"

    return check


def must_be_true(path: str, consequence: str) -> ResourceCheck:
    """A check that the boolean at ``path`` is true, absent being false: ``"<path> is not true: <consequence>"``."""

    def check(props: Props, config: Mapping[str, Any], _: str) -> Iterator[str]:
        if props.flag(path, False) is not True:
            yield f"{path} is not true: {consequence}"

    return check


def turn_on(key: str) -> ResourceFix:
    """A fix that sets the top-level boolean ``key`` to true where it is not already."""

    def fix(props: Props, config: Mapping[str, Any], _: str) -> Mapping[str, Any] | None:
        return None if props.flag(key, False) is True else {key: True}

    return fix


class Rule:
    """What every rule shares: metadata, config, waivers, and the one evaluation path.

    :meth:`evaluate` runs a rule body and sorts what it yields into findings, waived findings and
    notes; the engine path (``_validate``) and the direct path (``outcome``/``findings``) both go
    through it, so they cannot disagree.
    """

    info: RuleInfo

    def evaluate(
        self,
        produce: Callable[[], Iterator[Finding]],
        config: Mapping[str, Any],
        subject_of: Callable[[str | None], Subject],
        inspected: Iterable[Subject] = (),
        *,
        pending: Callable[[], list[str]] | None = None,
        today: date | None = None,
    ) -> Outcome:
        """Run a rule body and apply waivers.

        Parameters
        ----------
        produce:
            The body, as a thunk yielding findings (it may raise).
        config:
            The merged rule config.
        subject_of:
            The subject (URN, name, tags) a finding's URN names (``None``: the default subject).
        inspected:
            Every subject the rule looked at, so an expired waiver on one without findings is reported.
        pending:
            Notes the body left behind instead of raising (stack rules), read after it ran.
        today:
            The date expiry is measured on (UTC today by default).
        """
        outcome = Outcome()
        found: list[Finding] = []
        try:
            for finding in produce():  # one by one: what was found before an unknown value still counts
                found.append(finding)
        except CannotEvaluateError as error:
            outcome.undecided.append(error.message)
        except BadValueError as error:
            found.append(Finding(str(error)))
        except Exception as error:  # a raising policy would fail the whole engine run
            outcome.undecided.append(
                f"cannot evaluate: rule {self.info.name} failed with {type(error).__name__}: {error}"
            )
        if pending is not None:
            outcome.undecided.extend(pending())
        try:
            configured = config_waivers(self.info.name, config)
        except WaiverError as error:
            outcome.findings.append(Finding(f"policy config {error}"))
            configured = []
        day = today or today_utc()
        subjects: dict[str, Subject] = {}
        for finding in found:
            subject = subject_of(finding.urn)
            subjects[subject.urn] = subject
            waiver, problem = self._waiver_for(subject, configured)
            if problem:
                outcome.findings.append(Finding(f"{finding.message} ({problem})", finding.urn))
            elif waiver is None:
                outcome.findings.append(finding)
            elif waiver.expired(day):
                expiry = f"the waiver ({waiver.reason}) expired on {waiver.until}: fix this, or renew the waiver"
                outcome.findings.append(Finding(f"{finding.message} ({expiry})", finding.urn))
            else:
                outcome.waived.append((finding, waiver))
        for subject in inspected:
            if subject.urn in subjects:
                continue
            waiver, problem = self._waiver_for(subject, configured)
            if problem:
                outcome.findings.append(Finding(problem, subject.urn or None))
            elif waiver is not None and waiver.expired(day):
                outcome.findings.append(
                    Finding(
                        f"waiver {waiver.describe()} expired on {waiver.until}: remove it (nothing to waive any more) "
                        "or renew it",
                        subject.urn or None,
                    )
                )
        return outcome

    def _waiver_for(self, subject: Subject, configured: list[Waiver]) -> tuple[Waiver | None, str | None]:
        tagged = tag_waiver(self.info.name, subject.tags)
        if isinstance(tagged, str):
            return None, tagged
        if tagged is not None:
            return tagged, None
        for waiver in configured:
            if waiver.matches(subject.urn, subject.name):
                return waiver, None
        return None, None

    def note_lines(self, outcome: Outcome) -> list[tuple[str | None, str]]:
        """The advisory notes of an outcome, as ``(urn, message)``: waived findings, then what was undecided."""
        lines: list[tuple[str | None, str]] = [
            (finding.urn, f"{self.info.name}: {waiver.describe()}: {finding.message}\n{self.info.trailer}")
            for finding, waiver in outcome.waived
        ]
        lines.extend((None, f"{self.info.name}: {note}\n{self.info.trailer}") for note in outcome.undecided)
        return lines

    def message(self, text: str) -> str:
        """A finding as the engine reports it: the text, then the trailing ids-and-version field."""
        return f"{text}\n{self.info.trailer}"


class RuleFields(TypedDict):
    """The metadata every rule is declared with (resource and stack rules alike)."""

    name: str
    """Stable kebab-case policy name."""
    summary: str
    """One line: what good looks like (the policy description and the first line of every message)."""
    anchors: Sequence[str]
    """The public rule ids the rule covers."""
    severity: Severity
    enforcement_level: EnforcementLevel
    """The default level; a stack's pack config may change it."""
    service: str
    """The service module the rule belongs to (the first policy tag)."""
    resource_types: Sequence[str]
    """The pulumi_aws types it inspects."""
    config: NotRequired[Mapping[str, Mapping[str, Any]] | None]
    """JSON schema of its config properties, where a threshold or an allow-list exists."""


def _info(kind: str, remediates: bool, fields: RuleFields) -> RuleInfo:
    return RuleInfo(
        name=fields["name"],
        summary=fields["summary"],
        anchors=tuple(fields["anchors"]),
        severity=fields["severity"],
        enforcement_level=fields["enforcement_level"],
        kind=kind,
        service=fields["service"],
        resource_types=tuple(fields["resource_types"]),
        config=dict(fields.get("config") or {}),
        remediates=remediates,
    )


def _policy_settings(info: RuleInfo) -> dict[str, Any]:
    """What the SDK's policy constructors take from a rule's metadata."""
    return {
        "name": info.name,
        "description": info.description,
        "enforcement_level": info.enforcement_level,
        "config_schema": _schema(info),
        "severity": info.severity,
        "tags": [info.service, *info.anchors],
    }


def _tags(props: Any) -> Any:
    """A resource's ``tags`` (``None`` when absent or unknown)."""
    try:
        return Props(props).get("tags", None)
    except CannotEvaluateError:
        return None


class ResourceRule(Rule, ResourceValidationPolicy):
    """A per-resource rule: applies to ``resource_types``, reports each message its check yields."""

    def __init__(self, *, check: ResourceCheck, fix: ResourceFix | None = None, **fields: Unpack[RuleFields]) -> None:
        self.info = _info("resource", fix is not None, fields)
        self._types = frozenset(self.info.resource_types)
        self._check = check
        self._fix = fix
        super().__init__(
            validate=self._validate,
            # The SDK also accepts a plain (non-awaitable) return from a remediation.
            remediate=cast(ResourceRemediation, self._remediate) if fix is not None else None,
            **_policy_settings(self.info),
        )

    def applies_to(self, resource_type: str) -> bool:
        """Whether this rule inspects resources of ``resource_type``."""
        return resource_type in self._types

    def outcome(
        self,
        props: Mapping[str, Any],
        resource_type: str,
        config: Mapping[str, Any] | None = None,
        *,
        urn: str = "",
        name: str = "",
        today: date | None = None,
    ) -> Outcome:
        """Everything the rule decides for one resource (the engine path reports exactly this)."""
        if resource_type not in self._types:
            return Outcome()
        merged = merged_config(self.info, config)
        subject = Subject(urn, name, _tags(props))

        def produce() -> Iterator[Finding]:
            for message in self._check(Props(props), merged, resource_type):
                yield Finding(message, urn or None)

        return self.evaluate(produce, merged, lambda _: subject, [subject], today=today)

    def findings(
        self, props: Mapping[str, Any], resource_type: str, config: Mapping[str, Any] | None = None, **kw: Any
    ) -> list[str]:
        """Run the check directly (no SDK): the violation messages for one resource.

        Raises
        ------
        CannotEvaluateError
            When a needed value is unknown (:meth:`outcome` keeps the findings made before it).
        """
        outcome = self.outcome(props, resource_type, config, **kw)
        _raise_undecided(outcome)
        return outcome.messages

    def _validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type not in self._types:
            return
        outcome = self.outcome(args.props, args.resource_type, args.get_config(), urn=args.urn, name=args.name)
        for finding in outcome.findings:
            report_violation(self.message(finding.message), None)
        record_notes(args.urn, (text for _, text in self.note_lines(outcome)))

    def _remediate(self, args: ResourceValidationArgs) -> Mapping[str, Any] | None:
        if args.resource_type not in self._types or self._fix is None:
            return None
        config = merged_config(self.info, args.get_config())
        try:
            changes = self._fix(Props(args.props), config, args.resource_type)
        except (UnknownValueError, BadValueError):
            # Unknown or malformed: leave the resource as it is; Analyze reports why.
            return None
        except Exception:  # see Rule.evaluate: never fail the engine; Analyze reports the same resource
            return None
        if not changes:
            return None
        props = args.props
        # The SDK's props proxies support item assignment and keep secrets secret on write; the SDK
        # serializes the returned mapping as the resource's new inputs.
        for key, value in changes.items():
            props[key] = value  # type: ignore[index]
        return props


def _raise_undecided(outcome: Outcome) -> None:
    if outcome.undecided:
        error = CannotEvaluateError("")
        error.message = "; ".join(outcome.undecided)
        raise error


class StackRule(Rule, StackValidationPolicy):
    """A rule over the whole stack, for checks that correlate several resources."""

    def __init__(self, *, check: StackCheck, **fields: Unpack[RuleFields]) -> None:
        self.info = _info("stack", False, fields)
        self._check = check
        super().__init__(validate=self._validate, **_policy_settings(self.info))

    def outcome(
        self, stack: StackView, config: Mapping[str, Any] | None = None, *, today: date | None = None
    ) -> Outcome:
        """Everything the rule decides for the stack (the engine path reports exactly this)."""
        merged = merged_config(self.info, config)

        def produce() -> Iterator[Finding]:
            yield from self._check(stack, merged)

        def subject_of(urn: str | None) -> Subject:
            node = stack.by_urn.get(urn or "")
            if node is None:
                root = stack.root()
                return Subject(root.urn, root.name) if root is not None else Subject(urn or "", "")
            return stack.subject(node)

        inspected = [stack.subject(node) for node in stack.of_type(*self.info.resource_types)]
        try:
            return self.evaluate(produce, merged, subject_of, inspected, pending=stack.take_unresolved, today=today)
        finally:
            stack.unresolved.clear()

    def findings(self, stack: StackView, config: Mapping[str, Any] | None = None, **kw: Any) -> list[Finding]:
        """Run the check directly (no SDK).

        Raises
        ------
        CannotEvaluateError
            When the stack has values the rule needs that are unknown (raised after all findings).
        """
        outcome = self.outcome(stack, config, **kw)
        _raise_undecided(outcome)
        return outcome.findings

    def _validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        stack = StackView.from_policy_resources(args.resources)
        outcome = self.outcome(stack, args.get_config())
        for finding in outcome.findings:
            report_violation(self.message(finding.message), finding.urn)
        root = stack.root()
        default_urn = root.urn if root is not None else ""
        record_notes(_STACK_KEY, (f"{urn or default_urn}\n{text}" for urn, text in self.note_lines(outcome)))


def _notes_policy(name: str, rules: str, undecided: str) -> dict[str, Any]:
    """What both notes policies pass to the SDK: their name, a description, and the advisory level."""
    return {
        "name": name,
        "description": (
            f"Notes from the {rules}: findings a waiver accepts (with its reason) and {undecided} that "
            "cannot be decided until the update runs"
        ),
        "enforcement_level": EnforcementLevel.ADVISORY,
        "severity": Severity.LOW,
    }


class PackNotes(ResourceValidationPolicy):
    """Reports, as advisory, what the rules before it could not decide or found waived on this resource."""

    def __init__(self) -> None:
        super().__init__(validate=self._validate, **_notes_policy("pack-notes", "other rules", "checks"))

    def _validate(self, args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        for note in take_notes(args.urn):
            report_violation(note, None)


class PackStackNotes(StackValidationPolicy):
    """The stack-rule counterpart of :class:`PackNotes`, run after every stack rule."""

    def __init__(self) -> None:
        super().__init__(validate=self._validate, **_notes_policy("pack-notes-stack", "stack rules", "correlations"))

    def _validate(self, args: StackValidationArgs, report_violation: ReportViolation) -> None:
        for note in take_notes(_STACK_KEY):
            urn, text = note.split("\n", 1)
            report_violation(text, urn or None)


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
    config_values: frozenset[str] = frozenset()
    """Every string the stack's config holds (:func:`stack_config_values`): what a value taken from config can be."""
    by_urn: dict[str, Node] = field(default_factory=dict)
    by_type: dict[str, list[Node]] = field(default_factory=dict)
    unresolved: list[str] = field(default_factory=list)
    _indexes: dict[tuple[tuple[str, ...], Any], dict[str, list[Node]]] = field(default_factory=dict)
    _memo: dict[Any, Any] = field(default_factory=dict)
    _subjects: dict[int, Subject] = field(default_factory=dict)
    """``id`` of a node (alive as long as the view) -> its subject."""

    def __post_init__(self) -> None:
        for node in self.nodes:
            self.by_urn[node.urn] = node
            self.by_type.setdefault(node.type, []).append(node)

    @classmethod
    def from_policy_resources(cls, resources: Iterable[PolicyResource]) -> StackView:
        """The view of what the SDK passes a stack policy, shared by the stack policies of one call.

        When the SDK shares property conversion (:mod:`policy_pack._sdk_sharing`), every stack policy of one
        ``AnalyzeStack`` gets the very same property objects, so the view (and the indexes rules build on
        it with :meth:`memo`) is built once per stack rather than once per policy. The last view is kept
        per thread with the objects it was built from, so a matching key can only mean the same stack.
        """
        listed = list(resources)
        key = tuple((id(resource.props), resource.urn) for resource in listed)
        last = _LAST_VIEW.entry
        if last is not None and last[0] == key:
            return last[1]
        view = cls._build(listed)
        _LAST_VIEW.entry = (key, view)
        return view

    @classmethod
    def _build(cls, resources: list[PolicyResource]) -> StackView:
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
        return cls(nodes, config_values=stack_config_values(_engine_config()))

    def subject(self, node: Node) -> Subject:
        """What waivers match ``node`` on (its URN, name and tags), read once per stack for every stack rule."""
        subject = self._subjects.get(id(node))
        if subject is None:
            subject = self._subjects[id(node)] = Subject(node.urn, node.name, _tags(node.props.raw))
        return subject

    def memo(self, key: Any, build: Callable[[], Any]) -> Any:
        """A value computed once per stack (indexes shared by the rules of one ``AnalyzeStack``)."""
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]

    def of_type(self, *types: str) -> list[Node]:
        """Every resource of the given types, in stack order."""
        if len(types) == 1:
            return list(self.by_type.get(types[0], ()))
        wanted = set(types)
        return [node for node in self.nodes if node.type in wanted]

    def cannot_evaluate(self, what: str) -> None:
        """Note something the rule could not decide; reported once, after all findings."""
        self.unresolved.append(what)

    def take_unresolved(self) -> list[str]:
        """One note listing everything noted with :meth:`cannot_evaluate` (empty when nothing was), then forget it."""
        if not self.unresolved:
            return []
        notes = sorted(set(self.unresolved))
        self.unresolved.clear()
        return ["cannot evaluate: " + "; ".join(notes)]

    def root(self) -> Node | None:
        """The stack resource itself (``pulumi:pulumi:Stack``), when the engine sent it."""
        stacks = self.by_type.get(STACK_TYPE)
        return stacks[0] if stacks else None

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


class _LastView(threading.local):
    """The last view :meth:`StackView.from_policy_resources` built on this thread, with its key."""

    entry: tuple[tuple[tuple[int, str], ...], StackView] | None = None


_LAST_VIEW: Final = _LastView()

STACK_TYPE: Final = "pulumi:pulumi:Stack"

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
        # a function ARN, a qualified ARN, or an API Gateway invoke ARN (.../function:<name>/invocations)
        name = value.split(":function:", 1)[1].split(":", 1)[0].split("/", 1)[0]
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


# ---- references between resources (shared by the stack rules of every service) -----------------------


def json_ref(stack: StackView, node: Node, prop: str, key: str, types: tuple[str, ...]) -> list[Node] | None:
    """Resources named by ``key`` inside the JSON document held in ``node``'s property ``prop``.

    Returns ``[]`` when the property is absent or malformed (a resource rule reports that), ``None``
    when it is unknown and no dependency tells the target.
    """
    try:
        document = node.props.json(prop)
    except CannotEvaluateError:
        return stack.resolve_value(node, prop, None, types, generic_identity)
    except BadValueError:
        return []
    if document is ABSENT:
        return []
    value = document.get(key) if isinstance(document, Mapping) else None
    if not isinstance(value, str):
        return []
    return stack.resolve_value(node, prop, value, types, generic_identity)


def is_set(node: Node, path: str) -> bool:
    """Whether ``node`` sets ``path`` (a value that is unknown during preview is set)."""
    return node.props.is_set(path)


def ref(
    stack: StackView, node: Node, path: str, types: tuple[str, ...], identity: IdentityFn = generic_identity
) -> list[Node] | None:
    """Resources named by ``node``'s property ``path`` (``[]`` when it is absent, ``None`` when undecidable)."""
    try:
        if not node.props.has(path):
            return []
    except CannotEvaluateError:
        pass
    return stack.resolve(node, path, types, identity)


def _engine_config() -> Mapping[str, Any]:
    """The stack's config as the engine hands it to the pack, ``{}`` when it is absent or unreadable.

    The engine starts the pack with the stack's config in ``PULUMI_CONFIG``, secrets decrypted, as it starts a
    program (pulumi's analyzer plugin, ``constructEnv``); the SDK reads it there too.
    """
    try:
        config = get_config_env()
    except ValueError:  # not JSON: no rule may fail the engine's call over it
        return {}
    return config if isinstance(config, Mapping) else {}


def stack_config_values(config: Mapping[str, Any]) -> frozenset[str]:
    """Every non-empty string of a stack's config (``{"project:key": value}``) and inside its structured values.

    A property whose value is one of them came from the config (a coincidence with a literal is negligible for
    the values this is used for: passwords).
    """
    values: set[str] = set()

    def collect(value: Any) -> None:
        if isinstance(value, str):
            if value.strip():
                values.add(value)
        elif isinstance(value, Mapping):
            for item in value.values():
                collect(item)
        elif isinstance(value, list):
            for item in value:
                collect(item)

    for value in config.values():
        collect(value)
        if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
            with contextlib.suppress(ValueError):
                collect(json.loads(value))
    return frozenset(values)


def literal_text(node: Node, key: str) -> str | None:
    """``node``'s top-level ``key`` when it is a non-empty string known before the update that no resource produced.

    Such a value was written into the program (so it is in source control) or read from the stack's config
    (compare with :attr:`StackView.config_values`). ``None`` when the key is absent, empty, not a string, unknown
    in a preview (an output of another resource fills it in during the update) or built from another resource's
    outputs (its property dependencies name that resource).
    """
    try:
        value = node.props.get(key, None)
    except CannotEvaluateError:
        return None
    if not isinstance(value, str) or not value.strip() or node.property_dependencies.get(key):
        return None
    return value


def read_str(node: Node, path: str) -> str | None:
    """A string property, ``None`` when it is absent, unknown or not a string."""
    try:
        value = node.props.get(path, None)
    except CannotEvaluateError:
        return None
    return value if isinstance(value, str) else None


def same_target(left: Node, left_path: str, right: Node, right_path: str, right_target: Node) -> bool:
    """Whether two resources' properties name the same thing (by value, or ``left`` depends on ``right_target``)."""
    try:
        left_value = left.props.get(left_path)
        right_value = right.props.get(right_path)
    except CannotEvaluateError:
        left_value = right_value = None
    if isinstance(left_value, str) and isinstance(right_value, str):
        return left_value == right_value
    return right_target.urn in left.property_dependencies.get(left_path, frozenset()) or bool(
        left.property_dependencies.get(left_path, frozenset())
        & right.property_dependencies.get(right_path, frozenset())
    )


def depends_on(node: Node, path: str, target: Node) -> bool:
    """Whether ``node``'s property ``path`` (its top-level key) was built from ``target``'s outputs."""
    return target.urn in node.property_dependencies.get(path.split(".", 1)[0], frozenset())


def arn_of(node: Node) -> str | None:
    """A resource's ARN when it is known."""
    value = read_str(node, "arn")
    return value if value and value.startswith("arn:") else None
