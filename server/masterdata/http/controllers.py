"""Master data over HTTP: companies, GL accounts and entities, inventory groups, locations, bins.

Roles: reading needs a user's login (admin, supervisor or counter; devices get 403, they
get master data by sync); creating needs admin or supervisor. A record created here goes
through the importer's rules (server.masterdata.usecases.masterdata.create_record), so a file and
the API accept and refuse exactly the same records. Lists are keyset pages (`limit`,
`cursor`); get-one answers 404 for an unknown code.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import fields
from decimal import Decimal
from enum import Enum
from typing import Any, TypeVar

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, FromQuery, JSONBody

from schemas.masterdata import (
    Bin,
    BinPage,
    Company,
    CompanyPage,
    GlAccount,
    GlAccountPage,
    GlEntity,
    GlEntityPage,
    InventoryGroup,
    InventoryGroupPage,
    Location,
    LocationPage,
)
from server.api.deps import Uow
from server.api.paging import DEFAULT_LIMIT, check_limit, decode_cursor, next_cursor
from server.api.wire import READ, WRITE, plain
from server.domain.masterdata.imports import Row
from server.masterdata.ports import MasterDataUnitOfWork
from server.masterdata.usecases import masterdata

S = TypeVar("S", bound=msgspec.Struct)


def to_wire(struct: type[S], row: Row) -> S:
    """A domain row as its wire struct: the field names are the same by design."""
    values: dict[str, Any] = {}
    for f in fields(row):
        value = getattr(row, f.name)
        if isinstance(value, Enum):
            value = value.value
        elif isinstance(value, Decimal):
            value = plain(value)
        elif isinstance(value, tuple):
            value = list(value)
        values[f.name] = value
    return struct(**values)


async def create(uow: MasterDataUnitOfWork, kind: str, data: msgspec.Struct, struct: type[S]) -> S:
    record: dict[str, object] = msgspec.to_builtins(data)
    return to_wire(struct, await masterdata.create_record(uow, kind, record))


async def get_one(uow: MasterDataUnitOfWork, kind: str, key: tuple[str, ...], struct: type[S]) -> S:
    return to_wire(struct, await masterdata.get_record(uow, kind, key))


async def page_of(
    uow: MasterDataUnitOfWork,
    kind: str,
    struct: type[S],
    limit: int,
    cursor: str | None,
    filters: Mapping[str, str | None] | None = None,
) -> tuple[list[S], str | None]:
    limit = check_limit(limit)
    rows: Sequence[tuple[int, Row]] = await masterdata.list_records(
        uow, kind, decode_cursor(cursor), limit, filters or {}
    )
    items = [to_wire(struct, row) for _, row in rows]
    return items, next_cursor(rows[-1][0] if rows else None, len(rows), limit)


class CompanyController(Controller):
    path = "/api/companies"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_company(self, data: JSONBody[Company], uow: Uow) -> Company:
        """Create a company (admin or supervisor)."""
        return await create(uow, "companies", data, Company)

    @get("/", guards=READ)
    async def list_companies(
        self, uow: Uow, limit: FromQuery[int] = DEFAULT_LIMIT, cursor: FromQuery[str | None] = None
    ) -> CompanyPage:
        items, after = await page_of(uow, "companies", Company, limit, cursor)
        return CompanyPage(items=items, next_cursor=after)

    @get("/{code:str}", guards=READ)
    async def get_company(self, code: FromPath[str], uow: Uow) -> Company:
        return await get_one(uow, "companies", (code,), Company)


class GlAccountController(Controller):
    path = "/api/gl-accounts"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_gl_account(self, data: JSONBody[GlAccount], uow: Uow) -> GlAccount:
        """Create a GL account (admin or supervisor)."""
        return await create(uow, "gl_accounts", data, GlAccount)

    @get("/", guards=READ)
    async def list_gl_accounts(
        self, uow: Uow, limit: FromQuery[int] = DEFAULT_LIMIT, cursor: FromQuery[str | None] = None
    ) -> GlAccountPage:
        items, after = await page_of(uow, "gl_accounts", GlAccount, limit, cursor)
        return GlAccountPage(items=items, next_cursor=after)

    @get("/{code:str}", guards=READ)
    async def get_gl_account(self, code: FromPath[str], uow: Uow) -> GlAccount:
        return await get_one(uow, "gl_accounts", (code,), GlAccount)


class GlEntityController(Controller):
    path = "/api/gl-entities"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_gl_entity(self, data: JSONBody[GlEntity], uow: Uow) -> GlEntity:
        """Create a GL entity of a company (admin or supervisor)."""
        return await create(uow, "gl_entities", data, GlEntity)

    @get("/", guards=READ)
    async def list_gl_entities(
        self,
        uow: Uow,
        company: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> GlEntityPage:
        items, after = await page_of(
            uow, "gl_entities", GlEntity, limit, cursor, {"company": company}
        )
        return GlEntityPage(items=items, next_cursor=after)

    @get("/{code:str}", guards=READ)
    async def get_gl_entity(self, code: FromPath[str], uow: Uow) -> GlEntity:
        return await get_one(uow, "gl_entities", (code,), GlEntity)


class InventoryGroupController(Controller):
    path = "/api/inventory-groups"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_inventory_group(
        self, data: JSONBody[InventoryGroup], uow: Uow
    ) -> InventoryGroup:
        """Create an inventory group with its GL accounts and entity (admin or supervisor)."""
        return await create(uow, "inventory_groups", data, InventoryGroup)

    @get("/", guards=READ)
    async def list_inventory_groups(
        self, uow: Uow, limit: FromQuery[int] = DEFAULT_LIMIT, cursor: FromQuery[str | None] = None
    ) -> InventoryGroupPage:
        items, after = await page_of(uow, "inventory_groups", InventoryGroup, limit, cursor)
        return InventoryGroupPage(items=items, next_cursor=after)

    @get("/{code:str}", guards=READ)
    async def get_inventory_group(self, code: FromPath[str], uow: Uow) -> InventoryGroup:
        return await get_one(uow, "inventory_groups", (code,), InventoryGroup)


class LocationController(Controller):
    path = "/api/locations"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_location(self, data: JSONBody[Location], uow: Uow) -> Location:
        """Create a stock location of a company (admin or supervisor)."""
        return await create(uow, "locations", data, Location)

    @get("/", guards=READ)
    async def list_locations(
        self,
        uow: Uow,
        company: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> LocationPage:
        items, after = await page_of(
            uow, "locations", Location, limit, cursor, {"company": company}
        )
        return LocationPage(items=items, next_cursor=after)

    @get("/{code:str}", guards=READ)
    async def get_location(self, code: FromPath[str], uow: Uow) -> Location:
        return await get_one(uow, "locations", (code,), Location)


class BinController(Controller):
    path = "/api/bins"
    tags = ["master data"]

    @post("/", guards=WRITE)
    async def create_bin(self, data: JSONBody[Bin], uow: Uow) -> Bin:
        """Create a bin in a location (admin or supervisor); its label is unique there."""
        return await create(uow, "bins", data, Bin)

    @get("/", guards=READ)
    async def list_bins(
        self,
        uow: Uow,
        location: FromQuery[str | None] = None,
        kind: FromQuery[str | None] = None,
        zone: FromQuery[str | None] = None,
        label_prefix: FromQuery[str | None] = None,
        limit: FromQuery[int] = DEFAULT_LIMIT,
        cursor: FromQuery[str | None] = None,
    ) -> BinPage:
        """Bins, filtered by location code, kind (stock/out), zone and label prefix."""
        filters = {"location": location, "kind": kind, "zone": zone, "label_prefix": label_prefix}
        items, after = await page_of(uow, "bins", Bin, limit, cursor, filters)
        return BinPage(items=items, next_cursor=after)

    @get("/{location:str}/{label:str}", guards=READ)
    async def get_bin(self, location: FromPath[str], label: FromPath[str], uow: Uow) -> Bin:
        """One bin by its location's code and its label."""
        return await get_one(uow, "bins", (location, label), Bin)
