"""The web pages' part of the app: templates, static files, CSRF, the pages' router.
`server.app.create_app` takes these, as it takes every feature's controllers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from litestar import Router
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from server.api.state import AnyRequest
from server.api.wire import plain
from server.settings import Settings
from server.web.pages.count_new import NewCountPages
from server.web.pages.counters import CounterPages
from server.web.pages.counts import CountPages
from server.web.pages.devices import DevicePages
from server.web.pages.documents import DocumentPages
from server.web.pages.journal import JournalPages
from server.web.pages.review import ReviewPages
from server.web.pages.sheets import SheetPages
from server.web.pages.signin import SignInController
from server.web.pages.sites import SitePages
from server.web.responses import exception_handlers
from server.web.session import signed_in

HERE = Path(__file__).parent
CSRF_FIELD = "_csrf_token"  # Litestar's form field for the token (`csrf_input` in templates)

PAGES: list[type] = [
    SignInController,
    NewCountPages,
    CountPages,
    ReviewPages,
    DocumentPages,
    SheetPages,
    DevicePages,
    JournalPages,
    CounterPages,
    SitePages,
]
CENT = Decimal("0.01")
NO_BEARER = "exclude_from_auth"  # the API's BearerAuthentication passes these routes by

# Paths that are not pages: the API (Bearer tokens, no cookies, so no CSRF to fear), the
# health check and the OpenAPI documents.
NOT_PAGES = ["^/api(/|$)", "^/health", "^/schema"]


def _decimal(value: object) -> str:
    """A quantity or cost without its column's trailing zeros (14.0000 -> 14), exact."""
    if isinstance(value, Decimal):
        return format(plain(value), "f")
    return "" if value is None else str(value)


def _money(value: object) -> str:
    """A value to the cent (5.00, 0.00), no exponent, no float on the way."""
    if isinstance(value, Decimal):
        return format(value.quantize(CENT), "f")
    return "" if value is None else str(value)


def _when(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S UTC")
    return "" if value is None else str(value)


def _engine_callback(engine: JinjaTemplateEngine) -> None:
    engine.engine.filters["num"] = _decimal
    engine.engine.filters["money"] = _money
    engine.engine.filters["when"] = _when
    engine.engine.trim_blocks = True
    engine.engine.lstrip_blocks = True


def template_config() -> TemplateConfig[Any]:
    return TemplateConfig(
        directory=HERE / "templates",
        engine=JinjaTemplateEngine,
        engine_callback=_engine_callback,
    )


def csrf_config(settings: Settings) -> CSRFConfig:
    """A double-submit token on every form of the pages: a cookie, and the same token in
    the form's hidden field; a POST without them is refused (403) and changes nothing."""
    return CSRFConfig(
        secret=settings.secret_key,
        cookie_name="stockcount_csrf",
        cookie_samesite="strict",
        exclude=NOT_PAGES,
    )


def static_router() -> Router:
    return create_static_files_router(
        path="/static",
        directories=[HERE / "static"],
        include_in_schema=False,
        opt={NO_BEARER: True},
    )


FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})


async def require_form_body(request: AnyRequest) -> None:
    """The pages take forms (the API's hook, which this one replaces here, takes JSON)."""
    if request.method not in {"POST", "PUT", "PATCH"}:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type and media_type not in FORM_TYPES:
        raise HTTPException(status_code=415, detail=f"the pages take forms, not {media_type}")


def web_router() -> Router:
    """Every page, behind the sign-in guard, with error pages instead of problem JSON."""
    return Router(
        path="/",
        route_handlers=list(PAGES),
        guards=[signed_in],
        before_request=require_form_body,
        exception_handlers=exception_handlers(),
        include_in_schema=False,
        opt={NO_BEARER: True},  # the pages sign in with their session (server/web/session.py)
    )
