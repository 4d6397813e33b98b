"""The lessons gallery (/lessons), one page per lesson (/lessons/<slug>) and the small banner
the playground shows when it was opened from a lesson (/lessons/<slug>/banner).

Lessons are data (app/lessons); this module only groups and links them. A single-spec
lesson opens the playground with the spec in its compact URL form; a comparison opens
/compare?lesson=<slug>, and each of its members can also be opened alone. The URL
fragment `#lesson=<slug>` tells the playground's script which lesson to show (the server
never needs it), `&autoplay` makes it press Play once.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from app.lessons.registry import LESSONS, WATCH, Lesson, member_specs
from app.web.common.playground_url import page_url_query

router = APIRouter(include_in_schema=False)

# Gallery sections by concept (CONCEPTS.md rows); a lesson whose concept is not listed here
# lands in "More lessons", so adding a lesson never needs an edit here.
GROUPS: tuple[tuple[str, str, frozenset[int]], ...] = (
    ("Representation", "what depth, width and nonlinearity buy", frozenset({1, 2})),
    ("Initialisation", "where the weights start matters", frozenset({3, 4})),
    (
        "Gradient flow",
        "how the gradient reaches (or fails to reach) the first layers",
        frozenset({25, 5, 6, 7, 20}),
    ),
    (
        "Optimizers and learning rates",
        "how the steps are taken",
        frozenset({8, 9, 10, 11, 12, 22}),
    ),
    (
        "Generalisation",
        "fitting the data without memorising it",
        frozenset({13, 14, 15, 16, 24}),
    ),
    ("Normalisation and architecture", "layers that keep signals healthy", frozenset({17, 18, 19})),
    ("Losses and outputs", "what is optimised and what comes out", frozenset({21, 23})),
    ("Sequences", "memory through time in RNN, GRU and LSTM", frozenset({29, 30})),
    ("Convolutions", "what weight sharing buys on images", frozenset({26, 27, 28})),
    ("Attention", "what a transformer's heads learn", frozenset({31, 32, 33, 34, 35})),
)

# Where each "watch" key lives in the playground: (panel, element id the banner highlights).
WATCH_PLACES: dict[str, tuple[str, str]] = {
    "loss": ("Training curves · Loss", "chart-loss"),
    "accuracy": ("Training curves · Accuracy", "chart-acc"),
    "boundary": ("Output (decision boundary)", "plot-boundary"),
    "neurons": ("Network diagram (neuron pictures)", "network"),
    "lr": ("Training curves · Learning rate", "chart-lr"),
    "grad_norms": ("Training curves · Gradient norm per layer", "chart-grad"),
    "update_ratio": ("Training curves · Update / weight ratio", "chart-ratio"),
    "weight_norm": ("Network diagram (line widths)", "network"),
    "dead": ("Diagnostics · dead units", "diagnostics"),
    "saturated": ("Diagnostics · saturated", "diagnostics"),
    "act_std": ("Diagnostics · activation histograms", "diagnostics"),
    "histograms": ("Diagnostics · activation and gradient histograms", "diagnostics"),
    "symmetry": ("Diagnostics · symmetry meter", "diagnostics"),
    "loss_at_init": ("Diagnostics · loss at init", "diagnostics"),
    "flags": ("Diagnostics · gradient flags", "diagnostics"),
    "sparsity": ("Diagnostics · sparsity", "diagnostics"),
    "sign_agreement": ("Diagnostics · sign agreement", "diagnostics"),
    "temperature": ("Softmax temperature", "temperature"),
    "splits": ("Run status (train / val / test scores)", "status-detail"),
    "through_time": ("Through time · ||dL/dh_t||", "seq-grad"),
    "sequence": ("Through time · hidden state and gates", "sequence-card"),
}


def templates(request: Request) -> Any:
    return request.app.state.templates


def grouped() -> list[dict[str, Any]]:
    """Gallery sections in concept order, each with its lessons; empty sections dropped."""
    members: list[list[Lesson]] = [[] for _ in GROUPS]
    more: list[Lesson] = []
    for lesson in LESSONS.values():
        home = next((i for i, g in enumerate(GROUPS) if lesson.concept in g[2]), None)
        (more if home is None else members[home]).append(lesson)
    sections = [
        {"title": title, "blurb": blurb, "lessons": lessons}
        for (title, blurb, _), lessons in zip(GROUPS, members, strict=True)
    ]
    sections.append({"title": "More lessons", "blurb": "", "lessons": more})
    return [s for s in sections if s["lessons"]]


def playground_link(query: str, slug: str, autoplay: bool = False) -> str:
    return ("/?" + query if query else "/") + f"#lesson={slug}" + ("&autoplay" if autoplay else "")


def launches(lesson: Lesson) -> list[dict[str, str]]:
    """One playground link (and a train-now link) per experiment of the lesson."""
    out = []
    for label, spec in member_specs(lesson):
        query = page_url_query(spec)
        out.append(
            {
                "label": label,
                "open": playground_link(query, lesson.slug),
                "play": playground_link(query, lesson.slug, autoplay=True),
            }
        )
    return out


def watch_items(lesson: Lesson) -> list[dict[str, str]]:
    return [
        {
            "key": key,
            "what": WATCH[key],
            "where": WATCH_PLACES.get(key, ("", ""))[0],
            "target": WATCH_PLACES.get(key, ("", ""))[1],
        }
        for key in lesson.watch
    ]


def lesson_context(lesson: Lesson) -> dict[str, Any]:
    numbers = [lsn.slug for lsn in LESSONS.values()]
    at = numbers.index(lesson.slug)
    return {
        "nav": "lessons",
        "lesson": lesson,
        "watch": watch_items(lesson),
        "launches": launches(lesson),
        "compare": f"/compare?lesson={lesson.slug}" if lesson.comparison else "",
        "explore": f"/explore?{lesson.explore_query()}" if lesson.explore else "",
        "prev": LESSONS[numbers[at - 1]] if at > 0 else None,
        "next": LESSONS[numbers[at + 1]] if at + 1 < len(numbers) else None,
    }


def missing(request: Request, slug: str) -> HTMLResponse:
    response: HTMLResponse = templates(request).TemplateResponse(
        request,
        "lesson.html",
        {"nav": "lessons", "lesson": None, "slug": slug, "count": len(LESSONS)},
        status_code=404,
    )
    return response


@router.get("/lessons", response_class=HTMLResponse)
def lessons_page(request: Request) -> HTMLResponse:
    response: HTMLResponse = templates(request).TemplateResponse(
        request, "lessons.html", {"nav": "lessons", "sections": grouped(), "count": len(LESSONS)}
    )
    return response


@router.get("/lessons/{slug}", response_class=HTMLResponse)
def lesson_page(request: Request, slug: str) -> HTMLResponse:
    if slug not in LESSONS:
        return missing(request, slug)
    response: HTMLResponse = templates(request).TemplateResponse(
        request, "lesson.html", lesson_context(LESSONS[slug])
    )
    return response


@router.get("/lessons/{slug}/banner", response_class=HTMLResponse)
def lesson_banner(request: Request, slug: str) -> HTMLResponse:
    """The playground's reminder of the lesson it was opened from: title, what to watch."""
    if slug not in LESSONS:
        return HTMLResponse("", status_code=404)
    lesson = LESSONS[slug]
    response: HTMLResponse = templates(request).TemplateResponse(
        request,
        "partials/_lesson_banner.html",
        {"lesson": lesson, "watch": watch_items(lesson)},
    )
    return response
