"""WS /ws/runs/{id}?after=N: replay the events after seq N, then stream live ones.

Events are sent as text frames, exactly the JSON the worker produced; {"type":
"heartbeat"} frames (no seq) keep idle sockets alive; the socket closes with 1000 after
the run's terminal status event. A client may also send {"action": "pause" | "resume" |
"stop" | "step" (+ "n") | "set" (+ params)} and gets {"type": "reply", ...} or
{"type": "error", ...}; {"action": "view", "neurons": bool} says whether it shows the
per-neuron pictures (snapshots carry them while some viewer does). Each socket is its own
task reading the run's bounded log with its own cursor, so a slow client only delays
itself and never holds a backlog beyond it. Every viewer gets the same text (decoded once
per event), and the first viewer done sending a run's newest snapshot asks the worker for
the next one (app.runs.events.demand): pictures flow at the rate viewers consume them.
Unknown run: close code 4404.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.runs.errors import NotFound, RunError
from app.runs.events.demand import Demand
from app.runs.service.front_door import RunService
from app.web.common.deps import get_app_settings, get_service
from app.web.hosting.observability import event_sent
from app.web.hosting.ownership import check_owner
from app.web.runs.api import STATUS_OF

router = APIRouter()
CLOSE_NOT_FOUND = 4404


def _after(websocket: WebSocket) -> int:
    try:
        return max(0, int(websocket.query_params.get("after", "0")))
    except ValueError:
        return 0


async def _control(manager: RunService, run_id: str, message: Any) -> dict[str, Any]:
    if not isinstance(message, dict):
        raise ValueError('expected a JSON object like {"action": "pause"}')
    action = message.get("action")
    if action == "pause":
        return await manager.pause(run_id)
    if action == "resume":
        return await manager.resume(run_id)
    if action == "stop":
        return await manager.stop(run_id)
    if action == "step":
        n = message.get("n", 1)
        if isinstance(n, bool) or not isinstance(n, int):
            raise ValueError(f"n: expected an integer, got {n!r}")
        return await manager.step(run_id, n)
    if action == "set":
        params = {k: v for k, v in message.items() if k != "action"}
        return await manager.set_params(run_id, params)
    raise ValueError(f"unknown action {action!r}; use pause, resume, stop, step or set")


class _Socket:
    def __init__(
        self, websocket: WebSocket, manager: RunService, run_id: str, demand: Demand | None = None
    ) -> None:
        self.ws, self.manager, self.run_id = websocket, manager, run_id
        self.lock = asyncio.Lock()  # the sender and the control replies share the socket
        self.limit = get_app_settings(websocket).max_body_bytes
        self.demand = demand  # runs only: comparisons and races pace their own pictures
        self.neurons = False  # this viewer shows the per-neuron pictures

    def view(self, message: dict[str, Any]) -> dict[str, Any]:
        neurons = bool(message.get("neurons"))
        if self.demand is not None:
            self.demand.view(self.run_id, neurons, self.neurons)
        self.neurons = neurons
        return {"neurons": neurons}

    def consumed(self, seq: int) -> None:
        """This viewer sent snapshot `seq`: if it is the newest, ask for the next one."""
        run = self.manager.runs.get(self.run_id) if self.demand is not None else None
        newest = run.log.snapshot if run is not None else None
        if self.demand is not None and newest is not None:
            self.demand.consumed(self.run_id, seq, newest.seq)

    async def send(self, text: str) -> None:
        async with self.lock:
            await self.ws.send_text(text)

    async def receive_loop(self) -> None:
        """Control messages from the client; returns when the client goes away."""
        while True:
            message = await self.ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            raw = message.get("text") or (message.get("bytes") or b"").decode("utf-8", "replace")
            try:
                if len(raw) > self.limit:
                    raise ValueError(f"message larger than {self.limit} bytes")
                reply: dict[str, Any] = {"type": "reply", "ok": True}
                message = json.loads(raw)
                if isinstance(message, dict) and message.get("action") == "view":
                    reply.update(self.view(message))  # what this viewer draws: open to all
                else:
                    await check_owner(self.ws, self.run_id)  # watching is open; control not
                    reply.update(await _control(self.manager, self.run_id, message))
            except RunError as exc:
                status = STATUS_OF.get(type(exc), 400)
                reply = {"type": "error", "status": status, "detail": exc.detail}
            except (ValueError, TypeError, OverflowError, RecursionError) as exc:
                # The reply names the problem and the socket stays open (docs/API.md).
                reply = {"type": "error", "status": 400, "detail": str(exc)}
            await self.send(json.dumps(reply))

    async def stream(self, after: int) -> None:
        receiver = asyncio.create_task(self.receive_loop())
        events = self.manager.follow(self.run_id, after).__aiter__()
        cursor = after
        try:
            while True:
                following = asyncio.ensure_future(events.__anext__())
                await asyncio.wait({following, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if not following.done():  # the client left: stop following
                    following.cancel()
                    await asyncio.wait({following})  # let the generator unwind first
                    return
                try:
                    batch = following.result()
                except StopAsyncIteration:
                    await self.ws.close(1000)
                    return
                except NotFound:
                    await self.ws.close(CLOSE_NOT_FOUND, "no such run")
                    return
                if not batch:
                    beat = {"type": "heartbeat", "run_id": self.run_id, "last_seq": cursor}
                    await self.send(json.dumps(beat))
                for event in batch:
                    await self.send(event.text)
                    event_sent(self.ws, event)
                    cursor = event.seq
                    if event.type == "snapshot":
                        self.consumed(event.seq)
        finally:
            if self.demand is not None and self.neurons:
                self.demand.view(self.run_id, False, True)
            receiver.cancel()
            with contextlib.suppress(BaseException):
                await receiver
            await events.aclose()  # type: ignore[attr-defined]


@router.websocket("/ws/runs/{run_id}")
async def run_socket(websocket: WebSocket, run_id: str) -> None:
    await websocket.accept()
    manager = get_service(websocket)
    manager.viewers.join(run_id)  # runs nobody watches are stopped when idle (demo)
    # The client may vanish mid-send (RuntimeError: send after close): nothing to do.
    try:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            demand = manager.demand
            await _Socket(websocket, manager, run_id, demand).stream(_after(websocket))
    finally:
        manager.viewers.leave(run_id)
