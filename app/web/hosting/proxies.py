"""The client's address behind a reverse proxy, believed only from configured proxies.

Every hosting platform puts a proxy in front of the app, so the peer of every request
is that proxy. The proxy appends the address it saw to X-Forwarded-For; whatever a
visitor sent in that header stays to the left. So the client is found by walking the
header from the right past our own trusted hops: the first address that is not a
trusted proxy. A peer that is not a trusted proxy is the client, whatever it claims
(a spoofed header must not buy a fresh rate-limit bucket).

`ForwardedFor` rewrites the ASGI scope's `client` (and `scheme` from X-Forwarded-Proto)
before anything else runs, so the rate limit, the per-client limits and the visitor
cookie's Secure flag all see the same client. uvicorn's own proxy handling is off
(`backprop serve` passes proxy_headers=False): its default trusts 127.0.0.1.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from app.netranges import Network, contains, parse_address, parse_networks

SCHEMES = {"http": ("http", "ws"), "https": ("https", "wss")}  # proto -> (http, websocket)


def _values(scope: Scope, name: bytes) -> list[str]:
    """All comma-separated values of a header, over repeated header lines, in order."""
    out: list[str] = []
    for key, value in scope.get("headers", []):
        if key == name:
            out += [v.strip() for v in value.decode("latin-1").split(",") if v.strip()]
    return out


def client_address(peer: str, forwarded_for: list[str], trusted: tuple[Network, ...]) -> str:
    """The client behind `peer` given its X-Forwarded-For hops (leftmost first)."""
    if not trusted or not contains(trusted, peer):
        return peer
    nearest = peer  # the closest hop known to be a proxy of ours
    for hop in reversed(forwarded_for):
        address = parse_address(hop)
        if address is None:
            return nearest  # garbage: no address to believe beyond the last trusted hop
        if not contains(trusted, str(address)):
            return str(address)
        nearest = str(address)
    return nearest  # every hop is ours (a request from inside the platform)


class ForwardedFor:
    def __init__(self, app: ASGIApp, trusted: str) -> None:
        self.app = app
        self.trusted = parse_networks(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        kind = scope["type"]
        if kind in ("http", "websocket") and client and contains(self.trusted, str(client[0])):
            host = client_address(str(client[0]), _values(scope, b"x-forwarded-for"), self.trusted)
            # In place (as uvicorn's own proxy middleware does): its access log shows it too.
            scope["client"] = (host, 0)
            protos = _values(scope, b"x-forwarded-proto")
            if protos and protos[-1].lower() in SCHEMES:  # the nearest proxy's word
                http, ws = SCHEMES[protos[-1].lower()]
                scope["scheme"] = ws if kind == "websocket" else http
        await self.app(scope, receive, send)
