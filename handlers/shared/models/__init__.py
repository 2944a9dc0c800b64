"""Pydantic v2 models for every API body, bus event and workflow payload (names per docs/contracts.md).

Split by consumer so a function imports only the models it uses: ``common`` (base classes and
enums), ``api`` (HTTP bodies), ``events`` (EventBridge details), ``envelope`` (the event as a target
receives it), ``workflow`` (Step Functions payloads).
"""
