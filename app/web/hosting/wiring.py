"""Everything a public deployment needs around the routes, installed by create_app():
the client behind trusted proxies, visitor cookies, WebSocket origin check, body limits,
security headers, request timing, /readyz and /metrics, log format. Middleware wraps
every route, so endpoints added by other modules are covered without changes.
"""

from __future__ import annotations

from fastapi import FastAPI

from app import logs
from app.settings import Settings
from app.web.common.visitor import VisitorMiddleware
from app.web.hosting import observability
from app.web.hosting.guards import BodyLimit, OriginCheck, SecurityHeaders
from app.web.hosting.observability import Observability, RequestTiming
from app.web.hosting.proxies import ForwardedFor


def install(app: FastAPI) -> None:
    settings: Settings = app.state.settings
    logs.configure(settings.log_format)
    obs = Observability(app)
    app.state.observability = obs
    app.include_router(observability.router)
    # add_middleware puts each new one outside the previous: innermost first.
    app.add_middleware(
        VisitorMiddleware, secret=settings.secret_key, embeddable=settings.embeddable()
    )
    app.add_middleware(OriginCheck, allowed=settings.allowed_origins)
    # Multipart uploads (CSV files) have their own cap, plus room for the multipart framing.
    max_body = max(settings.max_body_bytes, settings.max_upload_bytes + 16_384)
    app.add_middleware(BodyLimit, max_body=max_body, max_form=settings.max_form_bytes)
    if settings.security_headers:
        app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
    app.add_middleware(RequestTiming, obs=obs)
    # Outermost: every layer inside sees the client behind a trusted proxy.
    app.add_middleware(ForwardedFor, trusted=settings.trusted_proxies)
