"""WS /ws/comparisons/{id}?after=N and WS /ws/races/{id}?after=N.

Exactly the run socket (app.web.runs.socket): replay of the events after seq N, then live ones,
heartbeats when idle, close 1000 after the terminal status, 4404 for an unknown id, and the
same control messages ({"action": "pause" | "resume" | "step" | "stop"}), which act on the
whole comparison or race. Comparison events carry "member" (the member index).
"""

from __future__ import annotations

import contextlib

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from app.web.common.deps import get_service
from app.web.runs.socket import CLOSE_NOT_FOUND, _after, _Socket

router = APIRouter()


async def _stream(websocket: WebSocket, kind: str, job_id: str) -> None:
    await websocket.accept()
    service = get_service(websocket)
    if not await service.job_exists(kind, job_id):
        await websocket.close(CLOSE_NOT_FOUND, f"no such {kind}")
        return
    service.viewers.join(job_id)  # a job nobody watches is stopped when idle (demo mode)
    try:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await _Socket(websocket, service, job_id).stream(_after(websocket))
    finally:
        service.viewers.leave(job_id)


@router.websocket("/ws/comparisons/{comparison_id}")
async def comparison_socket(websocket: WebSocket, comparison_id: str) -> None:
    await _stream(websocket, "comparison", comparison_id)


@router.websocket("/ws/races/{race_id}")
async def race_socket(websocket: WebSocket, race_id: str) -> None:
    await _stream(websocket, "race", race_id)
