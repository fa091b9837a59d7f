"""`make bundle` (infra/bundle.py): what MWAA gets, checked with Airflow's own ignore-file matching,
uv's resolver (MWAA's Python, the bundled constraints) and shellcheck."""

import os
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
MWAA_CONSTRAINTS = "/usr/local/airflow/dags/constraints.txt"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle") / "mwaa"
    subprocess.run([sys.executable, str(REPO / "infra" / "bundle.py"), "--out", str(out)], check=True,
                   capture_output=True)
    return out


def test_airflow_parses_only_the_dag_files(bundle):
    from airflow.utils.file import find_path_from_directory

    dags = bundle / "dags"
    parsed = {Path(path).relative_to(dags).as_posix()
              for path in find_path_from_directory(dags, ".airflowignore", "glob")}

    assert parsed == {"imdb_quality_ingest.py"}
    assert (dags / "include" / "sql" / "movies" / "merge_imdb_movies.sql").is_file()
    assert (dags / "imdb_pipeline" / "config.py").is_file()
    assert (dags / "constraints.txt").read_text() == (REPO / "dags" / "constraints.txt").read_text()


def test_plugins_requirements_startup_and_glue_code_are_there(bundle):
    with zipfile.ZipFile(bundle / "plugins.zip") as plugins:
        assert sorted(plugins.namelist()) == sorted(
            path.relative_to(REPO / "plugins").as_posix() for path in (REPO / "plugins").rglob("*") if path.is_file())
    requirements = (bundle / "requirements.txt").read_text()
    assert re.search(rf'^--constraint "{MWAA_CONSTRAINTS}"$', requirements, re.MULTILINE)
    assert (bundle / "startup.sh").read_text() == (REPO / "infra" / "startup.sh").read_text()
    with zipfile.ZipFile(bundle / "glue" / "movies_quality.zip") as package:
        assert "movies_quality/__init__.py" in package.namelist()
    assert (bundle / "glue" / "movies_quality_ingestion.py").is_file()


def test_the_shell_scripts_pass_shellcheck():
    result = subprocess.run([str(BIN / "shellcheck"), "infra/startup.sh", "infra/deploy.sh"], cwd=REPO,
                            capture_output=True, text=True)

    assert result.returncode == 0, result.stdout


def test_startup_sh_turns_imdb_configuration_options_into_airflow_variables(bundle):
    environment = {"PATH": os.environ["PATH"], "AIRFLOW__IMDB__QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/q",
                   "AIRFLOW__IMDB__BUCKET": "acme-imdb-data", "AIRFLOW__IMDB__RAW_PREFIX": "raw/",
                   "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}

    result = subprocess.run(["bash", "-c", f"source {bundle / 'startup.sh'} && env"], env=environment,
                            capture_output=True, text=True, check=True)

    exported = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert exported["AIRFLOW_VAR_IMDB_QUEUE_URL"] == "https://sqs.eu-west-1.amazonaws.com/1/q"
    assert exported["AIRFLOW_VAR_IMDB_BUCKET"] == "acme-imdb-data"
    assert exported["AIRFLOW_VAR_IMDB_RAW_PREFIX"] == "raw/"
    assert exported["IMDB_INCLUDE_DIR"] == "/usr/local/airflow/dags/include"
    assert not any(name.startswith("AIRFLOW_VAR_CORE") for name in exported)


@pytest.mark.timeout(180)
@pytest.mark.registry
def test_the_bundled_requirements_resolve_for_mwaa(bundle):
    requirements = bundle / "requirements-resolve.txt"
    requirements.write_text((bundle / "requirements.txt").read_text().replace(
        MWAA_CONSTRAINTS, str(bundle / "dags" / "constraints.txt")))

    result = subprocess.run(
        [str(BIN / "uv"), "pip", "compile", "--python-version", "3.12", "--python-platform",
         "x86_64-manylinux_2_28", "--no-header", "--quiet", str(requirements)],
        capture_output=True, text=True, timeout=150,
    )

    assert result.returncode == 0, result.stderr
    assert re.search(r"^apache-airflow==3\.3\.1$", result.stdout, re.MULTILINE)
