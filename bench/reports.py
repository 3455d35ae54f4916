#!/usr/bin/env python3
"""Report benchmark: the town's monthly and coverage reports, and the county register export, on synthetic data.

    .venv/bin/python bench/reports.py [--groups 6000] [--repeat 5]

* **town reports**: a town of 10 villages × 30 groups (~40,000 people): the monthly change report (300 group
  rows, 40 late corrections) and the coverage report (300 group rows, an overdue list of 4,000 named items,
  12 months of rates), median of `--repeat` builds (target < 2 s each);
* **county register export**: `--groups` groups (6,000 ≈ 800,000 people, households of 1–6, deterministic
  synthetic names) streamed into one xlsx file, one sheet per town as the county's export is (target < 60 s, peak
  memory < 500 MB; wall and CPU time printed). Each measurement runs
  in a fresh subprocess and reports its wall time and peak RSS (`resource.getrusage`); the same-run baseline
  is a subprocess that only generates and iterates the same rows without writing.

Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the checkout first: the imports below are its packages

from reports.coverage import CoverageReport, CoverageRow, MonthlyRate, OverdueItem, build_coverage_report
from reports.monthly_change import (
    EVENT_KINDS,
    GroupChanges,
    LateCorrection,
    MonthlyChangeReport,
    VillageSync,
    build_monthly_change_report,
)
from reports.register_export import GroupRows, PersonRow, build_register_export

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "秀英桂兰芳敏静丽强磊军洋勇艳杰娟涛明超华平刚红玉梅建国志伟春霞海燕德兴福文斌"
VILLAGES = tuple(f"{name}村" for name in "东西南北中上下前后新")
GROUPS = tuple(f"{number}组" for number in range(1, 31))
MONTH = dt.date(2026, 11, 1)


# ---- synthetic data ----------------------------------------------------------------------------------------

def town_monthly(seed: int = 1) -> MonthlyChangeReport:
    rng = random.Random(seed)
    groups = tuple(GroupChanges(village, group, opening=rng.randint(110, 155), births=rng.randint(0, 2),
                                deaths=rng.randint(0, 1), marriages=rng.randint(0, 1), moved_in=rng.randint(0, 2),
                                moved_out=rng.randint(0, 2), left_to_work=rng.randint(0, 4),
                                returned=rng.randint(0, 3), registered=rng.randint(0, 1))
                   for village in VILLAGES for group in GROUPS)
    late = tuple(LateCorrection(rng.choice(VILLAGES), rng.choice(GROUPS), dt.date(2026, rng.randint(8, 10), 1),
                                rng.choice(list(EVENT_KINDS)), rng.randint(1, 2)) for _ in range(40))
    sync = tuple(VillageSync(village, 30, rng.choice((28, 29, 30, 30))) for village in VILLAGES)
    return MonthlyChangeReport("青山镇", MONTH, dt.datetime(2026, 12, 2, 9, 0), groups, late, sync)


def town_coverage(seed: int = 1) -> CoverageReport:
    rng = random.Random(seed)
    rows = []
    for village in VILLAGES:
        for group in GROUPS:
            on_time, late, overdue = rng.randint(20, 40), rng.randint(0, 5), rng.randint(0, 25)
            rows.append(CoverageRow(village, group, on_time + late + overdue, on_time, late, overdue))
    overdue = tuple(OverdueItem(f"信息员{index % 300:03d}", VILLAGES[index % 300 // 30], GROUPS[index % 30],
                                synthetic_name(rng), f"H-{rng.randint(1, 40):03d}", "重点服务对象例行访视",
                                dt.date(2026, 10, 1), rng.randint(1, 120), dt.date(2026, 8, 3),
                                "2026年9月、2026年10月没有完成的访视，已逾期 53 天；上次访视 2026-08-03。")
                    for index in range(4000))
    rates = tuple(MonthlyRate(dt.date(2025 + (10 + month) // 12, (10 + month) % 12 + 1, 1), 0.75 + rng.random() / 5)
                  for month in range(12))                                   # 2025-11 … 2026-10
    return CoverageReport("青山镇", dt.date(2026, 10, 1), dt.date(2026, 10, 31), dt.date(2026, 11, 22),
                          dt.datetime(2026, 11, 22, 8, 0), tuple(rows), overdue, rates)


def synthetic_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def county_people(group_index: int) -> Iterator[PersonRow]:
    """~133 people of one group in households of 1–6, the same every run."""
    rng = random.Random(group_index)
    household = 0
    remaining = rng.randint(118, 148)
    while remaining > 0:
        household += 1
        size = min(remaining, rng.randint(1, 6))
        remaining -= size
        surname = rng.choice(SURNAMES)
        for member in range(size):
            born = dt.date(rng.randint(1935, 2025), rng.randint(1, 12), rng.randint(1, 28))
            yield PersonRow(f"{group_index:04d}-{household:03d}", f"{household}号", surname + rng.choice(GIVEN)
                            + rng.choice(GIVEN), rng.choice("男女"), born,
                            f"5107{group_index % 100:02d}{born:%Y%m%d}{rng.randint(0, 9999):04d}",
                            "户主" if member == 0 else rng.choice(("配偶", "子女", "父母", "孙子女")),
                            f"138{rng.randint(0, 99999999):08d}",
                            rng.choices(("here", "working_away", "moved_away"), (75, 20, 5))[0], "本村",
                            "在册", rng.choice(("", "", "一般", "重点", "随访")))


def county_groups(count: int) -> Iterator[GroupRows]:
    for index in range(count):
        town, village, group = f"第{index // 300 + 1}镇", VILLAGES[index // 30 % 10], GROUPS[index % 30]
        yield GroupRows(town, village, group, county_people(index))


# ---- measurements ----------------------------------------------------------------------------------------

def child(mode: str, groups: int) -> None:
    """One measurement in this (fresh) process: prints a JSON line."""
    started, cpu_started = time.perf_counter(), time.process_time()
    people, size = 0, 0
    if mode == "generate":
        for group in county_groups(groups):
            people += sum(1 for _ in group.people)
    else:
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "county.xlsx")
            build_register_export(county_groups(groups), path, by_town=True)      # as the county's export is
            size = os.path.getsize(path)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024      # Linux reports KiB
    print(json.dumps({"seconds": seconds, "cpu": cpu, "peak_mb": peak_mb, "people": people, "bytes": size}))


def measure(mode: str, groups: int) -> dict:
    result = subprocess.run([sys.executable, __file__, "--child", mode, "--groups", str(groups)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def timed(build, report, repeat: int) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = len(build(report))
        times.append(time.perf_counter() - started)
    return statistics.median(times), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--groups", type=int, default=6000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", choices=("generate", "export"))
    args = parser.parse_args()
    if args.child:
        child(args.child, args.groups)
        return
    print(f"python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPUs")
    monthly, coverage = town_monthly(), town_coverage()
    seconds, size = timed(build_monthly_change_report, monthly, args.repeat)
    print(f"town monthly change report (10 villages x 30 groups, "
          f"{sum(row.opening for row in monthly.groups):,} people): {seconds * 1000:.0f} ms median, "
          f"{size / 1024:.0f} KiB (target < 2 s)")
    seconds, size = timed(build_coverage_report, coverage, args.repeat)
    print(f"town coverage report (300 groups, {len(coverage.overdue):,} overdue items): "
          f"{seconds * 1000:.0f} ms median, {size / 1024:.0f} KiB (target < 2 s)")
    baseline, export = measure("generate", args.groups), measure("export", args.groups)
    print(f"county register, {args.groups:,} groups, {baseline['people']:,} people, one sheet per town "
          f"(load average {' '.join(Path('/proc/loadavg').read_text().split()[:3])}):")
    print(f"  baseline, generate rows only: {baseline['seconds']:.1f} s (CPU {baseline['cpu']:.1f} s), "
          f"peak RSS {baseline['peak_mb']:.0f} MB")
    print(f"  export to xlsx:               {export['seconds']:.1f} s = {export['seconds'] / 60:.2f} of 60 s "
          f"(CPU {export['cpu']:.1f} s = {export['cpu'] / 60:.2f}), peak RSS {export['peak_mb']:.0f} MB = "
          f"{export['peak_mb'] / 500:.2f} of 500 MB, {export['bytes'] / 2**20:.0f} MiB")


if __name__ == "__main__":
    main()
