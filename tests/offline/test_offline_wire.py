"""Wire structs the offline plan forwards: plain ones are copied as they are, signed values are converted."""

from __future__ import annotations

from typing import Any

from google.protobuf import json_format, struct_pb2
from pulumi.runtime.proto import resource_pb2

from offline.harness import _plain_references, _with_plain_references
from offline.policy_client import engine_struct
from offline.recording import SIGNATURE_KEY, holds_signed_values

RESOURCE_REFERENCE = "5cf8f73096256a8f31e491e813e4eb8e"
ROLE_URN = "urn:pulumi:dev::orderflow::aws:iam/role:Role::orders-role"


def struct_of(value: dict[str, Any]) -> struct_pb2.Struct:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct


PLAIN = {
    "__defaults": ["name"],
    "name": "orders",
    "memorySize": 256,
    "tags": {"stack": "dev", "empty": None},
    "layers": ["arn:aws:lambda:us-east-1:123456789012:layer:powertools:1"],
}
REFERENCING = {**PLAIN, "role": {SIGNATURE_KEY: RESOURCE_REFERENCE, "urn": ROLE_URN, "id": "orders-role-1a2b"}}


def test_only_a_struct_with_a_signed_value_is_said_to_hold_one() -> None:
    assert not holds_signed_values(struct_of(PLAIN))
    assert holds_signed_values(struct_of(REFERENCING))
    assert holds_signed_values(struct_of({"nested": [{"deep": {SIGNATURE_KEY: "any"}}]}))


def test_a_plain_struct_is_forwarded_as_the_json_round_trip_made_it() -> None:
    source = struct_of(PLAIN)
    for skip in (False, True):
        expected = struct_pb2.Struct()
        expected.update(
            {k: v for k, v in json_format.MessageToDict(source).items() if not (skip and k.startswith("__"))}
        )
        forwarded = engine_struct(source, {}, skip_internal_keys=skip)
        assert forwarded == expected
        assert forwarded is not source
    assert "__defaults" not in engine_struct(source, {}, skip_internal_keys=True).fields
    assert "__defaults" in source.fields  # the recorded inputs are left as they were


def test_a_resource_reference_is_forwarded_as_the_resource_id() -> None:
    forwarded = json_format.MessageToDict(engine_struct(struct_of(REFERENCING), {}, skip_internal_keys=True))
    assert forwarded["role"] == "orders-role-1a2b"
    assert "__defaults" not in forwarded


def test_the_mock_monitor_gets_the_request_itself_unless_a_reference_must_become_an_id() -> None:
    plain = resource_pb2.RegisterResourceRequest(type="aws:sqs/queue:Queue", name="orders", object=struct_of(PLAIN))
    assert _plain_references(plain.object) is plain.object
    assert _with_plain_references(plain, "object") is plain

    referencing = resource_pb2.RegisterResourceRequest(
        type="aws:lambda/function:Function", name="orders", object=struct_of(REFERENCING)
    )
    copy = _with_plain_references(referencing, "object")
    assert copy is not referencing
    assert json_format.MessageToDict(copy.object)["role"] == "orders-role-1a2b"
    assert holds_signed_values(referencing.object)  # the program's request is not changed
