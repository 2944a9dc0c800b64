"""Putting order events on the orderflow bus (EventBridge PutEvents)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from shared.models.events import EVENT_SOURCE

if TYPE_CHECKING:
    from shared.models.common import CorrelatedPayload


class EventPublishError(Exception):
    """EventBridge did not confirm an event; the message carries its error code. Safe to retry.

    ``maybe_accepted`` is False only when EventBridge answered that it did not take the event (the entry
    was rejected, or the call was refused with a 4xx); after a timeout, a lost connection or a 5xx the
    event may have been put all the same.
    """

    def __init__(self, message: str, *, maybe_accepted: bool) -> None:
        super().__init__(message)
        self.maybe_accepted = maybe_accepted


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
        except ClientError as error:
            status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 500)
            message = f"PutEvents failed for {detail_type}: {error}"
            raise EventPublishError(message, maybe_accepted=status >= 500) from error
        except BotoCoreError as error:
            # A timeout or a lost connection: the request may have reached EventBridge and been put.
            raise EventPublishError(f"PutEvents failed for {detail_type}: {error}", maybe_accepted=True) from error
        if response.get("FailedEntryCount", 0):
            failed = response["Entries"][0]
            raise EventPublishError(
                f"EventBridge rejected {detail_type}: {failed.get('ErrorCode')}: {failed.get('ErrorMessage')}",
                maybe_accepted=False,
            )
        return str(response["Entries"][0]["EventId"])
