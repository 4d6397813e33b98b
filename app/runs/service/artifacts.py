"""Run artifacts: trained weights, loss landscapes, metric history of any run, and the
store of custom datasets. A component of the run service (front_door.py).

A live run (running or paused) is asked through its worker (control messages
"weights" / "landscape", answered by artifact frames between two steps); an ended
run answers from the store, where its worker left its final weights and trajectory just
before the terminal status. Landscapes of ended runs are computed in a process pool.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections import OrderedDict
from typing import Any, Protocol

from app.nn.data.points import DOMAIN, infer_task
from app.runs.errors import Busy, Conflict, Invalid, NotFound, Unavailable
from app.runs.events.stream import Event
from app.runs.execution.landscape_pool import LandscapePool
from app.runs.service.manager import RunManager
from app.runs.service.state import RunState, refusal
from app.runs.store import blobs
from app.runs.store.blobs import Artifact
from app.runs.store.runs import Store
from app.settings import Settings

POINTS_CACHE = 64  # recently used custom datasets kept in memory


class Reads(Protocol):
    """The (job-aware) reads artifacts build on: app.runs.service.job_queries.JobQueries."""

    async def get(self, run_id: str) -> dict[str, Any]: ...
    async def events(self, run_id: str, after: int) -> tuple[list[Event], str, int]: ...


class RunArtifacts:
    """A component of the run service: files and pictures of runs, and custom datasets."""

    def __init__(self, core: RunManager, reads: Reads) -> None:
        self.core, self.reads = core, reads
        self.settings: Settings = core.settings
        self.store: Store = core.store
        self.runs: dict[str, RunState] = core.runs
        self._landscapes: LandscapePool | None = None
        self._landscapes_busy = 0  # landscape requests in flight (live and stored)
        self._points: OrderedDict[str, list[list[float]]] | None = None
        core.closers.append(self.close)

    @property
    def landscapes(self) -> LandscapePool:
        if self._landscapes is None:
            self._landscapes = LandscapePool(self.settings)
        return self._landscapes

    async def close(self) -> None:
        if self._landscapes is not None:
            await self._landscapes.close()

    # ---- executor callback (ExecutorSink) -------------------------------------------------
    def on_artifact(self, run_id: str, meta: dict[str, Any], data: bytes) -> None:
        run = self.runs.get(run_id)
        if meta.get("final"):
            name, step = str(meta.get("name")), int(meta.get("step") or 0)
            self.store.submit(blobs.put_artifact, self.store, run_id, name, step, data)
        request = meta.get("id")
        future = run.acks.pop(int(request), None) if run and request is not None else None
        if future is not None and not future.done():
            future.set_result({**meta, "data": data})

    # ---- asking a live run's worker -------------------------------------------------------
    async def _ask(self, run: RunState, op: str, **fields: Any) -> dict[str, Any] | None:
        """The worker's artifact reply, or None when the run ended before it answered."""
        request = next(self.core.ack_ids)
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        run.acks[request] = future
        if not self.core.executor.control(run.id, {"op": op, "id": request, **fields}):
            run.acks.pop(request, None)
            raise Conflict(f"the run is {run.status} but no worker holds it")
        try:
            reply = await asyncio.wait_for(future, self.settings.landscape_timeout)
        except TimeoutError:
            raise Unavailable(f"the worker did not send the {op} in time") from None
        finally:
            run.acks.pop(request, None)
        if "data" not in reply:
            return None  # the run ended meanwhile (its final artifacts are being stored)
        if not reply.get("ok"):
            raise Conflict(f"could not compute the {op}: {reply.get('error')}")
        return reply

    def _held(self, run_id: str, what: str) -> RunState | None:
        """The run if a worker holds it now; Conflict if it waits in the queue."""
        run = self.runs.get(run_id)
        if run is None or run.deleted:
            return None
        if run.status == "queued":
            raise refusal(run, f"get the {what}")
        if self.core.router.member_link(run_id) is not None:
            raise Conflict(
                f"this run is a member of a comparison: it trains inside the comparison's "
                f"batched model, which keeps no {what} per member"
            )
        return run if run.status in ("running", "paused") else None

    async def _stored(self, run_id: str, name: str, what: str) -> tuple[dict[str, Any], Artifact]:
        view = await self.reads.get(run_id)  # NotFound for unknown or deleted runs
        found = await self.store.call(blobs.get_artifact, self.store, run_id, name)
        if found is None:
            status = view["status"]
            if status in ("queued", "running", "paused"):
                raise Conflict(f"the run is {status} and has no {what} yet")
            raise Conflict(
                f"the run has {status} and left no {what}"
                + (f" ({view['reason']})" if view.get("reason") else "")
            )
        return view, found

    # ---- weights ------------------------------------------------------------------------
    async def weights(self, run_id: str) -> Artifact:
        """torch.save bytes of the run's state_dict: now (live run) or at its end."""
        run = self._held(run_id, "weights")
        if run is not None:
            reply = await self._ask(run, "weights")
            if reply is not None:
                return Artifact("weights", int(reply.get("step") or 0), reply["data"])
        _, found = await self._stored(run_id, "weights", "weights")
        return found

    # ---- loss landscape -----------------------------------------------------------------
    def landscape_options(self, data: Any) -> dict[str, Any]:
        """Validated {"steps", "span", "seed"} (+ caps from settings); Invalid otherwise."""
        cap = self.settings.landscape_max_steps
        data = {} if data is None else data
        if not isinstance(data, dict):
            raise Invalid([_bad("body", 'expected a JSON object like {"steps": 21}')])
        unknown = sorted(set(data) - {"steps", "span", "seed"})
        if unknown:
            raise Invalid([_bad(unknown[0], "unknown key; allowed: steps, span, seed")])
        default = min(21, cap)  # the card's default, within the operator's cap
        steps, span = data.get("steps", default), data.get("span", 1.0)
        seed = data.get("seed", 0)
        errors = []
        if not _whole(steps, 3, cap):
            errors.append(_bad("steps", f"{steps!r}: expected a whole number in [3, {cap}]"))
        if not _number(span) or not 0 < span <= 10:
            errors.append(_bad("span", f"{span!r}: expected a number in (0, 10]"))
        if not _whole(seed, 0, 2**31 - 1):
            errors.append(_bad("seed", f"{seed!r}: expected a whole number in [0, 2147483647]"))
        if errors:
            raise Invalid(errors)
        return {
            "steps": steps,
            "steps_1d": min(2 * steps - 1, cap),
            "span": float(span),
            "seed": seed,
            "max_steps": cap,
            "max_samples": self.settings.landscape_max_samples,
            "max_work": self.settings.landscape_max_work,
            "max_trajectory": self.settings.landscape_max_trajectory,
        }

    async def landscape(self, run_id: str, data: Any) -> dict[str, Any]:
        options = self.landscape_options(data)
        if self._landscapes_busy >= self.settings.landscape_queue:  # live ones cost a worker
            raise Busy("too many landscapes are being computed; try again in a moment")
        self._landscapes_busy += 1
        try:
            return await self._landscape(run_id, options)
        finally:
            self._landscapes_busy -= 1

    async def _landscape(self, run_id: str, options: dict[str, Any]) -> dict[str, Any]:
        run = self._held(run_id, "landscape")
        if run is not None:
            reply = await self._ask(run, "landscape", options=options)
            if reply is not None:
                return {**json.loads(reply["data"]), "run_id": run_id, "source": "live"}
        view, weights = await self._stored(run_id, "weights", "weights")
        trajectory = await self.store.call(blobs.get_artifact, self.store, run_id, "trajectory")
        try:
            result = await self.landscapes.run(
                view["spec"], weights.data, trajectory.data if trajectory else None, options
            )
        except (ValueError, RuntimeError, KeyError) as exc:
            raise Conflict(f"could not compute the landscape: {exc}") from None
        return {**result, "step": weights.step, "run_id": run_id, "source": "stored"}

    # ---- metric history -----------------------------------------------------------------
    async def metric_history(self, run_id: str) -> dict[str, Any]:
        """The run's start facts and its metrics frames (decimated as stored/replayed)."""
        events, status, _ = await self.reads.events(run_id, 0)
        start: dict[str, Any] = {}
        frames = []
        for event in events:
            if event.type == "metrics":
                body = json.loads(event.data)
                for key in ("run_id", "seq", "type"):
                    body.pop(key, None)
                frames.append(body)
            elif event.type == "start":
                start = json.loads(event.data)
        return {
            "run_id": run_id,
            "status": status,
            "task": start.get("task"),
            "layers": start.get("layers") or [],
            "metrics": frames,
        }

    # ---- custom datasets ----------------------------------------------------------------
    def _points_cache(self) -> OrderedDict[str, list[list[float]]]:
        if self._points is None:
            self._points = OrderedDict()
        return self._points

    def check_points(self, points: Any) -> list[list[float]]:
        """[x1, x2, label] rows inside the plot square, at most max_samples; Invalid if not."""
        limit = self.settings.max_samples
        if not isinstance(points, list) or not 1 <= len(points) <= limit:
            got = len(points) if isinstance(points, list) else type(points).__name__
            message = f"expected a list of 1 to {limit} [x1, x2, label] rows, got {got}"
            raise Invalid([_bad("points", message)])
        lo, hi = DOMAIN
        for i, row in enumerate(points):
            if not (isinstance(row, list) and len(row) == 3 and all(_number(v) for v in row)):
                message = f"expected 3 finite numbers [x1, x2, label], got {row!r}"
                raise Invalid([_bad(f"points.{i}", message)])
            if not (lo <= row[0] <= hi and lo <= row[1] <= hi):
                message = f"{row!r}: x1 and x2 must lie in [{lo:g}, {hi:g}] (the plot square)"
                raise Invalid([_bad(f"points.{i}", message)])
        return [[float(v) for v in row] for row in points]

    async def save_points(self, points: list[list[float]]) -> dict[str, Any]:
        key = blobs.points_key(points)
        cache = self._points_cache()
        if key not in cache:
            cap = self.settings.datasets_max_points
            dropped = await self.store.call(blobs.put_points, self.store, key, points, cap)
            for old in dropped:
                cache.pop(old, None)
        self._remember(key, points)
        task, classes = infer_task([row[2] for row in points])
        return {"pts": key, "count": len(points), "task": task, "classes": classes}

    async def load_points(self, key: str) -> list[list[float]]:
        cache = self._points_cache()
        if key in cache:
            cache.move_to_end(key)
            return cache[key]
        points = None
        if len(key) == blobs.POINTS_KEY_CHARS and all(c in "0123456789abcdef" for c in key):
            points = await self.store.call(blobs.get_points, self.store, key)
        if points is None:
            raise NotFound(f"no stored dataset {key!r} (it may come from another server)")
        self._remember(key, points)
        return points

    def _remember(self, key: str, points: list[list[float]]) -> None:
        cache = self._points_cache()
        cache[key] = points
        cache.move_to_end(key)
        while len(cache) > POINTS_CACHE:
            cache.popitem(last=False)


def _bad(field: str, message: str) -> dict[str, str]:
    return {"field": field, "message": message}


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _whole(value: Any, lo: int, hi: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and lo <= value <= hi
