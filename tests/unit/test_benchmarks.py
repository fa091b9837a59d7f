"""`make bench` finds every benchmark: each module of the package imports (no heavy work at import)
and the runner lists the ones with a `run(tmp_dir)`."""

from __future__ import annotations

import importlib
import pkgutil

import benchmarks
from benchmarks.__main__ import available


def test_every_benchmark_module_imports_and_the_runner_lists_the_benchmarks():
    modules = [module.name for module in pkgutil.iter_modules(benchmarks.__path__) if module.name != "__main__"]
    for name in modules:
        importlib.import_module(f"benchmarks.{name}")
    assert {"glue_job", "quality_view", "stack_startup"} <= set(available())
