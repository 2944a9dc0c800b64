"""JSON replies of the HTTP API functions (Powertools Event Handler responses)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types

from shared.models.api import ErrorBody, FieldError

if TYPE_CHECKING:
    from pydantic import ValidationError


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
) -> Response:
    """The one error shape of the API: ``{"error": ..., "fields": [{"field": ..., "message": ...}]}``.

    Parameters
    ----------
    status:
        A 4xx or 5xx status.
    message:
        What went wrong, for a human.
    fields:
        Which fields or headers were wrong (empty when the problem is not about a field).
    headers:
        Extra headers, e.g. ``Retry-After``.

    Returns
    -------
    Response
        For the Event Handler to serialize.
    """
    body = ErrorBody(error=message, fields=list(fields))
    return json_response(status, body.model_dump(mode="json"), headers)


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
        object) is reported on the field ``body``. The offending input is never echoed back.
    """
    return [
        FieldError(field=".".join(str(part) for part in issue["loc"]) or "body", message=issue["msg"])
        for issue in error.errors(include_url=False, include_input=False, include_context=False)
    ]
