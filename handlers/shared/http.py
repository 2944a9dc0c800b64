"""JSON replies of the HTTP API functions (Powertools Event Handler responses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, Final

from aws_lambda_powertools.event_handler import Response, content_types

from shared.models.api import ErrorBody, FieldError

if TYPE_CHECKING:
    from pydantic import ValidationError

MAX_LISTED_FIELDS: Final = 10
"""Problems listed in one error reply; the rest are counted. A body with 100,000 unknown keys gets a reply
of a few hundred bytes, not 100,000 entries (Lambda refuses responses over 6 MB)."""
MAX_ECHOED_CHARACTERS: Final = 120
"""Longest field name or message repeated back to the caller; longer ones are cut (a key may be megabytes)."""


def json_response(status: HTTPStatus, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> Response:
    """A JSON reply.

    Parameters
    ----------
    status:
        HTTP status.
    body:
        JSON-serializable body.
    headers:
        Extra headers (``Content-Type`` is set here).

    Returns
    -------
    Response
        For the Event Handler to serialize.
    """
    return Response(
        status_code=status.value,
        content_type=content_types.APPLICATION_JSON,
        body=dict(body),
        headers=dict(headers or {}),
    )


def error_response(
    status: HTTPStatus,
    message: str,
    fields: Sequence[FieldError] = (),
    headers: Mapping[str, str] | None = None,
    *,
    total: int | None = None,
) -> Response:
    """The one error shape of the API: ``{"error": ..., "fields": [{"field": ..., "message": ...}]}``.

    Parameters
    ----------
    status:
        A 4xx or 5xx status.
    message:
        What went wrong, for a human.
    fields:
        Which fields or headers were wrong (empty when the problem is not about a field). At most
        :data:`MAX_LISTED_FIELDS` are listed (the message gives the total), each name and message cut
        to :data:`MAX_ECHOED_CHARACTERS`.
    headers:
        Extra headers, e.g. ``Retry-After``.
    total:
        How many problems there are when ``fields`` lists only some (see :func:`field_errors`).

    Returns
    -------
    Response
        For the Event Handler to serialize.
    """
    listed = [
        FieldError(field=bounded(problem.field), message=bounded(problem.message))
        for problem in fields[:MAX_LISTED_FIELDS]
    ]
    total = max(len(fields), total or 0)
    if total > len(listed):
        message = f"{message} ({total} problems; the first {len(listed)} are listed)"
    body = ErrorBody(error=bounded(message, MAX_ECHOED_CHARACTERS * 2), fields=listed)
    return json_response(status, body.model_dump(mode="json"), headers)


def bounded(text: str, limit: int = MAX_ECHOED_CHARACTERS) -> str:
    """``text``, cut to ``limit`` characters with an ellipsis: what a reply may repeat of the caller's input.

    Parameters
    ----------
    text:
        A field name, message or anything derived from the request.
    limit:
        The most characters kept (the ellipsis included).

    Returns
    -------
    str
        ``text`` itself when short enough.
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


def field_errors(error: ValidationError) -> list[FieldError]:
    """One :class:`FieldError` per Pydantic error, the field named by its dotted wire path.

    Parameters
    ----------
    error:
        Raised while validating a request body.

    Returns
    -------
    list[FieldError]
        E.g. ``items.0.quantity``; a problem with the document as a whole (invalid JSON, not an
        object) is reported on the field ``body``. The offending input is never echoed back. Only the
        first :data:`MAX_LISTED_FIELDS` (``error.error_count()`` is the total), names and messages cut.
    """
    issues = error.errors(include_url=False, include_input=False, include_context=False)[:MAX_LISTED_FIELDS]
    return [
        FieldError(field=bounded(".".join(str(part) for part in issue["loc"]) or "body"), message=bounded(issue["msg"]))
        for issue in issues
    ]
