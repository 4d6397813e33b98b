"""A convolutional run through the job queue: the spec travels as it is, a `backprop worker`
asks the family registry for its trainer, and the image pictures come back over Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.nn.spec.experiment import validate_spec
from app.nn.training.cnn import CnnTrainer
from tests.queue.conftest import RedisServer, Workers, queue_settings
from tests.web.service import TERMINAL, app_client, events, wait_status

SPEC = {
    "family": "cnn",
    "seed": 5,
    "cnn": {"dataset": "shapes", "classes": 3, "samples": 90, "conv": [{"channels": 3}]},
    "train": {"epochs": 2, "batch_size": 15},
}


@pytest.fixture(scope="module")
def pool(redis_server: RedisServer, workers: Workers) -> Iterator[set[int]]:
    workers.start(1)
    yield workers.wait_ready(redis_server.client(), 1)


def test_a_cnn_run_goes_through_the_queue(
    tmp_path: Path, redis_server: RedisServer, pool: set[int]
) -> None:
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        run_id = client.post("/api/v1/runs", json=SPEC).json()["id"]
        run = wait_status(client, run_id, TERMINAL)
        assert run["status"] == "finished", run
        want = CnnTrainer(validate_spec(SPEC)).run()["final"]
        assert run["summary"]["final"] == pytest.approx(want, rel=1e-5)
        snaps = [e for e in events(client, run_id) if e["type"] == "snapshot"]
        assert snaps and snaps[-1]["filters"][0]["shape"] == [3, 1, 3, 3]
    stream = redis_server.client().xrange(f"bp:run:{run_id}:ev")
    sent = [json.loads(fields[b"m"]) for _, fields in stream]
    assert any(m.get("type") == "snapshot" for m in sent)  # the pictures crossed Redis
