"""Who may control a run: the visitor that created it (when settings.owner_only is on,
as in demo mode). Anyone with a link may watch: GET, /events and the WebSocket stream
stay open to all; pause, resume, step, stop, PATCH, DELETE and socket control messages
check ownership first.

New control endpoints (on runs, comparisons, races...) must use this module:
  - a route with a `{run_id}` path parameter: `dependencies=[Depends(require_owner)]`
  - anything else: `await check_owner(request, run_id)` before acting
  - a UI fragment that only wants to know: `await may_control(request, run_id)`
"""

from __future__ import annotations

from starlette.requests import HTTPConnection

from app.runs.errors import Forbidden, NotFound
from app.web.common.deps import get_app_settings, get_service
from app.web.common.visitor import visitor_id

NOT_YOURS = (
    "this run belongs to another visitor: you can watch it, but only its creator can "
    "pause, step, change or stop it"
)


async def may_control(conn: HTTPConnection, run_id: str) -> bool:
    """Whether this visitor may control the run (NotFound for an unknown run)."""
    if not get_app_settings(conn).owner_only:
        return True
    return await get_service(conn).owner(run_id) == visitor_id(conn)


async def check_owner(conn: HTTPConnection, run_id: str) -> None:
    """Forbidden (403) unless this visitor may control the run; NotFound (404) if unknown."""
    if not await may_control(conn, run_id):
        raise Forbidden(NOT_YOURS)


async def require_owner(conn: HTTPConnection, run_id: str) -> None:
    """FastAPI dependency for routes with a `{run_id}` path parameter."""
    await check_owner(conn, run_id)


async def owns_quietly(conn: HTTPConnection, run_id: str) -> bool:
    """may_control, with an unknown run counted as not controllable."""
    try:
        return await may_control(conn, run_id)
    except NotFound:
        return False
