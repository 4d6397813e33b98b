"""/readyz, Prometheus /metrics, and request / event-lag timing.

Metrics (one registry per app, so tests can build many apps in one process):
  playground_runs{status}                active runs by status (queued, running, paused)
  playground_runs_created_total          runs accepted since the server started
  playground_runs_ended_total{status}    runs that ended, by terminal status
  playground_queue_length                runs waiting for a worker
  playground_training_slots              runs that may hold a worker at once
  playground_workers_ready               worker processes up
  playground_steps_total                 optimizer steps reported by workers
  playground_steps_per_second            over the last 10 s
  playground_events_total                events received from workers
  playground_socket_clients              WebSocket viewers connected now
  playground_event_lag_seconds           received from a worker -> sent to a socket
  playground_http_request_seconds{method,route,status}
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.runs.events.stream import Event
from app.web.common.deps import get_service

router = APIRouter(tags=["service"])
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
HTTP_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
READY_TIMEOUT = 2.0  # seconds the store has to answer /readyz


class _ManagerCollector:
    def __init__(self, app: FastAPI) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        manager = getattr(self.app.state, "service", None)  # RunService, once the lifespan started
        if manager is None:
            return
        by_status = Counter(r.status for r in manager.runs.values() if r.active)
        runs = GaugeMetricFamily("playground_runs", "Active runs by status", labels=["status"])
        for status in ("queued", "running", "paused"):
            runs.add_metric([status], by_status.get(status, 0))
        yield runs
        stats = manager.stats
        yield CounterMetricFamily(
            "playground_runs_created", "Runs accepted since start", value=stats.created
        )
        ended = CounterMetricFamily(
            "playground_runs_ended", "Runs that ended, by status", labels=["status"]
        )
        for status, n in sorted(stats.ended.items()):
            ended.add_metric([status], n)
        yield ended
        health = manager.health()
        yield GaugeMetricFamily("playground_queue_length", "Runs waiting", value=health["queued"])
        yield GaugeMetricFamily(
            "playground_training_slots", "Runs that may hold a worker", value=health["max_training"]
        )
        yield GaugeMetricFamily(
            "playground_workers_ready", "Worker processes up", value=health.get("ready", 0)
        )
        yield CounterMetricFamily("playground_steps", "Optimizer steps", value=stats.steps)
        yield GaugeMetricFamily(
            "playground_steps_per_second", "Steps/s over 10 s", value=stats.steps_per_second()
        )
        yield CounterMetricFamily("playground_events", "Events from workers", value=stats.events)
        yield GaugeMetricFamily(
            "playground_socket_clients", "WebSocket viewers", value=manager.viewers.total()
        )


class Observability:
    def __init__(self, app: FastAPI) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.http = Histogram(
            "playground_http_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            buckets=HTTP_BUCKETS,
            registry=self.registry,
        )
        self.lag = Histogram(
            "playground_event_lag_seconds",
            "Event received from a worker -> sent to a socket",
            buckets=LAG_BUCKETS,
            registry=self.registry,
        )
        self.registry.register(_ManagerCollector(app))


class RequestTiming:
    """Times every HTTP request by route template (not by path: ids would explode labels)."""

    def __init__(self, app: ASGIApp, obs: Observability) -> None:
        self.app, self.obs = app, obs

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            labels = (scope["method"], route, f"{status // 100}xx")
            self.obs.http.labels(*labels).observe(time.perf_counter() - start)


def event_sent(conn: HTTPConnection, event: Event) -> None:
    """Record how long an event waited between its worker and this socket."""
    obs: Observability | None = getattr(conn.app.state, "observability", None)
    received = event.meta.get("received")
    if obs is not None and isinstance(received, float):
        obs.lag.observe(max(0.0, time.monotonic() - received))


@router.get("/readyz", responses={503: {"description": "Not ready: see `checks`."}})
async def readyz(request: Request) -> JSONResponse:
    """Ready to take runs: the manager is up, a worker is ready, the store answers."""
    manager = get_service(request)
    health = manager.health()
    checks: dict[str, Any] = {
        "serving": health["status"] == "ok",
        "workers": health.get("ready", 0) > 0,
    }
    try:
        await asyncio.wait_for(manager.store.call(manager.store.get_run, ""), READY_TIMEOUT)
        checks["store"] = True
    except Exception:  # any failure to answer means not ready
        checks["store"] = False
    ready = all(checks.values())
    body = {**health, "status": "ready" if ready else "not ready", "checks": checks}
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    obs: Observability | None = getattr(request.app.state, "observability", None)
    if obs is None or not request.app.state.settings.metrics:
        return Response("metrics are turned off", status_code=404, media_type="text/plain")
    return Response(generate_latest(obs.registry), media_type=CONTENT_TYPE_LATEST)
