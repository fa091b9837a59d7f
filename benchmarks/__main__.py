"""`make bench`: run every benchmark module, print its results, keep them in .local/bench.json."""

from __future__ import annotations

import importlib
import json
import pkgutil
import sys
import tempfile
from pathlib import Path

import benchmarks

RESULTS = Path(__file__).resolve().parents[1] / ".local" / "bench.json"


def main(selected: list[str]) -> int:
    names = sorted(m.name for m in pkgutil.iter_modules(benchmarks.__path__) if not m.name.startswith("_"))
    unknown = set(selected) - set(names)
    if unknown:
        print(f"Unknown benchmark(s): {', '.join(sorted(unknown))}; available: {', '.join(names)}")
        return 2
    results = {}
    for name in selected or names:
        print(f"== {name}", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp_dir:
            results[name] = importlib.import_module(f"benchmarks.{name}").run(Path(tmp_dir))
        for key, value in results[name].items():
            print(f"   {key}: {value}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2, default=str))
    print(f"Results written to {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
