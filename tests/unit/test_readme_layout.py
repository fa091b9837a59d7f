"""The README's layout table matches the tree: every path it names exists, every top-level folder and
every module of the helper package is named, and include/ and include/sql/ folders are described."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Top-level files that need no row: tool configuration and the README itself.
UNLISTED_FILES = {".gitignore", "Makefile", "README.md", "pyproject.toml", "requirements.txt", "requirements-dev.txt"}


def layout_rows() -> dict[str, str]:
    text = (ROOT / "README.md").read_text()
    table = text[text.index("## Layout") :].split("\n\n")[1]
    rows = {}
    for line in table.splitlines()[2:]:
        _, paths, what, _ = line.split("|", 3)
        for path in re.findall(r"`([^`]+)`", paths):
            rows[path] = what
    return rows


def tracked_top_level() -> set[str]:
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {line.split("/")[0] for line in files.splitlines()}


def test_every_path_in_the_layout_exists():
    for path in layout_rows():
        assert (ROOT / path).exists(), f"README layout names {path}, which does not exist"


def test_every_top_level_entry_is_in_the_layout():
    named = {path.rstrip("/").split("/")[0] for path in layout_rows()}
    for entry in tracked_top_level() - UNLISTED_FILES:
        if not entry.startswith("."):
            assert entry in named, f"{entry} is not in the README's layout table"


def test_every_helper_module_and_sql_domain_is_described():
    rows = layout_rows()
    package = rows["dags/imdb_pipeline/"]
    for module in sorted((ROOT / "dags" / "imdb_pipeline").glob("*.py")):
        if module.stem != "__init__":
            assert f"`{module.stem}`" in package, f"{module.name} is not described in the layout"
    for folder in (ROOT / "include" / "sql").iterdir():
        assert f"`{folder.name}/`" in rows["include/sql/"], f"include/sql/{folder.name}/ is not described"
    for folder in (ROOT / "include").iterdir():
        if folder.is_dir():
            assert f"include/{folder.name}/" in rows, f"include/{folder.name}/ has no row"
