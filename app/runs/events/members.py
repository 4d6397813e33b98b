"""Events of a comparison tagged with a member, and the same event as the member run's own.

A worker encodes a member's event once, as the comparison's event:
    {"run_id": <comparison>, "seq": N, "type": "metrics", "member": 2, ...fields}
and says in the frame's meta where `...fields` begins (`tail`). The web process then makes
the member run's event, {"run_id": <member run>, "seq": M, "type": "metrics", ...fields}, by
splicing bytes: no JSON is parsed or encoded again per event.
"""

from __future__ import annotations

from typing import Any

from app.runs.events.stream import Event, make_event, status_fields, to_json


def member_event(
    run_id: str, seq: int, type_: str, member: int, fields: dict[str, Any]
) -> tuple[bytes, int]:
    """(event JSON, offset of the fields in it)."""
    head = to_json({"run_id": run_id, "seq": seq, "type": type_, "member": member})
    body = to_json(fields)
    if len(body) <= 2:  # no fields
        return head, len(head) - 1
    return head[:-1] + b"," + body[1:], len(head)


def as_member_run(run_id: str, seq: int, meta: dict[str, Any], data: bytes) -> Event:
    """The member run's copy of a comparison event (meta: type, tail, step, loss...)."""
    type_ = str(meta["type"])
    tail = int(meta["tail"])
    head = to_json({"run_id": run_id, "seq": seq, "type": type_})
    rest = data[tail:]
    body = head[:-1] + (b"," + rest if rest != b"}" else b"}")
    keep = {k: v for k, v in meta.items() if k not in ("kind", "run_id", "member", "tail")}
    return Event(seq, type_, body, {**keep, "seq": seq})


def member_status(run_id: str, seq: int, status: str, reason: str | None, summary: Any) -> Event:
    return make_event(run_id, seq, "status", status_fields(status, reason, None, summary))
