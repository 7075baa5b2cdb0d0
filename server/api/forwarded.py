"""Who the client is behind a reverse proxy: uvicorn's ProxyHeadersMiddleware, which
`stockcount serve` puts around the whole app (`server.app.uvicorn_options`) with the
trusted proxies of STOCKCOUNT_TRUSTED_PROXIES (addresses or CIDR networks; none by default;
checked and normalized by `server.settings.parse_trusted_proxies`, so a name or a typo is an
error at start instead of a proxy silently not trusted).

Only when the peer (the TCP connection's far end) is one of the trusted proxies are
X-Forwarded-For and X-Forwarded-Proto honoured. The client is then the rightmost address of
X-Forwarded-For that is not itself a trusted proxy: each proxy appends the address it saw,
so the addresses left of it were written by whoever sent the request and prove nothing
(all of them proxies of ours: the leftmost). The scheme is X-Forwarded-Proto's when it is
exactly `http`, `https`, `ws` or `wss`. From any other peer both headers are ignored: a
client cannot forge its address or its scheme. With no trusted proxy uvicorn's handling is
off (`proxy_headers=False`): its default would trust 127.0.0.1, any local process.

The middleware wraps the app, so the rewritten scope's `client` and `scheme` are what
everything sees: the throttle of failed sign-ins, the request log (for unknown routes too,
which Litestar answers without its middleware) and the session cookie's Secure flag.

Where uvicorn 0.54 differs from the code this replaced (each case tested in
tests/unit/test_forwarded.py): a peer written as an IPv4-mapped IPv6 address
(`::ffff:127.0.0.2`) is not the trusted `127.0.0.2` (safe side; and `serve` never sees one:
its IPv6 socket is IPv6-only); X-Forwarded-Proto is taken as it is, so `HTTPS` or a list
(`https, http`) leaves the connection's own scheme; a forwarded `host:port` keeps its port.
"""

from __future__ import annotations

from typing import TypedDict


class ProxyOptions(TypedDict):
    """uvicorn's keywords for the proxy headers (`uvicorn.run`, `uvicorn.Config`)."""

    proxy_headers: bool
    forwarded_allow_ips: list[str]


def proxy_options(trusted_proxies: tuple[str, ...]) -> ProxyOptions:
    """Proxy headers honoured from these networks only; off when there is none. The list is
    always given, so uvicorn never falls back to its environment (FORWARDED_ALLOW_IPS)."""
    return {
        "proxy_headers": bool(trusted_proxies),
        "forwarded_allow_ips": list(trusted_proxies),
    }
