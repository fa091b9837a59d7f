"""The Makefile's entry points: `make help` names every target, `make test-fast` is the quick tiers."""

from __future__ import annotations

import re
import subprocess

from local_stack.settings import REPO_ROOT

MAKEFILE = (REPO_ROOT / "Makefile").read_text()


def make(*arguments: str) -> str:
    result = subprocess.run(["make", "--no-print-directory", *arguments], cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def phony_targets() -> list[str]:
    (declared,) = re.findall(r"^\.PHONY:(.*)$", MAKEFILE, re.MULTILINE)
    return declared.split()


def test_every_declared_target_has_a_rule():
    missing = [target for target in phony_targets() if not re.search(rf"^{target}:", MAKEFILE, re.MULTILINE)]
    assert missing == []


def test_help_lists_every_target_with_one_line_each():
    lines = make("help").splitlines()

    assert sorted(line.split()[1] for line in lines) == sorted(phony_targets())
    for line in lines:
        assert re.fullmatch(r"  make [a-z-]+ +\S.{10,}", line), line


def test_the_fast_tier_is_integrity_and_unit_without_spark_or_the_registry():
    commands = [line for line in make("-n", "test-fast").splitlines() if "pytest" in line]
    assert commands == ['.venv/bin/python -m pytest tests/dags tests/unit -m "not spark and not registry" -n 2 ']


def test_the_full_test_run_ends_with_the_chaos_suites_small_profile():
    commands = [line for line in make("-n", "test").splitlines() if "pytest" in line]
    assert commands == [".venv/bin/python -m pytest ",
                        "CHAOS_PROFILE=small .venv/bin/python -m pytest tests/chaos -m chaos -q -s"]
