"""`make bench`: run the benchmarks, print each figure with its reference and ratio, keep them as JSON.

    python -m benchmarks [NAME ...]        (BENCH=scale adds the 10M-row Glue figure)

Results go to benchmarks/results/bench-<UTC time>.json (not committed).
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import platform
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import benchmarks

RESULTS = Path(__file__).resolve().parent / "results"


def available() -> list[str]:
    """Modules of this package with a `run(tmp_dir) -> dict`; the others are their helpers."""
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))
    return [name for name in names if hasattr(importlib.import_module(f"benchmarks.{name}"), "run")]


def print_figures(figures: list[dict]) -> None:
    print(f"   {'figure':<40} {'s':>8}  {'reference':<32} {'s':>8} {'ratio':>6} {'goal':>6}")
    for row in figures:
        goal = "" if row["goal_ratio"] is None else f"<={row['goal_ratio']:g}" + (" ok" if row["met"] else " NO")
        print(f"   {row['figure']:<40} {row['seconds']:>8.2f}  {row['reference']:<32} "
              f"{row['reference_seconds']:>8.2f} {row['ratio']:>6.2f} {goal:>6}")


def main(selected: list[str]) -> int:
    names = available()
    unknown = set(selected) - set(names)
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(names)}")
        return 2
    results = {
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
                    "load_average_1m": os.getloadavg()[0]},
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for name in selected or names:
        print(f"== {name}", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp_dir:
            results[name] = importlib.import_module(f"benchmarks.{name}").run(Path(tmp_dir))
        for key, value in results[name].items():
            if key == "figures":
                print_figures(value)
            else:
                print(f"   {key}: {value}")
    results["load_average_1m_at_end"] = os.getloadavg()[0]
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"bench-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(results, indent=2, default=str) + "\n")
    print(f"Results written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
