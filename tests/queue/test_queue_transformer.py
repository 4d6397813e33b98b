"""A transformer run through the job queue: the spec travels as it is, a `backprop worker`
asks the family registry for its trainer, and the attention pictures come back over Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.queue.conftest import RedisServer, Workers, queue_settings
from tests.web.service import TERMINAL, app_client, events, wait_status

SPEC = {
    "family": "transformer",
    "transformer": {"dataset": "sort", "length": 4, "examples": 200, "d_model": 16},
    "train": {"epochs": 3},
}


@pytest.fixture(scope="module")
def pool(redis_server: RedisServer, workers: Workers) -> Iterator[set[int]]:
    workers.start(1)
    yield workers.wait_ready(redis_server.client(), 1)


def test_a_transformer_run_goes_through_the_queue(
    tmp_path: Path, redis_server: RedisServer, pool: set[int]
) -> None:
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        run_id = client.post("/api/v1/runs", json=SPEC).json()["id"]
        run = wait_status(client, run_id, TERMINAL)
        assert run["status"] == "finished", run
        assert run["summary"]["step"] == 3 * 4 and "test_seq_acc" in run["summary"]["final"]
        snaps = [e for e in events(client, run_id) if e["type"] == "snapshot"]
        assert snaps and snaps[-1]["maps"]["shape"] == [2, 2, 4, 4]
    stream = redis_server.client().xrange(f"bp:run:{run_id}:ev")
    sent = [json.loads(fields[b"m"]) for _, fields in stream]
    assert any(m.get("type") == "snapshot" for m in sent)  # the pictures crossed Redis
