"""What the benchmarks measure with: a process's CPU time and latency percentiles."""

from __future__ import annotations

import os
import statistics
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def pct(values: list[float], q: int) -> float:
    """The q-th percentile of `values` (seconds), in milliseconds."""
    return statistics.quantiles(values, n=100)[q - 1] * 1000
