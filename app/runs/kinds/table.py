"""The job kinds a worker runs: plain runs, comparisons and optimizer races.

A job is one dict from the manager to an executor to a worker: {"run_id", "seq", "spec",
"paused", "limits", "options"} plus "kind" ("run" when absent). Any executor supports a
kind as long as it hands the job to `app.runs.kinds.run.loop` unchanged and routes the worker's
events and acks back by the job's run_id (a comparison's or race's id).
"""

from __future__ import annotations

from typing import Any

from app.runs.kinds.base import JobChannel
from app.runs.kinds.comparison.loop import ComparisonLoop
from app.runs.kinds.race.loop import RaceLoop
from app.runs.kinds.run.loop import RunLoop

# The one table of job kinds: a new kind is a folder under app/runs/kinds/ and a line here.
KINDS: dict[str, type[RunLoop]] = {"run": RunLoop, "comparison": ComparisonLoop, "race": RaceLoop}


class UnknownJob(RunLoop):
    """A kind this worker does not know (an older worker behind a queue): fail clearly."""

    def run(self) -> None:
        reason = f"this worker cannot run jobs of kind {self.job.get('kind')!r}"
        self.ended = True
        self.emit_status("failed", reason, {"status": "failed", "reason": reason})


def loop_for(job: dict[str, Any], chan: JobChannel) -> RunLoop:
    return KINDS.get(str(job.get("kind", "run")), UnknownJob)(job, chan)
