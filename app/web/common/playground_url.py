"""The playground's own link defaults, on top of the spec's compact URL form.

On the page, Play trains until paused at a pace the eye can follow (TensorFlow
Playground's habit: the boundary moves epoch by epoch, and a run ends when you pause it);
over the API and the CLI a spec runs its epochs as fast as the engine goes. A link that
names its epochs (`ep`) or says `up=0` trains that many epochs; a link without them
trains until paused. A missing `pc` means the page's pace.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from app.nn.spec.experiment import Spec
from app.nn.spec.url import to_query

PAGE_PACE = 120.0  # epochs a second: twice what TensorFlow Playground shows (one a frame)


def with_page_defaults(query: dict[str, str], spec: dict[str, Any]) -> dict[str, Any]:
    """The spec dict of a page link, with the page's defaults where the link is silent."""
    if "ep" not in query and "up" not in query:
        spec.setdefault("train", {})["until_paused"] = True
    if "pc" not in query:
        spec.setdefault("stream", {})["pace"] = PAGE_PACE
    return spec


def page_query(spec: Spec) -> dict[str, str]:
    """The compact query of a page link: what differs from the page's defaults."""
    query = to_query(spec)
    if spec.train.until_paused:
        query.pop("up", None)
    elif "ep" not in query:
        query["up"] = "0"
    if spec.stream.pace == PAGE_PACE:
        query.pop("pc", None)
    elif "pc" not in query:
        query["pc"] = "0"
    return query


def page_url_query(spec: Spec) -> str:
    return urlencode(page_query(spec), safe=":,")
