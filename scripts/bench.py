"""`make bench`: how the offline plan's cost grows, as ratios; the timings the tests do not assert.

    python scripts/bench.py [--runs N]

Reports, as medians of N runs after one warm-up (CPU seconds of this process, and wall seconds):
- the program under the mock engine (tools.engine.run_program) with 1, 10 and 50 connectors, and
  the ratio of each to 1 connector: linear growth keeps the 50:1 ratio well under 50;
- the whole offline plan of Pulumi.dev.yaml in this process (tools.plan.build_plan: settings,
  program, policy pack), warm;
- `python -m tools.plan --json` as a new process, the figure a user waits for (Python start-up,
  imports, plan, policy pack).

Ratios travel between machines and loads; absolute seconds do not (the machine is shared). It
prints figures only and exits 0: nothing here is a pass or fail.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402 - after the path: the project's modules come from the checkout

from tools.engine import run_program, stack_config_strings  # noqa: E402
from tools.plan import build_plan  # noqa: E402

CONNECTORS = (1, 10, 50)


def connectors(count: int) -> str:
    """`count` connectors, each with its own role and namespace (as tests/test_stack_modes.py)."""
    return json.dumps(
        [
            {"name": f"c{i}", "roleName": f"xpander-c{i}", "namespace": f"team-{i}"}
            for i in range(count)
        ]
    )


def measure(call: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median CPU seconds (this process's user + system) and wall seconds of `call`."""
    call()  # warm-up: imports, first compilation of the SDK's modules
    cpu, wall = [], []
    for _ in range(runs):
        started_cpu, started_wall = time.process_time(), time.perf_counter()
        call()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started_wall)
    return statistics.median(cpu), statistics.median(wall)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure_process(argv: list[str], runs: int) -> tuple[float, float]:
    """Median CPU seconds (the child's user + system) and wall seconds of a new process."""

    def once() -> tuple[float, float]:
        started_cpu, started_wall = children_cpu(), time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, timeout=300)
        return children_cpu() - started_cpu, time.perf_counter() - started_wall

    once()
    figures = [once() for _ in range(runs)]
    return statistics.median(f[0] for f in figures), statistics.median(f[1] for f in figures)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="counted runs of each (default 5)")
    args = parser.parse_args(argv)
    runs = max(1, args.runs)

    base = stack_config_strings(yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text()))
    print(f"medians of {runs} runs after one warm-up; CPU = user + system seconds")
    print()
    print(f"{'program under the mock engine':<34} {'resources':>9} {'CPU s':>7} {'wall s':>7}"
          f" {'CPU ratio':>9} {'wall ratio':>10}")  # fmt: skip
    first: tuple[float, float] | None = None
    for count in CONNECTORS:
        config = {**base, "xpander-redshift:connectors": connectors(count)}
        resources = len(run_program(config).resources)
        cpu, wall = measure(lambda config=config: run_program(config), runs)
        first = first or (cpu, wall)
        print(f"{f'{count} connector(s)':<34} {resources:>9} {cpu:>7.3f} {wall:>7.3f}"
              f" {cpu / first[0]:>9.1f} {wall / first[1]:>10.1f}")  # fmt: skip
    print()
    cpu, wall = measure(build_plan, runs)
    print(f"{'plan of Pulumi.dev.yaml, in process':<34} {'':>9} {cpu:>7.3f} {wall:>7.3f}")
    cpu, wall = measure_process([sys.executable, "-m", "tools.plan", "--json"], runs)
    print(f"{'python -m tools.plan --json':<34} {'':>9} {cpu:>7.3f} {wall:>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
