"""Every feature's routers, in the order they are matched: the web layer's one table.

A new feature (a model family's pages, say) adds its package under app/web/ and one line
here; nothing else in the app changes.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from app.web.compare import api as compare_api
from app.web.compare import pages as compare_pages
from app.web.compare import socket as compare_socket
from app.web.data import api as data_api
from app.web.data import tools as data_tools
from app.web.explorer import routes as explorer_routes
from app.web.hosting import api_docs
from app.web.lessons import pages as lesson_pages
from app.web.lessons import predict as lesson_predict
from app.web.playground import pages as playground_pages
from app.web.race import pages as race_pages
from app.web.runs import api as runs_api
from app.web.runs import files as run_files
from app.web.runs import socket as runs_socket

ROUTERS: list[APIRouter] = [
    runs_api.router,
    api_docs.router,  # /docs: the vendored Swagger UI
    runs_socket.router,
    playground_pages.router,
    lesson_pages.router,
    explorer_routes.router,  # the backprop explorer (/explore)
    lesson_predict.router,  # predict, then run (lesson pages)
    run_files.router,  # downloads and loss landscapes of runs
    data_api.router,  # TF Playground links, CSV and drawn datasets
    data_tools.router,  # the page's import/upload/export tools
    compare_api.router,  # comparisons and races
    compare_socket.router,
    compare_pages.router,
    race_pages.router,
]


def install_routes(app: FastAPI) -> None:
    runs_api.install_error_handlers(app)
    runs_api.install_openapi(app)
    for router in ROUTERS:
        app.include_router(router)
