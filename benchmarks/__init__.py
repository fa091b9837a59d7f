"""Benchmarks: each module exposes `run(tmp_dir) -> dict` and reports ratios against a reference
measured in the same run, so results compare across machines."""
