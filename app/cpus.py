"""How many CPUs this process may really use: the container's quota, not the host's cores.

In a container `os.cpu_count()` reports the host (say 64 cores) while the cgroup allows
2. Sizing the worker pool or torch's thread pool from the host count would oversubscribe
the quota and get the whole container throttled. Read cgroup v2 `cpu.max`, else cgroup v1
`cpu.cfs_quota_us` / `cpu.cfs_period_us`, and the affinity mask; take the smallest.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def quota_from_cpu_max(text: str) -> float | None:
    """cgroup v2 `cpu.max`: "max 100000" (no limit) or "150000 100000" (1.5 CPUs)."""
    parts = text.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def quota_from_cfs(quota_text: str, period_text: str) -> float | None:
    """cgroup v1: quota -1 means no limit."""
    try:
        quota, period = int(quota_text), int(period_text)
    except ValueError:
        return None
    return quota / period if quota > 0 and period > 0 else None


def cgroup_quota(root: Path = CGROUP) -> float | None:
    """CPUs allowed by the cgroup quota, or None when there is no quota."""
    text = _read(root / "cpu.max")
    if text is not None:
        return quota_from_cpu_max(text)
    for v1 in (root / "cpu", root / "cpu,cpuacct", root / "cpuacct,cpu"):
        quota, period = _read(v1 / "cpu.cfs_quota_us"), _read(v1 / "cpu.cfs_period_us")
        if quota is not None and period is not None:
            return quota_from_cfs(quota, period)
    return None


def cpu_limit(root: Path = CGROUP) -> int:
    """Whole CPUs this process may use (a 1.5 CPU quota counts as 2; never below 1)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    quota = cgroup_quota(root)
    if quota is not None:
        cores = min(cores, math.ceil(quota))
    return max(1, cores)


def configure_torch(threads: int) -> None:
    """Torch's intra-op pool in the web process (previews, landscapes): at most `threads`."""
    import torch

    torch.set_num_threads(max(1, threads))
