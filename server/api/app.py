"""The app factory: plugins, OpenAPI, exception handlers and controllers, wired once."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

import schemas
from server.api.content import require_known_body_type
from server.api.controllers.auth import AuthController
from server.api.controllers.counts import (
    CountController,
    DocumentController,
    ToleranceController,
)
from server.api.controllers.devices import DeviceController, EnrollmentController
from server.api.controllers.health import HealthController
from server.api.controllers.imports import ImportController, MasterDataChangeController
from server.api.controllers.inventory_history import InventoryHistoryController
from server.api.controllers.items import (
    ItemController,
    OpeningStockController,
    SerialController,
    StockController,
)
from server.api.controllers.journal import (
    JournalController,
    JournalSettingsController,
    JournalWizardController,
)
from server.api.controllers.journal_masterdata import JournalMasterDataController
from server.api.controllers.masterdata import (
    BinController,
    CompanyController,
    GlAccountController,
    GlEntityController,
    InventoryGroupController,
    LocationController,
)
from server.api.controllers.reason_codes import ReasonCodeController
from server.api.controllers.sync import DeviceStatusController, SyncController
from server.api.controllers.users import UserController
from server.api.deps import DEPENDENCIES
from server.api.errors import EXCEPTION_HANDLERS
from server.api.security import BearerAuthentication
from server.api.state import AppState
from server.db.blocking import BlockingWriter, can_block
from server.db.engine import make_engine, make_sessionmaker
from server.db.migrate import check_at_head
from server.db.sync import SqlSync
from server.services.sync_group import PushGroups
from server.settings import Settings

CONTROLLERS: list[type] = [
    HealthController,
    AuthController,
    UserController,
    EnrollmentController,
    DeviceController,
    CompanyController,
    GlAccountController,
    GlEntityController,
    InventoryGroupController,
    LocationController,
    BinController,
    ItemController,
    SerialController,
    OpeningStockController,
    StockController,
    ImportController,
    MasterDataChangeController,
    CountController,
    ToleranceController,
    ReasonCodeController,
    DocumentController,
    JournalController,
    JournalWizardController,
    JournalSettingsController,
    JournalMasterDataController,
    InventoryHistoryController,
    SyncController,
    DeviceStatusController,
]


def create_app(settings: Settings | None = None, *, check_migrations: bool = True) -> Litestar:
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        writer: BlockingWriter | None = None
        try:
            if can_block(settings.database_url):
                writer = BlockingWriter(settings.database_url)
            if check_migrations:
                await check_at_head(engine)
            state = AppState(settings, engine, make_sessionmaker(engine))
            if settings.is_sqlite:
                state.push_groups = PushGroups(
                    writer.uow if writer else state.uow,
                    bind=SqlSync.binder(engine.dialect),
                    runner=writer,
                )
            app.state["stockcount"] = state
            yield
        finally:
            if writer is not None:
                await writer.close()
            await engine.dispose()

    config = AppConfig(
        route_handlers=list(CONTROLLERS),
        dependencies=dict(DEPENDENCIES),
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=[lifespan],
        before_request=require_known_body_type,
        state=State(),
        request_max_body_size=settings.max_body_bytes,
        middleware=[
            DefineMiddleware(
                BearerAuthentication,
                exclude=["^/schema", "^/health"],
                exclude_from_auth_key="exclude_from_auth",
            )
        ],
        openapi_config=OpenAPIConfig(
            title="stockcount",
            version=f"protocol {schemas.PROTOCOL_VERSION}",
            description="Offline-first stock counting: master data, devices, counts, journal.",
            components=Components(
                security_schemes={
                    "bearer": SecurityScheme(type="http", scheme="bearer"),
                }
            ),
            security=[{"bearer": []}],
        ),
        debug=False,
    )
    return Litestar.from_config(config)
