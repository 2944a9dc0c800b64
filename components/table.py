"""``Table``: a DynamoDB table that costs nothing while idle and can be restored to any second.

On-demand capacity (no provisioned minimum billed while idle), point-in-time recovery, encryption
with the AWS-managed key, a TTL attribute, deletion protection from stack config, and optional stream
and global secondary indexes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_aws as aws

from components.children import tags_input

KEY_TYPES = frozenset({"S", "N", "B"})


@dataclass
class KeyAttribute:
    """A key attribute: its name and DynamoDB scalar type."""

    name: str
    """Attribute name."""
    type: str = "S"
    """``S``, ``N`` or ``B``."""


@dataclass
class GlobalIndexArgs:
    """A global secondary index (on-demand, like its table)."""

    name: str
    """Index name."""
    hash_key: KeyAttribute
    """Partition key."""
    range_key: KeyAttribute | None = None
    """Sort key."""
    projection_type: str = "ALL"
    """``ALL``, ``KEYS_ONLY`` or ``INCLUDE``."""


@dataclass
class TableArgs:
    """Inputs of :class:`Table`."""

    hash_key: KeyAttribute
    """Partition key."""
    range_key: KeyAttribute | None = None
    """Sort key."""
    global_indexes: Sequence[GlobalIndexArgs] = ()
    """Global secondary indexes."""
    ttl_attribute: str = "expiresAt"
    """Attribute holding an expiry time in epoch seconds; items without it never expire."""
    deletion_protection: bool = True
    """Refuse ``DeleteTable`` (from stack config; ``False`` stays visible)."""
    point_in_time_recovery: bool = True
    """Continuous backups; ``False`` opts out and stays visible."""
    stream_view_type: str | None = None
    """Enable a stream with this view type (e.g. ``NEW_AND_OLD_IMAGES``)."""
    billing_mode: str = "PAY_PER_REQUEST"
    """On-demand by default; ``PROVISIONED`` bills while idle and stays visible."""
    warm_write_units_per_second: int | None = None
    """Writes per second the table and each index take at once (pre-warmed; a new on-demand table takes 4,000);
    ``None`` warms nothing. AWS bills pre-warming once; it never lowers again."""
    seed_items: Sequence[Mapping[str, Any]] = ()
    """Items written once at creation, in DynamoDB attribute-value JSON (e.g. reference data)."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags of the table, on top of the provider's default tags."""


def attribute_definitions(args: TableArgs) -> list[dict[str, str]]:
    """Every key attribute of the table and its indexes, once each.

    Raises
    ------
    ValueError
        When an attribute has an unknown type or two different types.
    """
    keys = [args.hash_key, args.range_key]
    for index in args.global_indexes:
        keys += [index.hash_key, index.range_key]
    types: dict[str, str] = {}
    for key in keys:
        if key is None:
            continue
        if key.type not in KEY_TYPES:
            raise ValueError(f"key attribute {key.name!r} has unknown type {key.type!r}")
        if types.setdefault(key.name, key.type) != key.type:
            raise ValueError(f"key attribute {key.name!r} is declared with two types")
    return [{"name": name, "type": type_} for name, type_ in types.items()]


def seed_item_suffix(item: Mapping[str, Any], args: TableArgs) -> str:
    """Stable child-name suffix of a seeded item: its key values, lower-cased and URN-safe.

    Raises
    ------
    ValueError
        When the item lacks a key attribute.
    """
    parts = []
    for key in (args.hash_key, args.range_key):
        if key is None:
            continue
        if key.name not in item:
            raise ValueError(f"seed item {item!r} lacks key attribute {key.name!r}")
        (value,) = item[key.name].values()
        parts.append("".join(c if c.isalnum() else "-" for c in str(value).lower()).strip("-"))
    return "-".join(parts)


class Table(pulumi.ComponentResource):
    """An on-demand DynamoDB table with PITR, SSE, TTL and deletion protection."""

    table: aws.dynamodb.Table
    arn: pulumi.Output[str]
    name: pulumi.Output[str]
    stream_arn: pulumi.Output[str] | None

    def __init__(self, name: str, args: TableArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orderflow:storage:Table", name, None, opts)
        warm = (
            {"write_units_per_second": args.warm_write_units_per_second}
            if args.warm_write_units_per_second is not None
            else None
        )
        indexes = [
            aws.dynamodb.TableGlobalSecondaryIndexArgs(
                name=index.name,
                key_schemas=[
                    aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(attribute_name=key.name, key_type=key_type)
                    for key, key_type in ((index.hash_key, "HASH"), (index.range_key, "RANGE"))
                    if key is not None
                ],
                projection_type=index.projection_type,
                warm_throughput=aws.dynamodb.TableGlobalSecondaryIndexWarmThroughputArgs(**warm) if warm else None,
            )
            for index in args.global_indexes
        ]
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            billing_mode=args.billing_mode,
            hash_key=args.hash_key.name,
            range_key=args.range_key.name if args.range_key else None,
            attributes=[aws.dynamodb.TableAttributeArgs(**a) for a in attribute_definitions(args)],
            global_secondary_indexes=indexes or None,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=args.point_in_time_recovery),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
            ttl=aws.dynamodb.TableTtlArgs(attribute_name=args.ttl_attribute, enabled=True),
            deletion_protection_enabled=args.deletion_protection,
            stream_enabled=args.stream_view_type is not None,
            stream_view_type=args.stream_view_type,
            warm_throughput=aws.dynamodb.TableWarmThroughputArgs(**warm) if warm else None,
            tags=tags_input(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        for item in args.seed_items:
            aws.dynamodb.TableItem(
                f"{name}-item-{seed_item_suffix(item, args)}",
                table_name=self.table.name,
                hash_key=self.table.hash_key,
                range_key=self.table.range_key,
                item=json.dumps(item),
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.arn = self.table.arn
        self.name = self.table.name
        self.stream_arn = self.table.stream_arn if args.stream_view_type else None
        self.register_outputs({"arn": self.arn, "name": self.name})
