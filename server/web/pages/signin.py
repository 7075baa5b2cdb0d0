"""Sign in and sign out: the API's users, roles and tokens (server/web/session.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from litestar import Controller, Response, get, post
from litestar.response import Template

from server.api.deps import CurrentSettings, Now
from server.api.state import AnyRequest, app_state, client_address
from server.auth import usecases as auth
from server.domain.errors import NotAuthenticated, TooManyAttempts
from server.web.responses import local, page, see_other
from server.web.session import PUBLIC, home, session_token, with_session, without_session


class SignInController(Controller):
    path = "/"

    @get("/", opt={PUBLIC: True})
    async def home(self, request: AnyRequest, now: Now) -> Response[Any]:
        """The start page of whoever is signed in (the documents for finance)."""
        token = session_token(request)
        if token is None:
            return see_other("/signin")
        try:
            caller = await auth.authenticate(
                app_state(request).uow(), token, now, client_address(request)
            )
        except NotAuthenticated:
            return see_other("/signin")
        return see_other(home(caller.role))

    @get("/signin", opt={PUBLIC: True})
    async def signin_form(self, request: AnyRequest) -> Template:
        return page(request, "signin.html", next=local(request.query_params.get("next"), ""))

    @post("/signin", opt={PUBLIC: True})
    async def signin(
        self, request: AnyRequest, settings: CurrentSettings, now: Now
    ) -> Response[Any]:
        form = await request.form()
        username = str(form.get("username") or "").strip()
        password = str(form.get("password") or "")
        target = local(str(form.get("next") or ""), "")
        missing = {k: f"enter your {k}" for k in ("username", "password") if not form.get(k)}
        if missing:
            return page(
                request,
                "signin.html",
                status_code=422,
                next=target,
                username=username,
                field_errors=missing,
            )
        try:
            issued = await auth.login(
                app_state(request).uow(),
                username,
                password,
                now,
                timedelta(hours=settings.token_ttl_hours),
                client_address(request),
            )
        except TooManyAttempts as exc:
            page_response = page(
                request,
                "signin.html",
                status_code=429,
                next=target,
                username=username,
                form_error=exc.message,
            )
            page_response.headers["Retry-After"] = str(exc.retry_after)
            return page_response
        except NotAuthenticated as exc:
            return page(
                request,
                "signin.html",
                status_code=401,
                next=target,
                username=username,
                form_error=f"{exc.message}: check both and try again",
            )
        response = see_other(target or home(issued.user.role))
        with_session(response, issued.token, issued.expires_at, request.url.scheme == "https")
        return response

    @post("/signout", opt={PUBLIC: True})
    async def signout(self, request: AnyRequest) -> Response[Any]:
        token = session_token(request)
        if token is not None:
            await auth.logout(app_state(request).uow(), token)
        response = see_other("/signin", notice="You are signed out.")
        without_session(response)
        return response
