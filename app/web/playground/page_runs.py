"""Which runs each open playground page started, so a page never loses track of one.

A page gets a random token when it is rendered (`ui.page`, posted with Play and Reset).
Play and Reset of one page run one at a time (a lock per page, taken in arrival order),
and each stops every other run that page started before it returns: after quick clicks
the last one wins and nothing trains unseen. The visitor's playground runs are also kept
per visitor, so a reopened tab can offer to reattach to a run that is still training.

In memory and bounded (least recently used pages and visitors are forgotten); with
several web servers each knows the pages it served, which is where their clicks go.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from starlette.requests import HTTPConnection

from app.runs.errors import RunError
from app.web.common.deps import get_app_settings, get_service
from app.web.common.visitor import visitor_id
from app.web.hosting.ownership import owns_quietly

MAX_PAGES = 4096  # pages remembered (an old page's clicks then act as a fresh page's)
MAX_VISITORS = 4096
RUNS_PER_KEY = 16  # run ids kept per page or visitor, newest last
ACTIVE = ("queued", "running", "paused")
STOP_WAIT = 3.0  # seconds a click waits for the runs it stopped to end (a worker answers in ms)


def new_page_token() -> str:
    return secrets.token_urlsafe(9)


def _remember(table: OrderedDict[str, list[str]], key: str, run_id: str, cap: int) -> None:
    runs = table.setdefault(key, [])
    table.move_to_end(key)
    if run_id in runs:
        runs.remove(run_id)
    runs.append(run_id)
    del runs[:-RUNS_PER_KEY]
    while len(table) > cap:
        table.popitem(last=False)


class PageRuns:
    def __init__(self) -> None:
        self.locks: OrderedDict[str, asyncio.Lock] = OrderedDict()
        self.pages: OrderedDict[str, list[str]] = OrderedDict()  # page key -> run ids
        self.visitors: OrderedDict[str, list[str]] = OrderedDict()  # visitor -> run ids

    def lock(self, key: str) -> asyncio.Lock:
        lock = self.locks.pop(key, None) or asyncio.Lock()
        self.locks[key] = lock  # most recently used last
        excess = len(self.locks) - MAX_PAGES
        if excess > 0:  # forget the oldest idle locks (a held one has waiters to serve)
            idle = [k for k, v in self.locks.items() if k != key and not v.locked()]
            for old in idle[:excess]:
                del self.locks[old]
        return lock

    def add(self, key: str, visitor: str, run_id: str) -> None:
        _remember(self.pages, key, run_id, MAX_PAGES)
        _remember(self.visitors, visitor, run_id, MAX_VISITORS)

    def started(self, key: str) -> list[str]:
        return list(self.pages.get(key, []))

    def of_visitor(self, visitor: str) -> list[str]:
        return list(self.visitors.get(visitor, []))


def page_runs(conn: HTTPConnection) -> PageRuns:
    runs: PageRuns | None = getattr(conn.app.state, "page_runs", None)
    if runs is None:
        runs = conn.app.state.page_runs = PageRuns()
    return runs


def page_key(conn: HTTPConnection, token: str) -> str:
    """A page is its visitor plus its token: another visitor's token names nothing of ours."""
    return f"{visitor_id(conn)}/{token[:32]}"


async def stop_others(conn: HTTPConnection, key: str, keep: str | None) -> None:
    """Stop every run this page started except `keep`, and wait (briefly) until their
    workers have let go: the next Play then finds its slot free, not "queued #2"."""
    manager = get_service(conn)
    stopping = []
    for run_id in page_runs(conn).started(key):
        if run_id == keep or not _active(manager, run_id):
            continue
        with contextlib.suppress(RunError):
            await manager.stop(run_id, "stopped: a newer Play or Reset on the same page")
        stopping.append(run_id)
    deadline = time.monotonic() + STOP_WAIT
    while any(_active(manager, r) for r in stopping) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)


def _active(manager: object, run_id: str) -> bool:
    run = getattr(manager, "runs", {}).get(run_id)
    return run is not None and run.status in ACTIVE


async def unwatched(conn: HTTPConnection, exclude: Iterable[str] = ()) -> list[dict[str, str]]:
    """This visitor's playground runs still active with no socket open (a closed tab)."""
    mine = page_runs(conn).of_visitor(visitor_id(conn))
    if not mine:
        return []
    manager = get_service(conn)
    skip = set(exclude)
    out = []
    for run_id in reversed(mine):
        run = manager.runs.get(run_id)
        if run_id in skip or run is None or run.status not in ACTIVE:
            continue
        if manager.viewers.open.get(run_id):
            continue  # another tab is watching it
        out.append({"id": run_id, "status": run.status})
    return out


async def reattach_context(
    conn: HTTPConnection, token: str, run: dict[str, Any] | None
) -> dict[str, Any]:
    """For a page being rendered: the run it shows becomes its own (when this visitor may
    control it), and the visitor's other unwatched runs are offered to reattach to."""
    shown = run["id"] if run else None
    if shown and run and run.get("status") in ACTIVE and await owns_quietly(conn, shown):
        page_runs(conn).add(page_key(conn, token), visitor_id(conn), shown)
    idle = get_app_settings(conn).idle_run_seconds
    return {
        "reattach": await unwatched(conn, exclude=[shown] if shown else []),
        "idle_minutes": f"{idle / 60:g}" if idle > 0 else "",
    }
