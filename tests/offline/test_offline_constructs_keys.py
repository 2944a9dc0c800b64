"""A model may name one of two same-named children by type, and derive a child's input from another's output.

awsx names a subnet, its route table and their association alike (``vpc-public-1``), parents an Elastic IP on
the subnet and a route on the table, and writes a trail bucket's policy from the bucket's ARN: the engine must
resolve ``"<type>::<name>"`` to that child and apply :attr:`Ref.apply` to the known output only.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from offline import constructs
from offline.constructs import UNKNOWN, Child, ComponentModel, ConstructContext, Ref
from offline.harness import run_program_dir
from offline.recording import ProgramRun
from orderflow import pulumi_files

PROGRAM = """
import pulumi


class Network(pulumi.ComponentResource):
    def __init__(self, name, opts=None):
        super().__init__("example:index:Network", name, {}, opts, remote=True)


Network("net")
"""

SUBNET, TABLE, BUCKET = "aws:ec2/subnet:Subnet", "aws:ec2/routeTable:RouteTable", "aws:s3/bucket:Bucket"


def build_network(inputs: Mapping[str, Any], context: ConstructContext) -> list[Child]:
    subnet, table = f"{SUBNET}::net-public-1", f"{TABLE}::net-public-1"
    return [
        Child(SUBNET, "net-public-1", {"cidrBlock": "10.0.0.0/24"}),
        Child(TABLE, "net-public-1", {"vpcId": "vpc-1"}, parent=subnet, depends_on=(subnet,)),
        Child("aws:ec2/eip:Eip", "net-1", {}, parent=subnet),
        Child("aws:ec2/route:Route", "net-public-1", {"routeTableId": Ref(table)}, parent=table),
        Child(BUCKET, "net-logs", {}),
        Child(
            "aws:s3/bucketPolicy:BucketPolicy",
            "net-logs",
            {"bucket": Ref("net-logs", "bucket"), "policy": Ref(f"{BUCKET}::net-logs", "arn", lambda arn: f"{arn}/*")},
        ),
    ]


def run_network(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, first_preview: bool) -> ProgramRun:
    monkeypatch.setitem(constructs.MODELS, "example:index:Network", ComponentModel(build_network, "example 1.x"))
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / "Pulumi.yaml").write_text("name: probe\nruntime: python\n")
    (tmp_path / "__main__.py").write_text(textwrap.dedent(PROGRAM).lstrip())
    return run_program_dir(tmp_path, files=pulumi_files, first_preview=first_preview)


def test_a_typed_key_names_the_child_meant_among_same_named_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    recorded = run_network(tmp_path, monkeypatch, first_preview=False)
    by_type = {(record.type, record.name): record for record in recorded.resources}
    subnet, table = by_type[SUBNET, "net-public-1"], by_type[TABLE, "net-public-1"]
    assert by_type["aws:ec2/eip:Eip", "net-1"].parent == subnet.urn
    assert table.parent == subnet.urn and table.dependencies == (subnet.urn,)
    route = by_type["aws:ec2/route:Route", "net-public-1"]
    assert route.parent == table.urn and route.inputs["routeTableId"] == table.id


def test_an_applied_reference_is_derived_from_the_known_output_and_unknown_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    after_create = run_network(tmp_path / "update", monkeypatch, first_preview=False)
    by_type = {(record.type, record.name): record for record in after_create.resources}
    bucket, policy = by_type[BUCKET, "net-logs"], by_type["aws:s3/bucketPolicy:BucketPolicy", "net-logs"]
    assert policy.inputs["policy"] == f"{bucket.outputs['arn']}/*" and policy.inputs["bucket"] == bucket.id
    first = run_network(tmp_path / "first", monkeypatch, first_preview=True)
    policy = next(record for record in first.resources if record.type == "aws:s3/bucketPolicy:BucketPolicy")
    assert policy.inputs_struct["policy"] == UNKNOWN
