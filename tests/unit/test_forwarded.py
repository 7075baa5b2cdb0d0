"""X-Forwarded-For / X-Forwarded-Proto, honoured only from the trusted proxies
(STOCKCOUNT_TRUSTED_PROXIES): the client is the rightmost hop that is not one of them.
Checked on uvicorn's middleware as `stockcount serve` configures it (`uvicorn_options`)."""

from __future__ import annotations

from typing import Any

import pytest
import uvicorn
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from server.app import uvicorn_options
from server.settings import Settings

TRUSTED = "127.0.0.2, 10.0.0.0/8, ::1"


def test_the_setting_is_a_list_of_addresses_and_networks_empty_by_default() -> None:
    assert Settings.from_env({}).trusted_proxies == ()
    got = Settings.from_env({"STOCKCOUNT_TRUSTED_PROXIES": " 10.1.2.3,192.168.0.0/16  ::1"})
    assert got.trusted_proxies == ("10.1.2.3/32", "192.168.0.0/16", "::1/128")
    with pytest.raises(ValueError, match=r"STOCKCOUNT_TRUSTED_PROXIES: 'proxy\.lan' is not an IP"):
        Settings.from_env({"STOCKCOUNT_TRUSTED_PROXIES": "10.0.0.1, proxy.lan"})
    # uvicorn would take "*" as "trust everyone": not an address, so refused
    with pytest.raises(ValueError, match=r"STOCKCOUNT_TRUSTED_PROXIES: '\*' is not an IP"):
        Settings.from_env({"STOCKCOUNT_TRUSTED_PROXIES": "*"})


def _served(trusted: str) -> tuple[Any, dict[str, Any]]:
    """The app as uvicorn serves it with `serve`'s options, and the scope the app saw."""
    seen: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.clear()
        seen.update(scope)

    settings = Settings.from_env({"STOCKCOUNT_TRUSTED_PROXIES": trusted})
    config = uvicorn.Config(app, **uvicorn_options(settings))
    config.load()
    return config.loaded_app, seen


async def _through(trusted: str, scope: dict[str, Any]) -> dict[str, Any]:
    served, seen = _served(trusted)

    async def nothing() -> Any:
        return {}

    async def ignore(message: Any) -> None:
        return None

    await served(scope, nothing, ignore)
    return seen


def _scope(peer: str, *headers: tuple[bytes, bytes], kind: str = "http") -> dict[str, Any]:
    scheme = "ws" if kind == "websocket" else "http"
    return {"type": kind, "scheme": scheme, "client": (peer, 5555), "headers": list(headers)}


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        # an untrusted peer: its headers are ignored, whatever they say
        ("203.0.113.9", "198.51.100.1", ("203.0.113.9", 5555)),
        ("127.0.0.1", "198.51.100.1", ("127.0.0.1", 5555)),
        # the proxy appended the address it saw: that is the client
        ("127.0.0.2", "198.51.100.1", ("198.51.100.1", 0)),
        # a forged hop left of it proves nothing
        ("127.0.0.2", "6.6.6.6, 198.51.100.1", ("198.51.100.1", 0)),
        ("127.0.0.2", "garbage, 198.51.100.1", ("198.51.100.1", 0)),
        # two proxies of ours in a row: skip both
        ("127.0.0.2", "198.51.100.1, 10.3.4.5", ("198.51.100.1", 0)),
        # only proxies of ours: the leftmost is the nearest to the client we know
        ("127.0.0.2", "10.0.0.7, 10.3.4.5", ("10.0.0.7", 0)),
        ("::1", "2001:db8::5", ("2001:db8::5", 0)),
        ("::1", "[2001:db8::5]:4711", ("2001:db8::5", 4711)),
        # an IPv4-mapped peer is not the IPv4 proxy (uvicorn; the old code mapped it):
        # trusting less is the safe side, and serve's IPv6 socket never gives one
        ("::ffff:127.0.0.2", "198.51.100.1", ("::ffff:127.0.0.2", 5555)),
        # an empty header names nobody: the peer stays
        ("127.0.0.2", "", ("127.0.0.2", 5555)),
    ],
)
async def test_the_client_is_the_rightmost_untrusted_hop(
    peer: str, forwarded_for: str, client: tuple[str, int]
) -> None:
    seen = await _through(TRUSTED, _scope(peer, (b"x-forwarded-for", forwarded_for.encode())))
    assert seen["client"] == client


async def test_client_and_scheme_are_rewritten_only_for_a_trusted_peer() -> None:
    headers = ((b"x-forwarded-for", b"6.6.6.6, 198.51.100.1"), (b"x-forwarded-proto", b"https"))
    trusted = await _through(TRUSTED, _scope("127.0.0.2", *headers))
    assert trusted["client"] == ("198.51.100.1", 0) and trusted["scheme"] == "https"
    forged = await _through(TRUSTED, _scope("203.0.113.9", *headers))
    assert forged["client"] == ("203.0.113.9", 5555) and forged["scheme"] == "http"
    socket = await _through(TRUSTED, _scope("127.0.0.2", *headers, kind="websocket"))
    assert socket["client"] == ("198.51.100.1", 0) and socket["scheme"] == "wss"
    # two X-Forwarded-For headers read as one list
    two = await _through(
        TRUSTED,
        _scope(
            "127.0.0.2", (b"x-forwarded-for", b"1.1.1.1"), (b"x-forwarded-for", b"198.51.100.2")
        ),
    )
    assert two["client"] == ("198.51.100.2", 0)


@pytest.mark.parametrize(
    ("proto", "scheme"),
    [
        (b"https", "https"),
        (b" https ", "https"),
        (b"http", "http"),
        # taken only as it is: anything else leaves the connection's own scheme
        (b"gopher", "http"),
        (b"HTTPS", "http"),
        (b"https, http", "http"),
    ],
)
async def test_the_scheme_is_the_forwarded_one_only_when_it_is_exactly_one(
    proto: bytes, scheme: str
) -> None:
    seen = await _through(TRUSTED, _scope("127.0.0.2", (b"x-forwarded-proto", proto)))
    assert seen["scheme"] == scheme


async def test_with_no_trusted_proxy_uvicorn_trusts_nobody_not_even_its_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No setting (the default): uvicorn's proxy headers are off, though its own default
    would trust 127.0.0.1 and FORWARDED_ALLOW_IPS could say "*"."""
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "*")
    headers = ((b"x-forwarded-for", b"198.51.100.1"), (b"x-forwarded-proto", b"https"))
    for peer in ("127.0.0.1", "127.0.0.2"):
        off = await _through("", _scope(peer, *headers))
        assert off["client"] == (peer, 5555) and off["scheme"] == "http"
    served, _ = _served("")
    assert not isinstance(served, ProxyHeadersMiddleware)
    # set, the setting alone counts: the environment's "*" trusts no other peer
    forged = await _through("127.0.0.2", _scope("203.0.113.9", *headers))
    assert forged["client"] == ("203.0.113.9", 5555) and forged["scheme"] == "http"
