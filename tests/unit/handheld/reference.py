"""A small site's reference data, as the server's pull would deliver it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import msgspec

from handheld_sync.store import Store
from schemas import PROTOCOL_VERSION
from schemas.sync import (
    AssignedCount,
    BinRef,
    ExpectedQuantity,
    ExpectedSerial,
    ItemRef,
    PullCursor,
    PullResponse,
    RecountOrder,
)

BINS = ["MAIN-A01-01", "MAIN-A01-02", "MAIN-A01-03", "MAIN-OUT-01"]
PUMP_GTIN = "04012345678901"  # serialized
BOLT_EAN = "4006381333931"  # untracked
RESIN_GTIN = "09501101530003"  # lot-tracked


def reference_page(epoch: str = "epoch-1", change_seq: int = 10) -> PullResponse:
    return PullResponse(
        protocol_version=PROTOCOL_VERSION,
        cursor=PullCursor(epoch=epoch, change_seq=change_seq),
        has_more=False,
        counts=[
            AssignedCount(
                count="SC-1",
                location="MAIN",
                status="counting_in_process",
                blind=False,
                bins=BINS[:3],
                description="aisle A",
                expected_serials=[ExpectedSerial(item="PUMP", serial="SN-7", bin="MAIN-A01-01")],
                expected_quantities=[
                    ExpectedQuantity(item="BOLT", bin="MAIN-A01-02", quantity=Decimal("250"))
                ],
            ),
            AssignedCount(
                count="SC-2", location="MAIN", status="counting_in_process", blind=True, bins=BINS
            ),
            AssignedCount(
                count="SC-OLD", location="MAIN", status="completed", blind=True, bins=BINS[:1]
            ),
        ],
        bins=[BinRef(location="MAIN", label=label) for label in BINS[:3]]
        + [BinRef(location="MAIN", label=BINS[3], kind="out")],
        items=[
            ItemRef(code="PUMP", name="Pump", tracking="serial", barcodes=[PUMP_GTIN]),
            ItemRef(code="BOLT", name="Bolt M8", tracking="none", barcodes=[BOLT_EAN]),
            ItemRef(code="RESIN", name="Resin", tracking="lot", barcodes=[RESIN_GTIN]),
        ],
        recounts=[RecountOrder(order_id=1, count="SC-1", bin="MAIN-A01-03", reason="variance")],
    )


def new_store(path: Path) -> Store:
    store = Store.create(path)
    store.apply_pull(reference_page())
    return store


def write_reference(path: Path) -> Path:
    path.write_bytes(msgspec.json.encode(reference_page()))
    return path
