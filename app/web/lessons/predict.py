"""Predict, then run, on a lesson page: what to start and how the run settles the question.

GET /lessons/{slug}/experiment.json: the body the page posts to /api/runs (a single-spec
lesson) or /api/comparisons (a comparison; its base is the first member, as on /compare).
GET /lessons/{slug}/settle?runs=<id>,<id>...: once every run (one per member, in member
order) has ended, the answer the runs support and the measured numbers that decided it
(app/lessons/predict.py). The visitor's choice never reaches the server: it lives in the
page (localStorage), so there is nothing to store and no account.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from app.lessons.predict import settle
from app.lessons.registry import LESSONS, member_specs
from app.runs.errors import Conflict, Invalid, NotFound
from app.runs.events.stream import TERMINAL
from app.web.common.deps import get_service
from app.web.compare.forms import request_from_specs

router = APIRouter(include_in_schema=False)
RUN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def _lesson(slug: str) -> Any:
    if slug not in LESSONS:
        raise NotFound(f"no lesson {slug!r}")
    return LESSONS[slug]


@router.get("/lessons/{slug}/experiment.json")
def experiment(slug: str) -> JSONResponse:
    lesson = _lesson(slug)
    specs = [(label, s.model_dump(mode="json")) for label, s in member_specs(lesson)]
    if lesson.comparison is None:
        return JSONResponse({"kind": "run", "labels": [""], "body": specs[0][1]})
    body = request_from_specs(specs[0][1], specs, None)
    return JSONResponse({"kind": "comparison", "labels": [s[0] for s in specs], "body": body})


@router.get("/lessons/{slug}/settle")
async def settle_runs(
    slug: str,
    request: Request,
    runs: str = Query(..., max_length=600, description="run ids, one per member, in order"),
) -> JSONResponse:
    lesson = _lesson(slug)
    if lesson.predict is None:
        raise NotFound(f"lesson {slug!r} asks no question")
    labels = [label for label, _ in member_specs(lesson)]
    ids = runs.split(",")
    if len(ids) != len(labels) or not all(RUN_ID.match(i) for i in ids):
        raise Invalid(
            [{"field": "runs", "message": f"expected {len(labels)} run ids separated by commas"}]
        )
    service = get_service(request)
    summaries = {}
    for label, run_id in zip(labels, ids, strict=True):
        view = await service.get(run_id)
        if view["status"] not in TERMINAL:
            raise Conflict(f"run {run_id} is still {view['status']}: settle it when it ends")
        summaries[label] = {**(view.get("summary") or {}), "status": view["status"]}
    verdict = settle(slug, summaries)
    return JSONResponse({**verdict, "answer_text": lesson.predict.answers[verdict["answer"]]})
