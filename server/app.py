"""The app factory: plugins, OpenAPI, exception handlers and controllers, wired once."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.config.app import AppConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

import schemas
from server.api.content import read_request
from server.api.deps import DEPENDENCIES
from server.api.errors import EXCEPTION_HANDLERS
from server.api.forwarded import proxy_options
from server.api.health import HealthController
from server.api.openapi import SCHEMA_PATH, assets_router, render_plugins
from server.api.problems import ProblemController
from server.api.request_log import RequestLog, configure_logging, log_response
from server.api.state import STATE_KEY, AnyRequest, state_of
from server.audit.http.audit import AuditController
from server.auth.http.devices import DeviceController, EnrollmentController
from server.auth.http.middleware import BearerAuthentication
from server.auth.http.tokens import AuthController
from server.auth.http.users import CounterPinController, UserController
from server.bootstrap import Runtime, open_runtime
from server.counts.http.controllers import (
    CountController,
    DocumentController,
    ToleranceController,
)
from server.counts.http.unknown import UnknownBarcodeController
from server.journal.http.controllers import (
    JournalController,
    JournalSettingsController,
    JournalWizardController,
)
from server.journal.http.inventory_history import InventoryHistoryController
from server.journal.http.masterdata import JournalMasterDataController
from server.masterdata.http.controllers import (
    BinController,
    CompanyController,
    GlAccountController,
    GlEntityController,
    InventoryGroupController,
    LocationController,
)
from server.masterdata.http.imports import ImportController, MasterDataChangeController
from server.masterdata.http.items import (
    ItemController,
    OpeningStockController,
    SerialController,
    StockController,
)
from server.masterdata.http.reason_codes import ReasonCodeController
from server.settings import Settings
from server.sync.http.controllers import DeviceStatusController, SyncController
from server.sync.http.settings import DeviceSettingsController
from server.sync.ports import PushIngest
from server.web.wiring import csrf_config, static_router, template_config, web_router

CONTROLLERS: list[type] = [
    HealthController,
    ProblemController,
    AuthController,
    UserController,
    CounterPinController,
    UnknownBarcodeController,
    DeviceSettingsController,
    AuditController,
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


async def _provide_ingest(request: AnyRequest) -> PushIngest:
    runtime = state_of(request)
    assert isinstance(runtime, Runtime)
    return runtime.ingest


def create_app(
    settings: Settings | None = None, *, check_migrations: bool = True, warm: bool = False
) -> Litestar:
    """The app; `warm` (`stockcount serve`): its start-up opens the database pool and
    prepares the push's statements before the server answers (server.bootstrap)."""
    settings = settings or Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        async with open_runtime(settings, check_migrations=check_migrations, warm=warm) as runtime:
            app.state[STATE_KEY] = runtime
            yield

    config = AppConfig(
        route_handlers=[*CONTROLLERS, web_router(), static_router(), assets_router()],
        dependencies={**DEPENDENCIES, "ingest": Provide(_provide_ingest)},
        exception_handlers=dict(EXCEPTION_HANDLERS),
        lifespan=[lifespan],
        before_request=read_request,
        before_send=[log_response],
        state=State(),
        request_max_body_size=settings.max_body_bytes,
        middleware=[
            DefineMiddleware(RequestLog),
            DefineMiddleware(
                BearerAuthentication,
                exclude=["^/schema", "^/health", "^/problems/"],
                exclude_from_auth_key="exclude_from_auth",
            ),
        ],
        template_config=template_config(),
        csrf_config=csrf_config(settings),
        openapi_config=OpenAPIConfig(
            title="stockcount",
            path=SCHEMA_PATH,
            render_plugins=render_plugins(),
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


# The cyclic garbage collector of a serving process. A full collection walks every object
# that survived the earlier ones: after start-up that is hundreds of thousands of them
# (modules, classes, Litestar's routes and signature models, SQLAlchemy's mappers and
# statement caches), none of them garbage, and collections keep coming while requests
# allocate (an earlier py-spy profile of the sync ingest benchmark put ~10% of the event
# loop in the collector). `gc.freeze()` after start-up moves them out of its sight for
# good (they live as long as the process anyway). The first generation's threshold is
# raised because a request allocates many short-lived containers (decoded events, rows)
# that reference counting frees by itself, so collecting every 700 allocations mostly
# finds nothing. Cycles are still collected, only less often. Only `stockcount serve`
# does this: tests build many apps in one process and must not freeze their garbage.
GC_THRESHOLDS = (50_000, 20, 100)


def quiet_garbage_collector() -> None:
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)


# How long a thread that wants the GIL waits before the running one must hand it over
# (CPython's default: 5 ms). aiosqlite runs every SQLite call in its own thread, which
# needs the GIL to start the call and again to hand the result back; while the event loop
# runs Python code (decoding other requests) each of those waits up to the interval. A
# transaction of a few statements and a COMMIT is that many handoffs on SQLite's one
# writer's path. Measured apart (sqlite3 in a thread beside a thread spinning in Python:
# 8 statements, a 500-row multi-row INSERT and COMMIT): median 177 ms at 5 ms, 42 ms at
# 1 ms, 26 ms at 0.5 ms. The cost is more switches, only while threads contend.
GIL_SWITCH_INTERVAL_S = 0.001


def tune_for_serving() -> None:
    """Process-wide settings for `stockcount serve`, once the app is built."""
    quiet_garbage_collector()
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The keywords `serve` gives uvicorn (Any: uvicorn's own mixed types)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "log_level": settings.log_level.lower(),
        # one line per request is the app's own (server.api.request_log), with its id
        "access_log": False,
        "log_config": None,
        "timeout_graceful_shutdown": 10,
        # The C event loop and HTTP parser (dependencies of the server): the event loop's
        # thread is what limits sync ingest on SQLite. Named, not "auto", so that a broken
        # install fails at start instead of serving slower. uvloop has no Windows build.
        "loop": "asyncio" if sys.platform == "win32" else "uvloop",
        "http": "httptools",
        # X-Forwarded-For/-Proto from STOCKCOUNT_TRUSTED_PROXIES only, by uvicorn's
        # middleware around the whole app (server.api.forwarded)
        **proxy_options(settings.trusted_proxies),
    }


def serve(settings: Settings) -> None:
    import uvicorn

    app = create_app(settings, warm=True)
    tune_for_serving()
    uvicorn.run(app, **uvicorn_options(settings))
