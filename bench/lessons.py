"""Lesson claims over many seeds: on how many seeds does each claim of each lesson hold?

Runs every lesson (or `--only` some) on N seeds it was not tuned on (default 20, seeds
1000-1019; lessons are written against seed 0) and judges each claim with the lesson's
checker from app/lessons/claims/ (the same code the lesson tests assert with). Prints one
row per claim: how many seeds it held on, the share the lesson's text promises, and the
measured value on a seed where it failed.

Results are cached per (the lesson's experiment specs, its checker's source, seed) in
.cache/lessons/, so a re-run only trains what changed; a lesson's texts do not count, and
neither does the engine: after an engine change that may move numbers, run with `--fresh`.
One torch thread; run it with `nice` on a shared machine:

    nice .venv/bin/python bench/lessons.py                  # all lessons, 20 seeds
    nice .venv/bin/python bench/lessons.py --only dying-relu zigzag --seeds 8
    nice .venv/bin/python bench/lessons.py --markdown       # the table for a note

Exit status 1 when a claim holds on fewer seeds than its lesson promises.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import torch

from app.lessons.claims import UNTUNED, check, checker, claims
from app.lessons.registry import LESSONS, member_specs

ROOT = Path(__file__).resolve().parents[1]
CACHE = ROOT / ".cache" / "lessons"


def fingerprint(slug: str) -> str:
    """Changes when the lesson's experiments (any member spec) or its checker change."""
    h = hashlib.sha256()
    for label, spec in member_specs(LESSONS[slug]):
        h.update(label.encode() + spec.model_dump_json().encode())
    source = checker(slug).__file__
    assert source is not None
    h.update(Path(source).read_bytes())
    return h.hexdigest()[:16]


def judged(slug: str, seed: int, fresh: bool) -> dict[str, list[object]]:
    """{claim: [held, value]} for one lesson on one seed, from the cache when it is current."""
    path = CACHE / f"{slug}-{seed}-{fingerprint(slug)}.json"
    if path.exists() and not fresh:
        data: dict[str, list[object]] = json.loads(path.read_text())
        return data
    result = {key: [o.held, o.value] for key, o in check(slug, seed).items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=len(UNTUNED), help="how many seeds")
    parser.add_argument("--first", type=int, default=UNTUNED[0], help="first seed")
    parser.add_argument("--only", nargs="*", default=None, help="lesson slugs")
    parser.add_argument("--fresh", action="store_true", help="ignore cached results")
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    slugs = args.only or list(LESSONS)
    seeds = range(args.first, args.first + args.seeds)
    short = failing = 0
    rows: list[tuple[str, str, str, str, str, str]] = []
    started = time.perf_counter()
    for slug in slugs:
        t0 = time.perf_counter()
        results = {seed: judged(slug, seed, args.fresh) for seed in seeds}
        for claim in claims(slug):
            held = [seed for seed in seeds if results[seed][claim.key][0]]
            need = math.ceil(claim.share * len(seeds))
            ok = len(held) >= need
            short += not ok
            failing += len(held) < len(seeds)
            miss = next((s for s in seeds if s not in held), None)
            example = "" if miss is None else f"seed {miss}: {results[miss][claim.key][1]}"
            rows.append(
                (
                    f"{LESSONS[slug].number} {slug}",
                    claim.key,
                    f"{len(held)}/{len(seeds)}",
                    f">={need}",
                    "ok" if ok else "SHORT",
                    example,
                )
            )
        print(f"# {slug}: {time.perf_counter() - t0:.1f}s", file=sys.stderr, flush=True)
    if args.markdown:
        print("| lesson | claim | held | promised | | a miss |")
        print("|---|---|---|---|---|---|")
        for row in rows:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(r[i]) for r in rows) for i in range(5)]
        for row in rows:
            print("  ".join(c.ljust(w) for c, w in zip(row[:5], widths, strict=True)), row[5])
    print(
        f"\n{len(rows)} claims over seeds {seeds[0]}-{seeds[-1]}: {short} below their promised "
        f"share, {failing} missed on at least one seed ({time.perf_counter() - started:.0f}s)",
        file=sys.stderr,
    )
    return 1 if short else 0


if __name__ == "__main__":
    sys.exit(main())
