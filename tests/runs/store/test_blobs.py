"""The store's datasets and artifacts tables: content addresses, the size cap, cascades."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.runs.store import blobs
from app.runs.store.runs import Store


def test_datasets_are_content_addressed_and_the_oldest_go_over_the_cap(tmp_path: Path) -> None:
    def points(n: int, label: float) -> list[list[float]]:
        return [[i / 10, -i / 10, label] for i in range(n)]

    async def scenario() -> None:
        store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
        await store.open()
        try:
            a, b, c = points(20, 0.0), points(20, 1.0), points(30, 2.0)
            keys = [blobs.points_key(p) for p in (a, b, c)]
            assert keys[0] == blobs.points_key([list(r) for r in a]) and len(set(keys)) == 3
            for p, key in zip((a, b), keys, strict=False):
                assert await store.call(blobs.put_points, store, key, p, 50) == []
            assert await store.call(blobs.put_points, store, keys[0], a, 50) == []  # again
            # 20 + 20 + 30 > 50: the oldest goes, the newest always stays.
            assert await store.call(blobs.put_points, store, keys[2], c, 50) == [keys[0]]
            assert await store.call(blobs.get_points, store, keys[0]) is None
            assert await store.call(blobs.get_points, store, keys[1]) == b
            assert await store.call(blobs.get_points, store, keys[2]) == c
        finally:
            await store.close()

    asyncio.run(scenario())


def test_artifacts_belong_to_their_run(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = Store(f"sqlite:///{tmp_path / 'db.sqlite'}")
        await store.open()
        try:
            row = {"id": "r1", "status": "finished", "spec": {}, "created_at": 1.0}
            await store.call(store.insert_run, row, [])
            await store.call(blobs.put_artifact, store, "r1", "weights", 5, b"abc")
            await store.call(blobs.put_artifact, store, "r1", "weights", 9, b"xyz")  # replaced
            await store.call(blobs.put_artifact, store, "gone", "weights", 1, b"-")  # no run
            found = await store.call(blobs.get_artifact, store, "r1", "weights")
            assert found == blobs.Artifact("weights", 9, b"xyz")
            assert await store.call(blobs.get_artifact, store, "gone", "weights") is None
            await store.call(store.delete_run, "r1")
            assert await store.call(blobs.get_artifact, store, "r1", "weights") is None
        finally:
            await store.close()

    asyncio.run(scenario())
