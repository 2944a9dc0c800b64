"""The event catalogue is generated from the code, and the committed one is current."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from offline.catalogue import build_catalogue, render_files
from tests.recorded import recorded_program

EVENTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "events"


@pytest.fixture(scope="module")
def files() -> dict[str, str]:
    return render_files(build_catalogue(recorded_program("dev")), "dev")


def test_committed_catalogue_matches_the_code(files: dict[str, str]) -> None:
    committed = {path.name: path.read_text() for path in EVENTS_DIR.iterdir()}
    assert committed == files, "run `make docs` and commit docs/events/"


def test_every_order_event_has_a_producer_consumers_and_a_schema() -> None:
    entries = {e.detail_type: e for e in build_catalogue(recorded_program("dev"))}
    assert set(entries) >= {"OrderPlaced", "OrderAccepted", "OrderRejected", "OrderFulfilled", "OrderFailed"}
    for entry in entries.values():
        assert entry.producers, entry.detail_type
        assert entry.consumers, entry.detail_type
    placed = entries["OrderPlaced"]
    assert placed.producers == ["function `create-order`"]
    assert {"orderId", "customerId", "correlationId"} <= set(placed.schema["required"])
    assert any("customer-status-workflow" in c for c in placed.consumers)


def test_schemas_are_valid_json_schema_documents(files: dict[str, str]) -> None:
    for name, content in files.items():
        if name.endswith(".schema.json"):
            schema = json.loads(content)
            assert schema["type"] == "object" and schema["properties"], name
