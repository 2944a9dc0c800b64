"""Table: on-demand DynamoDB with PITR, encryption, TTL and deletion protection; opt-outs stay visible."""

from __future__ import annotations

import json

from components.table import GlobalIndexArgs, KeyAttribute, Table, TableArgs
from tests.components.conftest import TAGS, build

TABLE = "aws:dynamodb/table:Table"
ITEM = "aws:dynamodb/tableItem:TableItem"


def test_defaults_on_demand_recoverable_encrypted_protected_with_ttl() -> None:
    built = build(lambda: Table("orders", TableArgs(hash_key=KeyAttribute("id"), tags=TAGS)))

    assert built.component.type == "orderflow:storage:Table"
    assert built.kinds() == {(TABLE, "orders-table")}
    assert built.inputs("orders-table") == {
        "billingMode": "PAY_PER_REQUEST",
        "hashKey": "id",
        "attributes": [{"name": "id", "type": "S"}],
        "pointInTimeRecovery": {"enabled": True},
        "serverSideEncryption": {"enabled": True},
        "ttl": {"attributeName": "expiresAt", "enabled": True},
        "deletionProtectionEnabled": True,
        "streamEnabled": False,
    }


def test_sort_key_and_index_declare_each_attribute_once() -> None:
    args = TableArgs(
        hash_key=KeyAttribute("orderId"),
        range_key=KeyAttribute("at", "N"),
        global_indexes=[GlobalIndexArgs("byCustomer", KeyAttribute("customerId"), KeyAttribute("at", "N"))],
        tags=TAGS,
    )
    inputs = build(lambda: Table("orders", args)).inputs("orders-table")

    assert inputs["rangeKey"] == "at"
    assert inputs["attributes"] == [
        {"name": "orderId", "type": "S"},
        {"name": "at", "type": "N"},
        {"name": "customerId", "type": "S"},
    ]
    assert inputs["globalSecondaryIndexes"] == [
        {
            "name": "byCustomer",
            "keySchemas": [
                {"attributeName": "customerId", "keyType": "HASH"},
                {"attributeName": "at", "keyType": "RANGE"},
            ],
            "projectionType": "ALL",
        }
    ]


def test_opt_outs_provisioned_without_recovery_or_protection() -> None:
    args = TableArgs(
        hash_key=KeyAttribute("id"),
        point_in_time_recovery=False,
        deletion_protection=False,
        billing_mode="PROVISIONED",
        tags=TAGS,
    )
    inputs = build(lambda: Table("plain", args)).inputs("plain-table")

    assert inputs["pointInTimeRecovery"] == {"enabled": False}
    assert inputs["billingMode"] == "PROVISIONED"
    assert inputs["deletionProtectionEnabled"] is False


def test_stream_on_request() -> None:
    args = TableArgs(hash_key=KeyAttribute("id"), stream_view_type="NEW_AND_OLD_IMAGES", tags=TAGS)
    inputs = build(lambda: Table("orders", args)).inputs("orders-table")

    assert inputs["streamEnabled"] is True
    assert inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"


def test_seed_items_are_written_once_each_named_by_their_key() -> None:
    item = {"pk": {"S": "SKU#Tea-01"}, "available": {"N": "5"}}
    built = build(lambda: Table("stock", TableArgs(hash_key=KeyAttribute("pk"), seed_items=[item], tags=TAGS)))

    assert built.kinds() == {(TABLE, "stock-table"), (ITEM, "stock-item-sku-tea-01")}
    seeded = built.inputs("stock-item-sku-tea-01")
    assert json.loads(seeded.pop("item")) == item
    assert seeded == {"tableName": built.child("stock-table").outputs["name"], "hashKey": "pk"}


def test_warm_throughput_on_request_for_the_table_and_each_index() -> None:
    args = TableArgs(
        hash_key=KeyAttribute("id"),
        global_indexes=[GlobalIndexArgs("byCustomer", KeyAttribute("customerId"))],
        warm_write_units_per_second=12000,
        tags=TAGS,
    )

    inputs = build(lambda: Table("orders", args)).inputs("orders-table")

    assert inputs["warmThroughput"] == {"writeUnitsPerSecond": 12000}
    assert [index["warmThroughput"] for index in inputs["globalSecondaryIndexes"]] == [{"writeUnitsPerSecond": 12000}]
