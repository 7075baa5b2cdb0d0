"""Who the client is behind a reverse proxy: X-Forwarded-For and X-Forwarded-Proto are
honoured only when the peer (the TCP connection's far end) is one of the trusted proxies
(STOCKCOUNT_TRUSTED_PROXIES, addresses or CIDR networks; none by default; parsed by
`server.settings.parse_trusted_proxies`).

From a trusted peer, the client is the rightmost address of X-Forwarded-For that is not
itself a trusted proxy: each proxy appends the address it saw, so the addresses left of
it were written by whoever sent the request and prove nothing. The scheme is the one the
nearest proxy saw (the last value of X-Forwarded-Proto, `http` or `https`). From any
other peer both headers are ignored: a client cannot forge its address or its scheme.

The middleware rewrites the ASGI scope's `client` and `scheme`, so that everything after
it (the throttle of failed sign-ins, the request log, the session cookie's Secure flag)
sees the client and the scheme, not the proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

FORWARDED_FOR = b"x-forwarded-for"
FORWARDED_PROTO = b"x-forwarded-proto"
_LONGEST_ADDRESS = 64  # what a header may put in the log and the throttle's key


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip().strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class TrustedProxies:
    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in networks
        )

    def trusts(self, host: str) -> bool:
        address = _address(host)
        return address is not None and any(address in n for n in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The client's address: the rightmost untrusted hop of peer + X-Forwarded-For."""
        if not self.trusts(peer):
            return peer
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        for hop in reversed(hops):
            if not self.trusts(hop):
                address = _address(hop)
                return str(address) if address is not None else hop[:_LONGEST_ADDRESS]
        # every hop is a proxy of ours: the leftmost is as near the client as we know
        return str(_address(hops[0])) if hops else peer

    def scheme(self, peer: str, forwarded_proto: str, default: str) -> str:
        if not self.trusts(peer):
            return default
        values = [v.strip().lower() for v in forwarded_proto.split(",") if v.strip()]
        if values and values[-1] in ("http", "https"):
            return values[-1]
        return default


def _header(scope: Scope, name: bytes) -> str:
    values = [v.decode("latin-1") for k, v in scope.get("headers", ()) if k == name]
    return ", ".join(values)


class ForwardedHeaders:
    """ASGI middleware: the scope's client and scheme as the trusted proxies saw them."""

    def __init__(self, app: ASGIApp, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.trusted.networks and scope["type"] in (ScopeType.HTTP, ScopeType.WEBSOCKET):
            client = scope.get("client")
            peer = client[0] if client else ""
            if self.trusted.trusts(peer):
                forwarded_for = _header(scope, FORWARDED_FOR)
                if forwarded_for:
                    scope["client"] = (self.trusted.client(peer, forwarded_for), 0)
                proto = self.trusted.scheme(peer, _header(scope, FORWARDED_PROTO), "")
                if proto:
                    websocket = scope["type"] == ScopeType.WEBSOCKET
                    https = proto == "https"
                    scope["scheme"] = ("wss" if https else "ws") if websocket else proto
        await self.app(scope, receive, send)
