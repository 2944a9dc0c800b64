"""Putting order events on the orderflow bus (EventBridge PutEvents)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.models.events import EVENT_SOURCE

if TYPE_CHECKING:
    from shared.models.common import CorrelatedPayload


class EventPublishError(Exception):
    """EventBridge did not accept an event; the message carries its error code. Safe to retry."""


class EventPublisher:
    """Puts order events, with source ``orderflow.orders``, on one bus.

    Parameters
    ----------
    events_client:
        A boto3 ``events`` client (created once per execution environment by the caller).
    event_bus_name:
        Name or ARN of the custom bus.
    """

    def __init__(self, events_client: Any, event_bus_name: str) -> None:
        self._client = events_client
        self._event_bus_name = event_bus_name

    def publish(self, detail_type: str, detail: CorrelatedPayload) -> str:
        """Put one event and confirm EventBridge accepted it.

        PutEvents reports per-entry failures in ``FailedEntryCount`` with HTTP 200, so a call that
        "succeeds" can still have dropped the event: both kinds of failure raise here.

        Parameters
        ----------
        detail_type:
            The contract detail-type, e.g. ``OrderPlaced``.
        detail:
            The detail; its model guarantees ``orderId``, ``customerId`` and ``correlationId``.

        Returns
        -------
        str
            The event id EventBridge assigned.

        Raises
        ------
        EventPublishError
            When the call fails or EventBridge rejects the entry.
        """
        entry = {
            "Source": EVENT_SOURCE,
            "DetailType": detail_type,
            "Detail": detail.model_dump_json(),
            "EventBusName": self._event_bus_name,
        }
        try:
            response = self._client.put_events(Entries=[entry])
        except (ClientError, BotoCoreError) as error:
            raise EventPublishError(f"PutEvents failed for {detail_type}: {error}") from error
        if response.get("FailedEntryCount", 0):
            failed = response["Entries"][0]
            raise EventPublishError(
                f"EventBridge rejected {detail_type}: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}"
            )
        return str(response["Entries"][0]["EventId"])
