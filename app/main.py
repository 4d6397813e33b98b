"""create_app() + lifespan: the only module that wires the layers together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from app import __version__
from app.cpus import configure_torch, cpu_limit
from app.runs.execution.factory import make_executor
from app.runs.service.front_door import RunService
from app.runs.store.runs import Store
from app.settings import Settings, get_settings
from app.web.hosting import protocol, versioning
from app.web.hosting import wiring as hosting
from app.web.routes import install_routes

ROOT = Path(__file__).resolve().parent.parent  # static/ and templates/ live beside app/


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Long-lived objects belong to the lifespan: nothing starts at import time.
        configure_torch(cpu_limit())  # the container's CPU quota, not the host's cores
        service = RunService(settings, Store(settings.db_url()), make_executor(settings))
        await service.start()
        app.state.service = service  # the web layer's one getter: app.web.common.deps
        try:
            yield
        finally:
            await service.close()

    app = FastAPI(
        title="Backprop Playground",
        version=__version__,
        description="Watch neural networks learn. See docs/API.md for the event stream.",
        lifespan=lifespan,
        docs_url=None,  # our /docs serves the vendored Swagger UI (app/web/hosting/api_docs.py)
        redoc_url=None,  # dropped: it needs a CDN and inline styles
    )
    app.state.settings = settings
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    protocol.install(app)  # Retry-After on 429s, OPTIONS/Allow, WebSockets per visitor
    hosting.install(app)  # visitor cookie, guards, security headers, /readyz, /metrics
    install_routes(app)
    versioning.install(app)  # /api/v1/... names the routes declared under /api/...
    if (ROOT / "static").is_dir():
        app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    if (ROOT / "templates").is_dir():
        app.state.templates = Jinja2Templates(directory=ROOT / "templates")
    return app
