"""With the queue executor the creation rate limit is one count for every web server:
two servers on one private Redis allow the limit once, not twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.web.hosting.shared_limits import SharedWindow
from tests.queue.conftest import RedisServer, queue_settings
from tests.web.service import QUICK, app_client, free_port, make_settings

LIMIT = {"create_per_minute": 2.0, "create_burst": 2}  # 2 runs in any 60 s


def test_two_servers_on_one_redis_share_one_limit(tmp_path: Path) -> None:
    redis_server = RedisServer(tmp_path).start()  # private: no other test's counters
    try:
        one = queue_settings(tmp_path / "one", redis_server.url, **LIMIT)
        two = queue_settings(tmp_path / "two", redis_server.url, **LIMIT)
        with app_client(one) as first, app_client(two) as second:
            codes = [c.post("/api/runs", json=QUICK).status_code for c in (first, second)]
            assert codes == [201, 201]  # queued: no worker is needed to count them
            for client in (first, second):
                refused = client.post("/api/runs", json=QUICK)
                assert refused.status_code == 429, refused.text
                assert 1 <= int(refused.headers["retry-after"]) <= 60
            # The count is per client address: another address has its own.
            with app_client(one, client=("198.51.100.8", 4000)) as other:
                assert other.post("/api/runs", json=QUICK).status_code == 201
        keys = [k.decode() for k in redis_server.client().keys("bp:ratelimit*")]
        assert keys, "the counters live in Redis under the queue prefix"
    finally:
        redis_server.stop()


def test_local_servers_count_apart(tmp_path: Path) -> None:
    # The local executor keeps today's per-process bucket (what the shared one fixes).
    one = make_settings(tmp_path / "one", **LIMIT)
    two = make_settings(tmp_path / "two", **LIMIT)
    with app_client(one) as first, app_client(two) as second:
        for client in (first, second):
            codes = [client.post("/api/runs", json=QUICK).status_code for _ in range(3)]
            assert codes == [201, 201, 429]


def test_unreachable_redis_does_not_refuse_visitors() -> None:
    window = SharedWindow(f"redis://127.0.0.1:{free_port()}/0", "bp", 2.0, 1)
    assert asyncio.run(window.take("198.51.100.9")) == 0.0
