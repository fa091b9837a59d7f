"""`make bundle`: the artifacts the artifacts bucket holds, laid out as MWAA and the Glue job read them.

    build/mwaa/
      dags/                DAG files, dags/imdb_pipeline/, dags/constraints.txt, dags/include/
      dags/.airflowignore  every file of dags/ that is not a DAG file
      plugins.zip          plugins/
      requirements.txt     requirements.txt (its constraint line names dags/constraints.txt on MWAA)
      startup.sh           infra/startup.sh
      glue/                the Glue job's script and its package zip (the job definition points here)

Run as `python infra/bundle.py [--out DIR]`; infra/deploy.sh syncs the folder to the bucket.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SKIPPED = shutil.ignore_patterns("__pycache__", "*.pyc", ".airflowignore")


def dag_files(dags_dir: Path) -> list[Path]:
    """The DAG files: Python modules at the top of the dags folder (everything else is support)."""
    return sorted(path for path in dags_dir.glob("*.py") if path.is_file())


def build(out: Path, repo: Path = REPO) -> Path:
    sys.path.insert(0, str(repo / "dags"))
    from imdb_pipeline.glue_package import build_zip

    if out.exists():
        shutil.rmtree(out)
    dags = out / "dags"
    shutil.copytree(repo / "dags", dags, ignore=SKIPPED)
    shutil.copytree(repo / "include", dags / "include", ignore=SKIPPED)
    dag_set = set(dag_files(dags))
    support = sorted(path.relative_to(dags).as_posix() for path in dags.rglob("*")
                     if path.is_file() and path not in dag_set)
    (dags / ".airflowignore").write_text(
        "# Written by infra/bundle.py: every file here that is not a DAG file.\n" + "\n".join(support) + "\n")

    with zipfile.ZipFile(out / "plugins.zip", "w", zipfile.ZIP_DEFLATED) as plugins:
        for path in sorted((repo / "plugins").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                plugins.write(path, path.relative_to(repo / "plugins").as_posix())
    shutil.copy2(repo / "requirements.txt", out / "requirements.txt")
    shutil.copy2(repo / "infra" / "startup.sh", out / "startup.sh")

    glue = out / "glue"
    glue.mkdir()
    shutil.copy2(repo / "include" / "glue" / "movies_quality_ingestion.py", glue / "movies_quality_ingestion.py")
    (glue / "movies_quality.zip").write_bytes(build_zip(repo / "include" / "glue" / "movies_quality"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "build" / "mwaa")
    options = parser.parse_args(argv)
    print(f"MWAA bundle in {build(options.out.resolve())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
