"""Redis key names, stream entry encoding and the atomic scripts of the job queue.

Per run (`{p}` is the deployment's prefix, so several can share one Redis):
  {p}:run:{id}:job    hash: state (submitted | claimed | ended), owner (web server),
                      worker, seq (first seq the worker numbers events from), times
  {p}:run:{id}:lease  the claiming worker's id; expires unless renewed: the death sign
  {p}:run:{id}:ev     stream of the run's events and acks, bounded (MAXLEN ~)
  {p}:run:{id}:ctl    stream of control messages (pause, resume, step, stop, set)
Shared: {p}:runs (jobs not ended), {p}:pending (jobs no worker took yet), {p}:workers
and {p}:worker:{id} (registry + liveness), {p}:instances and {p}:instance:{id} (web
servers; `...:runs` lists a server's live runs, for the one that takes them over if
it dies), {p}:worker-errors (workers that could not start).

State changes of a job go through the Lua scripts below, so a worker that claims a job
and a web server that declares it lost can never both win.
"""

from __future__ import annotations

import json
import time
from typing import Any

JOB_STATES = ("submitted", "claimed", "ended")

# A worker takes a job only if it is still waiting (not ended, not taken by another).
CLAIM = """
if redis.call('HGET', KEYS[1], 'state') ~= 'submitted' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'claimed', 'worker', ARGV[1], 'claimed_at', ARGV[3])
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
redis.call('SREM', KEYS[3], ARGV[4])
return 1
"""

# The holder renews its lease; 0 tells it the run was ended elsewhere (give it up).
RENEW = """
if redis.call('HGET', KEYS[1], 'state') ~= 'claimed' then return 0 end
if redis.call('HGET', KEYS[1], 'worker') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
return 1
"""

# The job is over (its terminal event is in the stream): keep its keys a while for
# late readers, then let them expire.
RELEASE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end  -- lost (Redis restarted): leave it
if redis.call('HGET', KEYS[1], 'state') ~= 'ended' then
  redis.call('HSET', KEYS[1], 'state', 'ended', 'ended_by', ARGV[2])
end
redis.call('DEL', KEYS[2])
redis.call('SREM', KEYS[5], ARGV[1])
redis.call('SREM', KEYS[6], ARGV[1])
for i = 1, 4 do if i ~= 2 then redis.call('EXPIRE', KEYS[i], ARGV[3]) end end
return 1
"""

# A web server ends a job that nobody will finish: mode 'lost' (claimed, lease gone),
# 'unclaimed' (still waiting) or 'any' (not ended yet). 1 = this caller ended it.
END_IF = """
local state = redis.call('HGET', KEYS[1], 'state')
if not state or state == 'ended' then return 0 end
if ARGV[1] == 'lost' and (state ~= 'claimed' or redis.call('EXISTS', KEYS[2]) == 1) then
  return 0
end
if ARGV[1] == 'unclaimed' and state ~= 'submitted' then return 0 end
redis.call('HSET', KEYS[1], 'state', 'ended', 'ended_by', ARGV[2])
redis.call('SREM', KEYS[3], ARGV[3])
return 1
"""


class Keys:
    def __init__(self, prefix: str) -> None:
        self.p = prefix
        self.runs = f"{prefix}:runs"
        self.pending = f"{prefix}:pending"
        self.workers = f"{prefix}:workers"
        self.instances = f"{prefix}:instances"
        self.worker_errors = f"{prefix}:worker-errors"
        self.dramatiq = f"{prefix}-dramatiq"  # the broker's own namespace

    def job(self, run_id: str) -> str:
        return f"{self.p}:run:{run_id}:job"

    def lease(self, run_id: str) -> str:
        return f"{self.p}:run:{run_id}:lease"

    def events(self, run_id: str) -> str:
        return f"{self.p}:run:{run_id}:ev"

    def control(self, run_id: str) -> str:
        return f"{self.p}:run:{run_id}:ctl"

    def worker(self, worker_id: str) -> str:
        return f"{self.p}:worker:{worker_id}"

    def instance(self, instance_id: str) -> str:
        return f"{self.p}:instance:{instance_id}"

    def instance_runs(self, instance_id: str) -> str:
        """The live runs a web server last reported: outlives it, for whoever takes over."""
        return f"{self.p}:instance:{instance_id}:runs"

    def run_keys(self, run_id: str) -> list[str]:
        """KEYS of RELEASE: job, lease, events, control, runs, pending."""
        return [
            self.job(run_id),
            self.lease(run_id),
            self.events(run_id),
            self.control(run_id),
            self.runs,
            self.pending,
        ]


def entry(meta: dict[str, Any], data: bytes = b"") -> dict[str, Any]:
    """A stream entry: parsed facts, the finished bytes, and the emit time (latency)."""
    return {"m": json.dumps(meta, separators=(",", ":")), "d": data, "t": repr(time.time())}


def parse_entry(fields: dict[Any, Any]) -> tuple[dict[str, Any], bytes, float]:
    def get(name: str) -> Any:
        return fields.get(name, fields.get(name.encode()))

    meta = json.loads(get("m") or b"{}")
    data = get("d") or b""
    sent = get("t")
    return meta, data if isinstance(data, bytes) else data.encode(), float(sent or 0.0)
