"""Every route guard of the app is a coroutine function: Litestar runs a sync guard in a
worker thread, a thread hop (and a wait for the GIL) on every request it guards."""

from __future__ import annotations

import inspect
from pathlib import Path

from litestar.routes import HTTPRoute

from server.app import create_app
from server.settings import Settings


def test_every_guard_runs_on_the_event_loop(tmp_path: Path) -> None:
    app = create_app(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}"),
        check_migrations=False,
    )
    guarded = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for guard in handler.resolve_guards():
                assert inspect.iscoroutinefunction(guard), (route.path, guard)
                guarded += 1
    assert guarded > 50  # the guards were found: most routes have one
