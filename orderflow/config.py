"""Stack configuration: every knob a stack can set, its default, and its validation.

``load_settings`` reads ``pulumi.Config`` once and returns a frozen :class:`StackSettings`; a bad value
fails the program before any resource is declared, with the fully qualified key in the message.

The keys, their types and defaults are declared once, in ``Pulumi.yaml``'s ``config`` block: a key read
here must be declared there, a default comes from there, and a key the stack sets that is not declared
(a typo, a removed knob) fails naming the nearest declared key. The reference is ``docs/configuration.md``.
"""

from __future__ import annotations

import difflib
import functools
import importlib.util
import json
import math
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, TypeVar

import pulumi
from pulumi.runtime import config as runtime_config

from components.workflow import LOG_LEVELS as WORKFLOW_LOG_LEVELS
from orderflow.pulumi_files import ConfigDeclaration, read_config_declarations

PROJECT = "orderflow"
PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"
# Namespaces a stack may use besides the project's: the AWS provider's and the engine's own.
OTHER_NAMESPACES = ("aws", "pulumi")
# YAML 1.1 booleans that YAML 1.2 (the Pulumi CLI) reads as strings.
_YAML11_BOOLEANS = frozenset({"yes", "no", "on", "off", "y", "n"})
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORIGIN = re.compile(r"^https://[a-z0-9.-]+(:\d+)?$|^http://localhost(:\d+)?$")
_LAYER_VERSION_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+$")

REQUIRED_DEFAULT_TAGS = ("project", "stack", "owner", "cost-centre")
"""Tags ``aws:defaultTags`` must set: the provider adds them to every taggable resource of the stack."""
_TAG_KEY = re.compile(r"^[\w .:/=+@-]{1,128}$")
_TAG_VALUE = re.compile(r"^[\w .:/=+@-]{0,256}$")

T = TypeVar("T")

REMOVED_KEYS = {
    "powertoolsLayerVersion": "was removed: Powertools and Pydantic now come from a layer built from "
    "handlers/requirements.txt (the versions the tests run); delete the key, or set orderflow:powertoolsLayerArn "
    "to deploy your own",
    "notificationEmail": "was removed: customers are no longer e-mailed each status (the order page shows it, live "
    "over IoT Core); set orderflow:operatorEmail for a digest of failed and parked orders (docs/operations.md, "
    '"Who is told what"), or delete the key',
}
"""Keys earlier versions read, each with what to do instead."""


class StackConfigError(pulumi.RunError):
    """A stack config value is missing or invalid; the message names the key."""


@functools.cache
def declared_keys(project_file: Path = PROJECT_FILE) -> dict[str, ConfigDeclaration]:
    """The project's config keys as ``Pulumi.yaml`` declares them (key without namespace → declaration)."""
    return read_config_declarations(project_file)


class ConfigSource(Protocol):
    """What :func:`load_settings` reads: ``pulumi.Config`` or a plain mapping in tests."""

    def get(self, key: str) -> str | None:
        """Raw value of ``key`` (without namespace), or ``None`` when unset."""
        ...


@dataclass(frozen=True)
class StackSettings:
    """Validated configuration of one stack.

    Every field maps to a config key of the same name in camelCase under the ``orderflow``
    namespace (``reservedConcurrency`` → ``orderflow:reservedConcurrency``), except ``region``
    (``aws:region``).
    """

    region: str
    log_retention_days: int
    log_level: str
    reserved_concurrency: int | None
    api_reserved_concurrency: int | None
    queue_max_receive_count: int
    queue_consumer_max_concurrency: int
    api_throttle_burst: int
    api_throttle_rate: float
    allowed_origins: tuple[str, ...]
    deletion_protection: bool
    archive_retention_days: int
    workflow_log_level: str
    alarms_enabled: bool
    alarm_email: str | None
    operator_email: str | None
    notify_reserved_concurrency: int | None
    table_warm_write_units: int | None
    powertools_layer_arn: str | None
    default_tags: tuple[tuple[str, str], ...] = ()
    """``aws:defaultTags``' tags (the provider applies them; validated here so a typo names the key)."""


class _Reader:
    """Typed, validated reads from a config source; every error names ``namespace:key``.

    A project key's default is its ``Pulumi.yaml`` declaration's; reading an undeclared project key is a
    bug in the program and raises ``KeyError``.
    """

    def __init__(self, source: ConfigSource, namespace: str, declarations: dict[str, ConfigDeclaration]) -> None:
        self.source = source
        self.namespace = namespace
        self.declarations = declarations

    def fail(self, key: str, message: str) -> StackConfigError:
        return StackConfigError(f"config '{self.namespace}:{key}': {message}")

    def _raw(self, key: str) -> str:
        raw = self.source.get(key)
        if raw:  # unset or empty: the declared default, as before a value was set
            return raw
        if self.namespace != PROJECT:
            return ""
        if key not in self.declarations:
            raise KeyError(f"config '{PROJECT}:{key}' is read but not declared in Pulumi.yaml's config block")
        return self.declarations[key].default_text

    def _parse(self, key: str, parse: Callable[[str], T], kind: str) -> T | None:
        raw = self._raw(key)
        if raw == "":
            return None
        try:
            return parse(raw)
        except (ValueError, TypeError, json.JSONDecodeError) as error:
            raise self.fail(key, f"expected {kind}, got {raw!r}") from error

    def _required(self, key: str, parse: Callable[[str], T], kind: str) -> T:
        value = self._parse(key, parse, kind)
        if value is None:
            raise self.fail(key, f"expected {kind}, got ''")
        return value

    def integer(self, key: str, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._required(key, int, "an integer")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(key, f"must be at most {maximum}, got {value}")
        return value

    def optional_integer(self, key: str, *, minimum: int, maximum: int) -> int | None:
        """An integer in ``minimum..maximum``, or ``None`` when the key is unset or 0 (its declared default)."""
        if self._raw(key) in ("", "0"):
            return None
        return self.integer(key, minimum=minimum, maximum=maximum)

    def number(self, key: str, *, minimum: float) -> float:
        raw = self._raw(key)
        if raw.strip().lower().lstrip("+-") in (".nan", ".inf"):
            raise self.fail(key, f"must be a finite number, got {raw!r}")
        value = self._required(key, float, "a number")
        if not math.isfinite(value):
            raise self.fail(key, f"must be a finite number, got {raw!r}")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def boolean(self, key: str) -> bool:
        raw = self._raw(key)
        if raw.lower() in _YAML11_BOOLEANS:
            raise self.fail(
                key,
                f"expected true or false, got {raw!r} (the Pulumi CLI reads stack files as YAML 1.2, "
                "where yes/no/on/off are strings)",
            )

        def parse(text: str) -> bool:
            if text.lower() not in ("true", "false"):
                raise ValueError(text)
            return text.lower() == "true"

        return self._required(key, parse, "true or false")

    def choice(self, key: str, choices: tuple[str, ...]) -> str:
        value = self._required(key, str, "a string")
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def string(self, key: str, *, pattern: re.Pattern[str], kind: str) -> str | None:
        value = self._parse(key, str, "a string")
        if value is not None and not pattern.match(value):
            raise self.fail(key, f"expected {kind}, got {value!r}")
        return value

    def string_list(self, key: str, *, pattern: re.Pattern[str], kind: str) -> tuple[str, ...]:
        def parse(raw: str) -> tuple[str, ...]:
            value: Any = json.loads(raw)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(raw)
            return tuple(value)

        values = self._parse(key, parse, "a list of strings") or ()
        for value in values:
            if not pattern.match(value):
                raise self.fail(key, f"expected each entry to be {kind}, got {value!r}")
        return values


def config_keys_in_use(sources: dict[str, ConfigSource]) -> set[str]:
    """Fully qualified keys the stack sets, given each source by its namespace.

    A ``pulumi.Config`` is backed by the engine's whole config map (``PULUMI_CONFIG`` under the real
    engine, ``set_all_config`` under the offline harness); a mapping source (tests) lists its own keys.
    """
    keys: set[str] = set()
    for namespace, source in sources.items():
        if isinstance(source, pulumi.Config):
            keys |= {str(key) for key in runtime_config.CONFIG.get()}
            keys |= {str(key) for key in runtime_config.get_config_env()}
        elif isinstance(source, Collection):
            keys |= {f"{namespace}:{key}" for key in source}
    return keys


@functools.cache
def aws_provider_keys() -> frozenset[str]:
    """The ``aws:`` settings the installed AWS provider reads (its SDK's ``pulumi_aws/config/vars.py``).

    The provider's generated SDK reads each of its settings as ``__config__.get...('<key>')``; reading the
    file (not importing it) keeps the list the pinned provider version's own.
    """
    spec = importlib.util.find_spec("pulumi_aws")
    if spec is None or not spec.submodule_search_locations:
        raise StackConfigError("the pulumi_aws package is not installed: run `make install`")
    source = (Path(next(iter(spec.submodule_search_locations))) / "config" / "vars.py").read_text()
    return frozenset(re.findall(r"__config__\.get\w*\('(\w+)'", source))


def _nearest(key: str, candidates: Collection[str]) -> str | None:
    """The candidate closest to ``key`` (case-insensitive), if one is close enough to be a typo of it."""
    by_lower = {candidate.lower(): candidate for candidate in candidates}
    close = difflib.get_close_matches(key.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[close[0]] if close else None


def _edit_distance(first: str, second: str) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) turning ``first`` into ``second``."""
    previous2: list[int] = []
    previous = list(range(len(second) + 1))
    for i, a in enumerate(first, 1):
        current = [i]
        for j, b in enumerate(second, 1):
            cost = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
            if i > 1 and j > 1 and a == second[j - 2] and first[i - 2] == b:
                cost = min(cost, previous2[j - 2] + 1)
            current.append(cost)
        previous2, previous = previous, current
    return previous[-1]


def check_known_keys(keys: Collection[str], declared: Collection[str], project: str = PROJECT) -> None:
    """Refuse unknown keys: the project's undeclared ones, ``aws:`` ones the provider ignores, typo namespaces.

    Parameters
    ----------
    keys:
        Fully qualified keys the stack sets.
    declared:
        The project's declared keys (without namespace).
    project:
        The project's namespace.

    Raises
    ------
    StackConfigError
        One line per unknown key, each naming the nearest declared key when one is close.
    """
    problems: list[str] = []
    for full_key in sorted(keys):
        namespace, _, key = full_key.partition(":")
        if namespace == project:
            if key in declared:
                continue
            close = _nearest(key, declared)
            hint = f"did you mean '{project}:{close}'?" if close else "no declared key is close"
            problems.append(
                f"config '{full_key}': unknown key; {hint} (every key is declared in Pulumi.yaml's config block)"
            )
        elif namespace == "aws":
            provider_keys = aws_provider_keys()
            if key in provider_keys:
                continue
            close = _nearest(key, provider_keys)
            hint = f"did you mean 'aws:{close}'?" if close else "no setting of the AWS provider is close"
            problems.append(f"config '{full_key}': unknown key; {hint} (the AWS provider reads no such setting)")
        elif namespace not in OTHER_NAMESPACES:
            # Another provider's namespace is fine; one or two typos away from a known one is not.
            nearest = min((project, *OTHER_NAMESPACES), key=lambda candidate: _edit_distance(namespace, candidate))
            if _edit_distance(namespace, nearest) <= min(2, len(nearest) // 2):
                problems.append(
                    f"config '{full_key}': unknown namespace '{namespace}'; did you mean '{nearest}:{key}'?"
                )
    if problems:
        raise StackConfigError("\n".join(problems))


def default_tags(raw: str, stack: str | None, project: str = PROJECT) -> tuple[tuple[str, str], ...]:
    """Validate ``aws:defaultTags`` (``{"tags": {...}}`` as the engine passes it) and return its tags.

    Parameters
    ----------
    raw:
        The key's value as the engine passes it ("" when unset: no default tags).
    stack:
        The stack's name, which the ``stack`` tag must equal (``None`` skips that check).
    project:
        The project's name, which the ``project`` tag must equal.

    Raises
    ------
    StackConfigError
        Naming ``aws:defaultTags`` and what is wrong: not ``{"tags": {key: value}}``, a required tag
        missing (:data:`REQUIRED_DEFAULT_TAGS`), a key or value AWS refuses, or a ``project``/``stack``
        tag that is not this project's or stack's (a stack file copied without editing).
    """

    def fail(message: str) -> StackConfigError:
        return StackConfigError(f"config 'aws:defaultTags': {message}")

    if not raw:
        return ()
    try:
        value: Any = json.loads(raw)
    except json.JSONDecodeError as error:
        raise fail(f"expected a map with a 'tags' map, got {raw!r}") from error
    tags = value.get("tags") if isinstance(value, dict) else None
    if not isinstance(tags, dict) or not all(isinstance(item, str) for item in (*tags, *tags.values())):
        raise fail(f"expected a map with a 'tags' map of strings, got {raw!r}")
    missing = [key for key in REQUIRED_DEFAULT_TAGS if not tags.get(key)]
    if missing:
        raise fail(
            f"tags {', '.join(missing)} are required (each stack tags its resources with "
            f"{', '.join(REQUIRED_DEFAULT_TAGS)})"
        )
    for key, text in sorted(tags.items()):
        if key.lower().startswith("aws:") or not _TAG_KEY.match(key) or not _TAG_VALUE.match(text):
            raise fail(f"tag {key!r}: {text!r} is not a tag AWS accepts (key up to 128, value up to 256 characters)")
    for key, expected in (("project", project), ("stack", stack)):
        if expected is not None and tags[key] != expected:
            raise fail(f"tag {key!r} must be {expected!r} (this {key}), got {tags[key]!r}")
    return tuple(sorted(tags.items()))


def load_settings(project_config: ConfigSource, aws_config: ConfigSource, stack: str | None = None) -> StackSettings:
    """Read and validate every stack setting.

    Parameters
    ----------
    project_config:
        ``pulumi.Config("orderflow")`` (or a mapping with ``get`` in tests).
    aws_config:
        ``pulumi.Config("aws")``.
    stack:
        The stack's name, checked against the ``stack`` tag of ``aws:defaultTags``.

    Raises
    ------
    StackConfigError
        Naming the fully qualified key of the first invalid value, or every key ``Pulumi.yaml`` does not
        declare (with the nearest declared key).
    """
    declarations = declared_keys()
    # A removed key gets its own message, before the unknown-key check would suggest a near name.
    for key, why in REMOVED_KEYS.items():
        if project_config.get(key) is not None:
            raise StackConfigError(f"config '{PROJECT}:{key}': {why}")
    check_known_keys(config_keys_in_use({PROJECT: project_config, "aws": aws_config}), declarations)
    aws = _Reader(aws_config, "aws", declarations)
    region = aws.string("region", pattern=_REGION, kind="an AWS region such as eu-west-1")
    if region is None:
        raise aws.fail("region", "is required (pulumi config set aws:region <region>)")

    cfg = _Reader(project_config, PROJECT, declarations)
    retention = cfg.integer("logRetentionDays")
    if retention not in LOG_RETENTION_DAYS:
        raise cfg.fail("logRetentionDays", f"CloudWatch Logs accepts {sorted(LOG_RETENTION_DAYS)}, got {retention}")
    alarms_enabled = cfg.boolean("alarmsEnabled")
    alarm_email = cfg.string("alarmEmail", pattern=_EMAIL, kind="an e-mail address")
    if alarms_enabled and alarm_email is None:
        raise cfg.fail("alarmEmail", "is required when orderflow:alarmsEnabled is true")

    return StackSettings(
        region=region,
        log_retention_days=retention,
        log_level=cfg.choice("logLevel", LOG_LEVELS),
        # 0 by default, no reservation: any reservation fails on a new account (its concurrency quota is 10,
        # and Lambda keeps 10 unreserved); set both where the account's quota leaves room.
        reserved_concurrency=cfg.optional_integer("reservedConcurrency", minimum=1, maximum=1000),
        api_reserved_concurrency=cfg.optional_integer("apiReservedConcurrency", minimum=1, maximum=1000),
        queue_max_receive_count=cfg.integer("queueMaxReceiveCount", minimum=1, maximum=1000),
        queue_consumer_max_concurrency=cfg.integer("queueConsumerMaxConcurrency", minimum=2, maximum=1000),
        api_throttle_burst=cfg.integer("apiThrottleBurst", minimum=1, maximum=5000),
        api_throttle_rate=cfg.number("apiThrottleRate", minimum=0.1),
        allowed_origins=cfg.string_list("allowedOrigins", pattern=_ORIGIN, kind="an https:// origin (or localhost)"),
        deletion_protection=cfg.boolean("deletionProtection"),
        archive_retention_days=cfg.integer("archiveRetentionDays", minimum=1, maximum=3650),
        workflow_log_level=cfg.choice("workflowLogLevel", WORKFLOW_LOG_LEVELS),
        alarms_enabled=alarms_enabled,
        alarm_email=alarm_email,
        operator_email=cfg.string("operatorEmail", pattern=_EMAIL, kind="an e-mail address"),
        notify_reserved_concurrency=cfg.optional_integer("notifyReservedConcurrency", minimum=1, maximum=1000),
        # DynamoDB's bounds: a new on-demand table's 4,000 writes/s up to its 40,000 table default.
        table_warm_write_units=cfg.optional_integer("tableWarmWriteUnits", minimum=4000, maximum=40000),
        powertools_layer_arn=cfg.string(
            "powertoolsLayerArn", pattern=_LAYER_VERSION_ARN, kind="a layer version ARN (…:layer:<name>:<n>)"
        ),
        default_tags=default_tags(aws_config.get("defaultTags") or "", stack),
    )
