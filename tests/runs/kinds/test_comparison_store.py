"""Comparison tables: incremental checkpoints, the exact log at the end, crash recovery."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from app.runs.events.members import member_event
from app.runs.events.stream import Event, make_event, status_fields
from app.runs.kinds.comparison import store as cstore
from app.runs.store.runs import Store


def _member(seq: int, type_: str, member: int) -> Event:
    data, _ = member_event("c1", seq, type_, member, {"step": seq})
    return Event(seq, type_, data)


def test_checkpoints_keep_the_latest_pictures_and_a_crash_is_interrupted(tmp_path: Path) -> None:
    async def scenario() -> tuple[list[Event], dict[str, object] | None, dict[str, object]]:
        store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
        await store.open()
        await store.call(cstore.create_tables, store)
        first = make_event("c1", 1, "status", status_fields("queued", None, 1))
        row = {
            "id": "c1",
            "client": "me",
            "status": "queued",
            "reason": None,
            "spec": {"members": []},
            "members": [{"run_id": "r0", "label": "a"}, {"run_id": "r1", "label": "b"}],
            "mode": "batched",
            "mode_reason": "",
            "summary": None,
            "created_at": 1.0,
            "started_at": None,
            "finished_at": None,
            "last_seq": 1,
        }
        await store.call(cstore.insert, store, row, [first])
        running = make_event("c1", 2, "status", status_fields("running"))
        new = [running, _member(3, "start", 0), _member(4, "metrics", 0)]
        pics = [_member(5, "snapshot", 0), _member(6, "snapshot", 1)]
        await store.call(
            cstore.checkpoint, store, "c1", new, pics, {"status": "running", "last_seq": 6}
        )
        newer = [_member(8, "snapshot", 0), _member(6, "snapshot", 1)]  # member 0 drew again
        await store.call(
            cstore.checkpoint, store, "c1", [_member(7, "metrics", 1)], newer, {"last_seq": 8}
        )
        await store.call(cstore.interrupt_unfinished, store)  # the server crashed: next start
        events = await store.call(cstore.get_events, store, "c1", 0)
        links = await store.call(cstore.links, store, ["r1", "zz"])
        stored = await store.call(cstore.get, store, "c1")
        await store.close()
        return events, stored, links

    events, stored, links = asyncio.run(scenario())
    assert [(e.seq, e.type) for e in events] == [
        (1, "status"),
        (2, "status"),
        (3, "start"),
        (4, "metrics"),
        (6, "snapshot"),
        (7, "metrics"),
        (8, "snapshot"),
        (9, "status"),
    ]
    last = json.loads(events[-1].data)
    assert last["status"] == "interrupted" and "server stopped" in last["reason"]
    assert stored is not None and stored["status"] == "interrupted" and stored["last_seq"] == 9
    assert links == {"r1": {"id": "c1", "member": 1, "label": "b"}}
