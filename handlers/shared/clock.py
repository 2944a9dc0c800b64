"""The one way handlers write a time: UTC, ISO 8601, with a literal ``Z`` (``2026-01-31T12:00:00Z``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal


def utc_timestamp(moment: datetime | None = None, timespec: Literal["seconds", "milliseconds"] = "seconds") -> str:
    """``moment`` (default: now; timezone-aware) in UTC, e.g. ``2026-01-31T12:00:00Z`` or ``...12:00:00.000Z``."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec=timespec).replace("+00:00", "Z")
