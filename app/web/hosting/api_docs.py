"""/docs: the interactive API reference, Swagger UI served from /static/vendor (vendored from
npm by scripts/vendor.sh), so it works offline and under the site's CSP without inline code.

FastAPI's own /docs loads Swagger UI from a CDN with an inline bootstrap script, and /redoc
loads ReDoc the same way; both are turned off in create_app. ReDoc is dropped rather than
vendored: its styled-components inject <style> elements, which would need 'unsafe-inline'
styles on that page, and /docs plus docs/API.md already document the same schema.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

router = APIRouter(include_in_schema=False)


@router.get("/docs", response_class=HTMLResponse)
async def swagger_ui(request: Request) -> HTMLResponse:
    app = request.app
    context = {"title": app.title, "openapi_url": app.openapi_url}
    response: HTMLResponse = app.state.templates.TemplateResponse(request, "docs.html", context)
    return response
