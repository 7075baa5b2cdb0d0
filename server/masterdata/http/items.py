"""Items (with barcodes), serials, opening stock and stock balances over HTTP.

Roles as in masterdata.py: reads for any user (devices get 403), writes for admin or
supervisor, through the importer's rules.
"""

from __future__ import annotations

import base64
import binascii

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from schemas.masterdata import (
    Item,
    ItemPage,
    OpeningStock,
    Serial,
    SerialPage,
    SerialRecord,
    StockBalance,
    StockBalancePage,
)
from server.api.deps import Uow
from server.api.paging import DEFAULT_LIMIT, check_limit
from server.api.wire import READ, WRITE, plain
from server.domain.errors import ValidationFailed
from server.masterdata.http.controllers import create, get_one, page_of
from server.masterdata.usecases import masterdata


class ItemController(Controller):
    path = "/api/items"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_item(self, data: JSONBody[Item], uow: Uow) -> Item:
        """Create an item with its barcodes (admin or supervisor)."""
        return await create(uow, "items", data, Item)

    @get("/", guards=READ)
    async def list_items(
        self,
        uow: Uow,
        tracking: FromQuery[str | None] = None,
        inventory_group: FromQuery[str | None] = None,
        barcode: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> ItemPage:
        """Items, filtered by tracking (none/lot/serial), inventory group code or barcode."""
        filters = {"tracking": tracking, "inventory_group": inventory_group, "barcode": barcode}
        items, after = await page_of(uow, "items", Item, limit, cursor, filters)
        return ItemPage(items=items, next_cursor=after)

    @get("/{code:str}", guards=READ)
    async def get_item(self, code: FromPath[str], uow: Uow) -> Item:
        return await get_one(uow, "items", (code,), Item)


def _in_no_bin_as_null(serial: SerialRecord) -> SerialRecord:
    """The reads give "" for the location and bin of a serial in no bin; the wire says null."""
    if serial.location and serial.bin:
        return serial
    return msgspec.structs.replace(serial, location=None, bin=None)


class SerialController(Controller):
    path = "/api/serials"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_serial(self, data: JSONBody[Serial], uow: Uow) -> Serial:
        """Create a serial of a serial-tracked item in a bin (admin or supervisor)."""
        return await create(uow, "serials", data, Serial)

    @get("/", guards=READ)
    async def list_serials(
        self,
        uow: Uow,
        item: FromQuery[str | None] = None,
        location: FromQuery[str | None] = None,
        bin: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> SerialPage:
        """Serials, filtered by item code, location code and bin label. A serial in no bin
        (it left the stock) has null `location` and `bin`."""
        filters = {"item": item, "location": location, "bin": bin}
        items, after = await page_of(uow, "serials", SerialRecord, limit, cursor, filters)
        return SerialPage(items=[_in_no_bin_as_null(s) for s in items], next_cursor=after)

    @get("/{item:str}/{serial_number:str}", guards=READ)
    async def get_serial(
        self, item: FromPath[str], serial_number: FromPath[str], uow: Uow
    ) -> SerialRecord:
        """One serial by its item's code and its serial number; `location` and `bin` are
        null when it is in no bin (it left the stock)."""
        return _in_no_bin_as_null(
            await get_one(uow, "serials", (item, serial_number), SerialRecord)
        )


class OpeningStockController(Controller):
    path = "/api/opening-stock"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_opening_stock(self, data: JSONBody[OpeningStock], uow: Uow) -> OpeningStock:
        """Opening quantity of an untracked or lot item in a bin (admin or supervisor).

        Sets the item's average cost at the location, weighted with what is there already.
        """
        return await create(uow, "opening_stock", data, OpeningStock)


def encode_stock_cursor(key: tuple[int, int, str]) -> str:
    lot = base64.urlsafe_b64encode(key[2].encode()).decode().rstrip("=")
    return f"{key[0]}.{key[1]}.{lot}"


def decode_stock_cursor(cursor: str | None) -> tuple[int, int, str] | None:
    if not cursor:
        return None
    item, _, rest = cursor.partition(".")
    bin_, _, lot = rest.partition(".")
    try:
        if (
            not (item.isascii() and bin_.isascii() and item.isdigit() and bin_.isdigit())
            or len(item) > 19
            or len(bin_) > 19
        ):
            raise ValueError(cursor)
        padded = lot + "=" * (-len(lot) % 4)
        return int(item), int(bin_), base64.urlsafe_b64decode(padded).decode()
    except (ValueError, binascii.Error):
        raise ValidationFailed(f"cursor {cursor!r} is not one this server handed out") from None


class StockController(Controller):
    path = "/api/stock"
    tags = ["master data"]

    @get("/", guards=READ)
    async def list_stock(
        self,
        uow: Uow,
        item: FromQuery[str | None] = None,
        location: FromQuery[str | None] = None,
        bin: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> StockBalancePage:
        """Stock by item, bin and lot, with the item's average cost at the location.

        Untracked and lot items: their balances; serialized items: the count of serials
        in each bin, at the average of the actual costs of their serials on hand at the
        location. Filters: item code, location code, bin label.
        """
        limit = check_limit(limit)
        rows = await masterdata.list_stock(
            uow,
            decode_stock_cursor(cursor),
            limit,
            {"item": item, "location": location, "bin": bin},
        )
        return StockBalancePage(
            items=[
                StockBalance(
                    item=r.item,
                    location=r.location,
                    bin=r.bin,
                    lot=r.lot,
                    quantity=plain(r.quantity),
                    average_cost=plain(r.average_cost),
                )
                for r in rows
            ],
            next_cursor=encode_stock_cursor(rows[-1].key) if len(rows) == limit else None,
        )
