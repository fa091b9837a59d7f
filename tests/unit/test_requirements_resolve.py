"""requirements.txt must install on MWAA 3.3.1: it has to resolve against the project's edited constraints.

Needs the package registry (PyPI), hence marked `registry` (skipped when it is unreachable, left out of
`make test-fast`): `uv pip compile` reads package metadata from it, for Python 3.12 (MWAA 3.3.1's
interpreter) on manylinux x86_64, without installing anything. About 10 s per resolution with a cold cache.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")
CONSTRAINT_LINE = re.compile(r"^--constraint\s+\S+\s*$", re.MULTILINE)

# The edits of dags/constraints.txt over MWAA's (Airflow's) constraints, each for soda-core 4.x.
UPSTREAM_PINS = {"ruamel.yaml": ("0.18.17", "0.19.1"), "requests": ("2.33.1", "2.34.2")}

pytestmark = [pytest.mark.registry, pytest.mark.timeout(180)]


def compile_requirements(tmp_path: Path, constraints: Path) -> subprocess.CompletedProcess:
    """Resolve requirements.txt with its constraint line pointed at `constraints`."""
    requirements = (REPO / "requirements.txt").read_text()
    assert CONSTRAINT_LINE.search(requirements), "requirements.txt lost its --constraint line"
    local = tmp_path / "requirements.txt"
    local.write_text(CONSTRAINT_LINE.sub(f'--constraint "{constraints}"', requirements, count=1))
    return subprocess.run(
        [
            str(UV),
            "pip",
            "compile",
            "--python-version",
            "3.12",
            "--python-platform",
            "x86_64-manylinux_2_28",
            "--no-header",
            "--quiet",
            str(local),
        ],
        capture_output=True,
        text=True,
        timeout=150,
    )


def pinned(resolution: str) -> dict[str, str]:
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", resolution, re.MULTILINE))


def test_requirements_resolve_against_the_edited_mwaa_constraints(tmp_path):
    result = compile_requirements(tmp_path, REPO / "dags" / "constraints.txt")

    assert result.returncode == 0, f"requirements.txt does not resolve:\n{result.stderr}"
    versions = pinned(result.stdout)
    assert versions["apache-airflow"] == "3.3.1"
    assert versions["apache-airflow-providers-amazon"] == "9.34.0"
    for package in ("soda-core", "soda-postgres", "soda-redshift"):
        assert versions[package] == "4.28.0"
    assert versions["ruamel-yaml"] == "0.18.17"
    assert versions["requests"] == "2.33.1"


def test_the_unedited_constraints_conflict_with_soda(tmp_path):
    """Why the edits exist: with Airflow's own pins, soda-core 4.28.0 cannot be installed."""
    constraints = (REPO / "dags" / "constraints.txt").read_text()
    for package, (edited, upstream) in UPSTREAM_PINS.items():
        line = f"{package}=={edited}\n"
        assert line in constraints, f"dags/constraints.txt no longer pins {line.strip()}"
        constraints = constraints.replace(line, f"{package}=={upstream}\n")
    upstream_file = tmp_path / "constraints-upstream.txt"
    upstream_file.write_text(constraints)

    result = compile_requirements(tmp_path, upstream_file)

    assert result.returncode != 0
    assert "soda-core" in result.stderr
