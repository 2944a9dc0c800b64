"""Stack configuration: every knob a stack can set, its default, and its validation.

``load_settings`` reads ``pulumi.Config`` once and returns a frozen :class:`StackSettings`; a bad value
fails the program before any resource is declared, with the fully qualified key in the message.
The reference of every key is ``docs/configuration.md``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import pulumi

PROJECT = "orderflow"
# CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
WORKFLOW_LOG_LEVELS = ("ALL", "ERROR", "FATAL", "OFF")
_REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_ORIGIN = re.compile(r"^https://[a-z0-9.-]+(:\d+)?$|^http://localhost(:\d+)?$")
_LAYER_VERSION_ARN = re.compile(r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+$")

T = TypeVar("T")


class StackConfigError(pulumi.RunError):
    """A stack config value is missing or invalid; the message names the key."""


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
    reserved_concurrency: int
    api_reserved_concurrency: int
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
    notification_email: str | None
    powertools_layer_arn: str | None


class _Reader:
    """Typed, validated reads from a config source; every error names ``namespace:key``."""

    def __init__(self, source: ConfigSource, namespace: str) -> None:
        self.source = source
        self.namespace = namespace

    def fail(self, key: str, message: str) -> StackConfigError:
        return StackConfigError(f"config '{self.namespace}:{key}': {message}")

    def _parse(self, key: str, default: T, parse: Callable[[str], T], kind: str) -> T:
        raw = self.source.get(key)
        if raw is None or raw == "":
            return default
        try:
            return parse(raw)
        except (ValueError, TypeError, json.JSONDecodeError) as error:
            raise self.fail(key, f"expected {kind}, got {raw!r}") from error

    def integer(self, key: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
        value = self._parse(key, default, int, "an integer")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.fail(key, f"must be at most {maximum}, got {value}")
        return value

    def number(self, key: str, default: float, *, minimum: float) -> float:
        value = self._parse(key, default, float, "a number")
        if value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        def parse(raw: str) -> bool:
            if raw.lower() not in ("true", "false"):
                raise ValueError(raw)
            return raw.lower() == "true"

        return self._parse(key, default, parse, "true or false")

    def choice(self, key: str, default: str, choices: tuple[str, ...]) -> str:
        value = self._parse(key, default, str, "a string")
        if value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def string(self, key: str, default: str | None, *, pattern: re.Pattern[str], kind: str) -> str | None:
        value = self._parse(key, default, str, "a string")
        if value is not None and not pattern.match(value):
            raise self.fail(key, f"expected {kind}, got {value!r}")
        return value

    def string_list(
        self, key: str, default: tuple[str, ...], *, pattern: re.Pattern[str], kind: str
    ) -> tuple[str, ...]:
        def parse(raw: str) -> tuple[str, ...]:
            value: Any = json.loads(raw)
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(raw)
            return tuple(value)

        values = self._parse(key, default, parse, "a list of strings")
        for value in values:
            if not pattern.match(value):
                raise self.fail(key, f"expected each entry to be {kind}, got {value!r}")
        return values


def load_settings(project_config: ConfigSource, aws_config: ConfigSource) -> StackSettings:
    """Read and validate every stack setting.

    Parameters
    ----------
    project_config:
        ``pulumi.Config("orderflow")`` (or a mapping with ``get`` in tests).
    aws_config:
        ``pulumi.Config("aws")``.

    Raises
    ------
    StackConfigError
        Naming the fully qualified key of the first invalid value.
    """
    aws = _Reader(aws_config, "aws")
    region = aws.string("region", None, pattern=_REGION, kind="an AWS region such as eu-west-1")
    if region is None:
        raise aws.fail("region", "is required (pulumi config set aws:region <region>)")

    cfg = _Reader(project_config, PROJECT)
    retention = cfg.integer("logRetentionDays", 14)
    if retention not in LOG_RETENTION_DAYS:
        raise cfg.fail("logRetentionDays", f"CloudWatch Logs accepts {sorted(LOG_RETENTION_DAYS)}, got {retention}")
    alarms_enabled = cfg.boolean("alarmsEnabled", False)
    alarm_email = cfg.string("alarmEmail", None, pattern=_EMAIL, kind="an e-mail address")
    if alarms_enabled and alarm_email is None:
        raise cfg.fail("alarmEmail", "is required when orderflow:alarmsEnabled is true")
    if project_config.get("powertoolsLayerVersion") is not None:
        raise cfg.fail(
            "powertoolsLayerVersion",
            "was removed: Powertools and Pydantic now come from a layer built from handlers/requirements.txt "
            "(the versions the tests run); delete the key, or set orderflow:powertoolsLayerArn to deploy your own",
        )

    return StackSettings(
        region=region,
        log_retention_days=retention,
        log_level=cfg.choice("logLevel", "INFO", LOG_LEVELS),
        reserved_concurrency=cfg.integer("reservedConcurrency", 5, minimum=1, maximum=1000),
        api_reserved_concurrency=cfg.integer("apiReservedConcurrency", 10, minimum=1, maximum=1000),
        queue_max_receive_count=cfg.integer("queueMaxReceiveCount", 5, minimum=1, maximum=1000),
        queue_consumer_max_concurrency=cfg.integer("queueConsumerMaxConcurrency", 2, minimum=2, maximum=1000),
        api_throttle_burst=cfg.integer("apiThrottleBurst", 20, minimum=1, maximum=5000),
        api_throttle_rate=cfg.number("apiThrottleRate", 10.0, minimum=0.1),
        allowed_origins=cfg.string_list(
            "allowedOrigins", ("http://localhost:5173",), pattern=_ORIGIN, kind="an https:// origin (or localhost)"
        ),
        deletion_protection=cfg.boolean("deletionProtection", False),
        archive_retention_days=cfg.integer("archiveRetentionDays", 7, minimum=1, maximum=3650),
        workflow_log_level=cfg.choice("workflowLogLevel", "ERROR", WORKFLOW_LOG_LEVELS),
        alarms_enabled=alarms_enabled,
        alarm_email=alarm_email,
        notification_email=cfg.string("notificationEmail", None, pattern=_EMAIL, kind="an e-mail address"),
        powertools_layer_arn=cfg.string(
            "powertoolsLayerArn", None, pattern=_LAYER_VERSION_ARN, kind="a layer version ARN (…:layer:<name>:<n>)"
        ),
    )
