"""Naming the state machines' own service calls, and scripting faults into them (see ``ServiceFaultInjector``).

A Task state's call is named by what it does, read from its parameters, so a test can say "lose the
response of MarkFulfilled" without knowing how the interpreter calls it:

* ``dynamodb:UpdateItem:<target status>`` (``:attention`` for the park mark), ``dynamodb:<Operation>``;
* ``events:PutEvents:<detail-type>``; ``s3:PutObject``; ``sqs:SendMessage``; ``stepfunctions:StartExecution``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any, Final

from tests.workflows.flowkit import ServiceFaultInjector, ServiceFaultKind

_RECEIPT_KEY: Final = re.compile(r"^receipts/[^/]+/(?P<order_id>[^/]+)\.json$")


def call_name(service: str, operation: str, parameters: Mapping[str, Any]) -> str:
    """What one service call of a state machine does, e.g. ``dynamodb:UpdateItem:FULFILLED``."""
    name = f"{service}:{operation}"
    if service == "dynamodb" and operation == "UpdateItem":
        values = parameters.get("ExpressionAttributeValues") or {}
        if ":status" in values:
            return f"{name}:{values[':status'].get('S')}"
        if ":attention" in values:
            return f"{name}:attention"
    if service == "events" and operation == "PutEvents":
        return f"{name}:{(parameters.get('Entries') or [{}])[0].get('DetailType')}"
    return name


def order_of_call(service: str, parameters: Mapping[str, Any]) -> str:
    """The order id a state machine's service call is about ("" when it names none)."""
    if service == "dynamodb":
        return str(((parameters.get("Key") or {}).get("orderId") or {}).get("S", ""))
    if service == "events":
        detail = (parameters.get("Entries") or [{}])[0].get("Detail") or {}
        return str((json.loads(detail) if isinstance(detail, str) else detail).get("orderId", ""))
    if service == "s3":
        match = _RECEIPT_KEY.match(str(parameters.get("Key", "")))
        return match["order_id"] if match else ""
    if service == "sqs":
        body = parameters.get("MessageBody") or "{}"
        message = json.loads(body) if isinstance(body, str) else body
        return str(message.get("orderId") or (message.get("detail") or {}).get("orderId", ""))
    if service == "stepfunctions":
        return str(parameters.get("name", parameters.get("Name", ""))).removeprefix("order-")
    return ""


class ScriptedServiceFaults(ServiceFaultInjector):
    """Faults for named calls: call name → the fault of its 1st, 2nd, ... call, or one fault for every call.

    Parameters
    ----------
    script:
        E.g. ``{"dynamodb:UpdateItem:FULFILLED": ["lost-response"], "s3:PutObject": "error"}``.
    """

    def __init__(self, script: Mapping[str, Sequence[ServiceFaultKind | None] | ServiceFaultKind]) -> None:
        self.script = dict(script)
        self.calls: Counter[str] = Counter()
        self.injected: list[tuple[str, ServiceFaultKind]] = []
        self._lock = threading.Lock()

    def decide(self, service: str, operation: str, parameters: Mapping[str, Any]) -> ServiceFaultKind | None:
        """The scripted fault for this call of its name, if any."""
        name = call_name(service, operation, parameters)
        with self._lock:
            self.calls[name] += 1
            planned = self.script.get(name)
            if isinstance(planned, str):
                fault: ServiceFaultKind | None = planned
            else:
                faults = list(planned or [])
                fault = faults[self.calls[name] - 1] if self.calls[name] <= len(faults) else None
            if fault is not None:
                self.injected.append((name, fault))
            return fault
