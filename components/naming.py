"""Physical names: one function per naming rule, so two components never name a resource two ways.

Every physical name starts ``<project>-<stack>-<name>`` (:func:`physical_name`), then fits the service's
rule: :func:`fit` keeps a name that is short enough exactly as it is, and shortens a longer one to its
prefix plus ``-<8 hex digits of its SHA-256>``, so two long names that share a prefix cannot collide and
the same name always shortens the same way. Nothing here imports Pulumi.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

HASH_LENGTH: Final = 8
"""Hex digits of the SHA-256 appended to a shortened name."""

# Service limits on physical names (each service's API reference).
LAMBDA_FUNCTION: Final = 64
STATE_MACHINE: Final = 80
EVENT_BUS: Final = 256
EVENT_RULE: Final = 64
EVENT_ARCHIVE: Final = 48
LAMBDA_LAYER: Final = 140
HTTP_API: Final = 128
COGNITO_USER_POOL: Final = 128
IOT_AUTHORIZER: Final = 128
CLOUDFRONT_FUNCTION: Final = 64
CLOUDFRONT_ORIGIN_ACCESS_CONTROL: Final = 64
CLOUDFRONT_RESPONSE_HEADERS_POLICY: Final = 128

# IoT Core authorizer names allow letters, digits and ``_=,@-`` only; ``_`` keeps them readable in MQTT URLs.
_IOT_DISALLOWED: Final = re.compile(r"[^A-Za-z0-9_=,@]")


def short_hash(name: str) -> str:
    """The first :data:`HASH_LENGTH` hex digits of the SHA-256 of ``name``: stable across runs and machines."""
    return hashlib.sha256(name.encode()).hexdigest()[:HASH_LENGTH]


def fit(name: str, limit: int) -> str:
    """``name`` itself when it has at most ``limit`` characters, else its prefix and ``-<hash of name>``.

    Parameters
    ----------
    name:
        The full name.
    limit:
        The service's maximum length.

    Raises
    ------
    ValueError
        When the limit leaves no room for a prefix and the hash.
    """
    if limit <= HASH_LENGTH + 1:
        raise ValueError(f"limit {limit} leaves no room for a name and its {HASH_LENGTH}-digit hash")
    if len(name) <= limit:
        return name
    return f"{name[: limit - HASH_LENGTH - 1]}-{short_hash(name)}"


def physical_name(project: str, stack: str, name: str, limit: int | None = None) -> str:
    """``<project>-<stack>-<name>``, fitted to ``limit`` when one is given (see :func:`fit`)."""
    full = f"{project}-{stack}-{name}"
    return full if limit is None else fit(full, limit)


def function_name(project: str, stack: str, name: str) -> str:
    """Lambda function name (64 characters)."""
    return physical_name(project, stack, name, LAMBDA_FUNCTION)


def state_machine_name(project: str, stack: str, name: str) -> str:
    """Step Functions state machine name (80 characters)."""
    return physical_name(project, stack, name, STATE_MACHINE)


def event_bus_name(project: str, stack: str, name: str) -> str:
    """EventBridge custom bus name (256 characters)."""
    return physical_name(project, stack, name, EVENT_BUS)


def event_rule_name(bus_name: str, rule: str) -> str:
    """EventBridge rule name: the bus name and the rule's role (64 characters)."""
    return fit(f"{bus_name}-{rule}", EVENT_RULE)


def event_archive_name(bus_name: str) -> str:
    """EventBridge archive name of a bus (48 characters)."""
    return fit(f"{bus_name}-archive", EVENT_ARCHIVE)


def iot_name(project: str, stack: str, name: str, limit: int = IOT_AUTHORIZER) -> str:
    """IoT Core name: characters IoT refuses (``-`` included) become ``_``, then fitted to ``limit``."""
    return _IOT_DISALLOWED.sub("_", fit(f"{project}-{stack}-{name}", limit))
