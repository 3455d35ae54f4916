"""bench/merge_memory.py runs: its quick variant stores and merges a few large submissions with the real worker and
prints the peak-RSS ratio (the full run's figures are in docs/benchmarks.md)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.conftest import ROOT


def test_the_merge_memory_benchmark_runs_and_reports_a_flat_peak():
    run = subprocess.run([sys.executable, str(ROOT / "bench" / "merge_memory.py"), "--quick"], cwd=ROOT,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert re.fullmatch(r" +5 submissions: stored in +[\d.]+ s, merged in +[\d.]+ s \(merged 5 submission\(s\)\); "
                        r"worker peak RSS +[\d.]+ MiB", lines[-3]), lines
    assert re.fullmatch(r" +30 submissions: .*\(merged 30 submission\(s\)\); worker peak RSS +[\d.]+ MiB",
                        lines[-2]), lines
    assert re.fullmatch(r"peak RSS over 30 / over 5: [\d.]+ \(limit 1\.25\): ok", lines[-1]), lines
