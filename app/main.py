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
from app.runs.demand import Demand
from app.runs.executors import make_executor
from app.runs.service import Service  # RunManager + comparisons and races (issue 5)
from app.runs.store import Store
from app.settings import Settings, get_settings
from app.web import (
    api,
    api_compare,
    api_docs,
    api_files,
    api_import,
    hosting,
    lesson_predict,
    pages,
    pages_compare,
    pages_lessons,
    pages_race,
    protocol,
    ui_data,
    versioning,
    ws,
    ws_compare,
)
from app.web.explorer import routes as explorer_routes

ROOT = Path(__file__).resolve().parent.parent  # static/ and templates/ live beside app/


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Long-lived objects belong to the lifespan: nothing starts at import time.
        configure_torch(cpu_limit())  # the container's CPU quota, not the host's cores
        manager = Service(settings, Store(settings.db_url()), make_executor(settings))
        await manager.start()
        app.state.manager = manager
        app.state.demand = Demand(manager.executor.control)  # snapshots as viewers consume
        try:
            yield
        finally:
            await manager.close()

    app = FastAPI(
        title="Backprop Playground",
        version=__version__,
        description="Watch neural networks learn. See docs/API.md for the event stream.",
        lifespan=lifespan,
        docs_url=None,  # our /docs serves the vendored Swagger UI (app/web/api_docs.py)
        redoc_url=None,  # dropped: it needs a CDN and inline styles
    )
    app.state.settings = settings
    app.add_middleware(GZipMiddleware, minimum_size=1024)
    protocol.install(app)  # Retry-After on 429s, OPTIONS/Allow, WebSockets per visitor
    hosting.install(app)  # visitor cookie, guards, security headers, /readyz, /metrics
    api.install_error_handlers(app)
    api.install_openapi(app)
    app.include_router(api.router)
    app.include_router(api_docs.router)
    app.include_router(ws.router)
    app.include_router(pages.router)
    app.include_router(pages_lessons.router)
    app.include_router(explorer_routes.router)  # the backprop explorer (/explore)
    app.include_router(lesson_predict.router)  # predict, then run (lesson pages)
    app.include_router(api_files.router)  # downloads and loss landscapes of runs
    app.include_router(api_import.router)  # TF Playground links, CSV and drawn datasets
    app.include_router(ui_data.router)  # the page's import/upload/export tools
    app.include_router(api_compare.router)  # comparisons and races (issue 5)
    app.include_router(ws_compare.router)
    app.include_router(pages_compare.router)
    app.include_router(pages_race.router)
    versioning.install(app)  # /api/v1/... names the routes declared under /api/...
    if (ROOT / "static").is_dir():
        app.mount("/static", StaticFiles(directory=ROOT / "static"), name="static")
    if (ROOT / "templates").is_dir():
        app.state.templates = Jinja2Templates(directory=ROOT / "templates")
    return app
