"""Server-rendered pages and HTMX fragments (the playground UI)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
