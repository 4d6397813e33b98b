"""The default suite: every fast test plus a seeded sample of the slow ones.

`make test` must stay well under 15 minutes on a 2-core machine, so tests marked `slow`
(long phenomenon runs, subprocess installs, the heaviest browser and fault-injection
tests) run as a sample of SLOW_SAMPLE, drawn with a seed that changes every day: over a
week of CI runs every slow test runs, and any failure is reproducible with its seed.

  PLAYGROUND_TEST_SEED=<n>  draw the sample with this seed (the header prints today's)
  PLAYGROUND_SLOW=all       run every slow test (`make test-all`)
  -m ... or named paths     obeyed as they are (`pytest tests/docker` runs its slow test)
"""

from __future__ import annotations

import datetime
import os
import random

import pytest

SLOW_SAMPLE = 4
SAMPLED = pytest.StashKey[list[str]]()


def _seed() -> int:
    given = os.environ.get("PLAYGROUND_TEST_SEED", "").strip()
    return int(given) if given.isdigit() else int(datetime.date.today().strftime("%Y%m%d"))


def _sampling(config: pytest.Config) -> bool:
    whole_suite = config.args_source == pytest.Config.ArgsSource.TESTPATHS
    return whole_suite and not config.option.markexpr and os.environ.get("PLAYGROUND_SLOW") != "all"


def _skipped_anyway(item: pytest.Item) -> bool:
    """Slow tests behind a skip that holds today (the lessons' full seed spread)."""
    return any(m.args and m.args[0] is True for m in item.iter_markers("skipif"))


def pytest_report_header(config: pytest.Config) -> str:
    if not _sampling(config):
        return "slow tests: all that the marker expression selects"
    return (
        f"slow tests: a sample of {SLOW_SAMPLE}, seed {_seed()} "
        "(PLAYGROUND_TEST_SEED=<n> to repeat, PLAYGROUND_SLOW=all for every one)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not _sampling(config):
        return
    slow = [i for i in items if i.get_closest_marker("slow") and not _skipped_anyway(i)]
    chosen = set(random.Random(_seed()).sample(slow, min(SLOW_SAMPLE, len(slow))))
    dropped = [i for i in items if i.get_closest_marker("slow") and i not in chosen]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [i for i in items if i not in set(dropped)]
    config.stash[SAMPLED] = sorted(i.nodeid for i in chosen)


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    sampled = config.stash.get(SAMPLED, None)
    if sampled is not None:
        terminalreporter.write_line(f"slow sample (seed {_seed()}): " + ", ".join(sampled))
