"""A comparison's compact URL form: the base spec's compact query (app.nn.spec.url) plus one
`m` parameter per member holding only the compact keys in which that member differs.

    /compare?d=xor&va=0.2&m=o~sgd&m=o~momentum!op~momentum:0.9&m=o~adam!lr~0.003!label~Adam

A member is `key~value` pairs joined by `!`; the keys are spec_url's (o, lr, op, sc, bs, l1,
l2, wd, gc, l, i, loss...), so a member may differ in anything a spec link can say. An empty
value means "the default" (the key is dropped from the base's query), `m=-` a member equal to
the base; `label` is the legend name (percent-escaped). `tl` is the comparison's target loss.
Stable like spec_url: keys are never renamed and a missing key means the default.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlencode

from app.nn.spec.experiment import Spec
from app.nn.spec.url import from_query, to_query

MEMBER_KEY, TARGET_KEY = "m", "tl"
PAIR, SEP = "~", "!"
SAME = "-"  # a member identical to the base (an empty value would vanish from many parsers)


def member_text(base: dict[str, str], member: dict[str, str], label: str = "") -> str:
    diff = {k: v for k, v in member.items() if base.get(k) != v}
    diff.update({k: "" for k in base if k not in member})
    parts = [f"{k}{PAIR}{v}" for k, v in sorted(diff.items())]
    if label:
        escaped = label.replace("%", "%25").replace(SEP, "%21").replace(PAIR, "%7E")
        parts.append(f"label{PAIR}{escaped}")
    return SEP.join(parts) or SAME


def to_items(
    base: Spec, members: list[tuple[str, Spec]], target_loss: float | None = None
) -> list[tuple[str, str]]:
    """Query items of a comparison: base keys, then one `m` per member (label, spec)."""
    q = to_query(base)
    items = list(q.items())
    items += [(MEMBER_KEY, member_text(q, to_query(spec), label)) for label, spec in members]
    if target_loss is not None:
        items.append((TARGET_KEY, repr(target_loss)))
    return items


def to_url_query(
    base: Spec, members: list[tuple[str, Spec]], target_loss: float | None = None
) -> str:
    return urlencode(to_items(base, members, target_loss), safe=":,~!")


def parse_member(text: str, where: str) -> tuple[dict[str, str], str]:
    """(differing compact keys, label) of one `m` value."""
    diff: dict[str, str] = {}
    label = ""
    for part in filter(None, text.split(SEP) if text != SAME else []):
        key, sep, value = part.partition(PAIR)
        if not sep or not key:
            raise ValueError(
                f"{where}: expected key{PAIR}value pairs joined by {SEP}, got {part!r}"
            )
        if key == "label":
            label = unquote(value)
        else:
            diff[key] = value
    return diff, label


def from_items(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """A comparison request (unvalidated: base and members as full spec dicts under
    "member_specs", labels, target) from query items; ValueError on a malformed link."""
    base_q: dict[str, str] = {}
    texts: list[str] = []
    target: float | None = None
    for key, value in items:
        if key == MEMBER_KEY:
            texts.append(value)
        elif key == TARGET_KEY:
            try:
                target = float(value)
            except ValueError:
                raise ValueError(
                    f"URL key {TARGET_KEY!r}: expected a number, got {value!r}"
                ) from None
        else:
            base_q[key] = value
    members = []
    for i, text in enumerate(texts):
        diff, label = parse_member(text, f"member {i + 1}")
        merged = {**base_q, **diff}
        query = {k: v for k, v in merged.items() if v != ""}
        try:
            members.append((label, from_query(query)))
        except ValueError as exc:
            raise ValueError(f"member {i + 1}: {exc}") from None
    return {"base": from_query(base_q), "members": members, "target_loss": target}
