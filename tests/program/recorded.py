"""Reading recorded inputs: JSON documents, policy statements."""

from __future__ import annotations

import json
from typing import Any


def document(value: Any) -> Any:
    """A JSON document recorded as a string input, parsed."""
    return json.loads(value) if isinstance(value, str) else value


def statements(policy: Any) -> list[dict[str, Any]]:
    """The statements of a policy document (string or dict), as a list."""
    found = document(policy)["Statement"]
    return found if isinstance(found, list) else [found]


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else [value]
