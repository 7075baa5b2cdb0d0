"""X-Forwarded-For / X-Forwarded-Proto, honoured only from the trusted proxies
(STOCKCOUNT_TRUSTED_PROXIES): the client is the rightmost hop that is not one of them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server.api.forwarded import ForwardedHeaders, TrustedProxies
from server.settings import Settings, parse_trusted_proxies

PROXIES = TrustedProxies(parse_trusted_proxies("127.0.0.2, 10.0.0.0/8, ::1"))


def test_the_setting_is_a_list_of_addresses_and_networks_empty_by_default() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    got = Settings.from_env({"STOCKCOUNT_TRUSTED_PROXIES": " 10.1.2.3,192.168.0.0/16  ::1"})
    assert got.trusted_proxies == ("10.1.2.3/32", "192.168.0.0/16", "::1/128")
    with pytest.raises(ValueError, match=r"STOCKCOUNT_TRUSTED_PROXIES: 'proxy\.lan' is not an IP"):
        Settings.from_env({"STOCKCOUNT_TRUSTED_PROXIES": "10.0.0.1, proxy.lan"})


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # an untrusted peer: its headers are ignored, whatever they say
        ("203.0.113.9", "198.51.100.1", "203.0.113.9"),
        ("127.0.0.1", "198.51.100.1", "127.0.0.1"),
        # the proxy appended the address it saw: that is the client
        ("127.0.0.2", "198.51.100.1", "198.51.100.1"),
        # a forged hop left of it proves nothing
        ("127.0.0.2", "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        ("127.0.0.2", "garbage, 198.51.100.1", "198.51.100.1"),
        # two proxies of ours in a row: skip both
        ("127.0.0.2", "198.51.100.1, 10.3.4.5", "198.51.100.1"),
        # only proxies of ours: the leftmost is the nearest to the client we know
        ("127.0.0.2", "10.0.0.7, 10.3.4.5", "10.0.0.7"),
        ("::1", "2001:db8::5", "2001:db8::5"),
        ("::ffff:127.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("127.0.0.2", "", "127.0.0.2"),
    ],
)
def test_the_client_is_the_rightmost_untrusted_hop(
    peer: str, forwarded_for: str, client: str
) -> None:
    assert PROXIES.client(peer, forwarded_for) == client


def _through(middleware: ForwardedHeaders, scope: dict[str, Any]) -> dict[str, Any]:
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.update(scope)

    middleware.app = app

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        return None

    asyncio.run(middleware(scope, nothing, ignore))  # type: ignore[arg-type]
    return seen


def _scope(peer: str, *headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "scheme": "http", "client": (peer, 5555), "headers": list(headers)}


def test_the_middleware_rewrites_client_and_scheme_only_for_a_trusted_peer() -> None:
    middleware = ForwardedHeaders(None, PROXIES)  # type: ignore[arg-type]
    headers = ((b"x-forwarded-for", b"6.6.6.6, 198.51.100.1"), (b"x-forwarded-proto", b"https"))
    trusted = _through(middleware, _scope("127.0.0.2", *headers))
    assert trusted["client"] == ("198.51.100.1", 0) and trusted["scheme"] == "https"
    forged = _through(middleware, _scope("203.0.113.9", *headers))
    assert forged["client"] == ("203.0.113.9", 5555) and forged["scheme"] == "http"
    # a scheme that is neither http nor https is ignored; two headers read as one list
    odd = _through(
        middleware,
        _scope(
            "127.0.0.2",
            (b"x-forwarded-proto", b"gopher"),
            (b"x-forwarded-for", b"1.1.1.1"),
            (b"x-forwarded-for", b"198.51.100.2"),
        ),
    )
    assert odd["scheme"] == "http" and odd["client"] == ("198.51.100.2", 0)
    # no trusted proxies (the default): nothing is rewritten, even from loopback
    off = ForwardedHeaders(None, TrustedProxies(()))  # type: ignore[arg-type]
    assert _through(off, _scope("127.0.0.1", *headers))["client"] == ("127.0.0.1", 5555)
