"""A recurrent run through the job queue: the spec travels as it is and a `backprop worker`
process trains it through trainer_for, with the same numbers and pictures as the pool's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.queue.conftest import RedisServer, Workers, queue_settings
from tests.web.runs.test_rnn_runs import RNN, check_run
from tests.web.service import app_client


@pytest.fixture(scope="module")
def pool(redis_server: RedisServer, workers: Workers) -> Iterator[set[int]]:
    workers.start(1)
    yield workers.wait_ready(redis_server.client(), 1)


def test_a_recurrent_run_goes_through_the_queue(
    tmp_path: Path, redis_server: RedisServer, pool: set[int]
) -> None:
    with app_client(queue_settings(tmp_path, redis_server.url)) as client:
        assert client.get("/healthz").json()["executor"] == "queue"
        check_run(client, {**RNN, "rnn": {**RNN["rnn"], "cell": "gru"}} | {"seed": 4})
