"""The quality view's plugin package: MWAA's plugins.zip form, the names it shares with the
pipeline, and its SVG charts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PLUGINS = REPO / "plugins"
sys.path.insert(0, str(PLUGINS))

from imdb_quality_view import charts, settings  # noqa: E402


def build_plugins_zip(target: Path) -> Path:
    """plugins.zip as MWAA takes it: the folder's contents at the zip's root (no __pycache__)."""
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(PLUGINS.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(PLUGINS).as_posix())
    return target


def test_plugins_zip_loads_the_view_as_airflow_loads_plugins(tmp_path):
    archive = build_plugins_zip(tmp_path / "plugins.zip")
    names = zipfile.ZipFile(archive).namelist()
    assert "imdb_quality_plugin.py" in names and "imdb_quality_view/app.py" in names and ".airflowignore" in names
    # MWAA unpacks plugins.zip into its plugins folder; Airflow then loads plugins from there.
    folder = tmp_path / "plugins"
    zipfile.ZipFile(archive).extractall(folder)
    script = (
        "import json\n"
        "from airflow import plugins_manager\n"
        "plugins, errors = plugins_manager._get_plugins()\n"
        "print(json.dumps({'errors': errors, 'plugins': [{'source': str(p.source), 'name': p.name, 'apps':\n"
        "  [a['url_prefix'] for a in p.fastapi_apps], 'views': [v['destination'] for v in p.external_views]}\n"
        "  for p in plugins]}))\n"
    )
    env = {"AIRFLOW__CORE__PLUGINS_FOLDER": str(folder), "AIRFLOW_HOME": str(tmp_path / "home"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PATH": "/usr/bin:/bin"}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded["errors"] == {}
    # Installed providers may add plugins of their own; from the plugins folder comes exactly one.
    from_folder = [plugin for plugin in loaded["plugins"] if plugin["source"].startswith("$PLUGINS_FOLDER")]
    assert from_folder == [{"source": "$PLUGINS_FOLDER/imdb_quality_plugin.py", "name": "imdb_quality_view",
                            "apps": ["/imdb-quality"], "views": ["nav", "dag_run"]}]  # fmt: skip


def test_plugin_imports_straight_from_the_zip(tmp_path):
    archive = build_plugins_zip(tmp_path / "plugins.zip")
    script = (
        "import sys\n"
        f"sys.path.insert(0, {str(archive)!r})\n"
        "import imdb_quality_plugin\n"
        "print(imdb_quality_plugin.__file__, imdb_quality_plugin.ImdbQualityViewPlugin.name)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300,
                          env={"AIRFLOW_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"{archive}/imdb_quality_plugin.py", "imdb_quality_view"]


def test_names_shared_with_the_pipeline_match_it():
    from imdb_pipeline import config

    assert (settings.AWS_CONN_ID, settings.WAREHOUSE_CONN_ID) == (config.AWS_CONN_ID, config.WAREHOUSE_CONN_ID)
    assert settings.VARIABLES == {name: config.default(name) for name in settings.VARIABLES}
    assert settings.DAG_ID == config.DAG_ID
    dag_source = (REPO / "dags" / "imdb_quality_ingest.py").read_text()
    assert re.search(rf"def {settings.RESOLVE_BATCH_TASK_ID}\(", dag_source)


def test_bar_chart_draws_one_point_per_label_and_series_and_escapes_labels():
    svg = charts.bar_chart("T", "c", ["a<b", "c"], {"x": [1, 2], "y": [0, 5]})
    assert svg.count('class="point"') == 4
    assert 'data-label="a&lt;b"' in svg and "a<b" not in svg
    assert re.findall(r'data-series="y" data-label="c" data-value="([^"]+)"', svg) == ["5"]


def test_rating_bars_start_below_the_lowest_rating_so_that_differences_show():
    def heights(svg: str) -> list[float]:
        return [float(h) for h in re.findall(r'<rect class="point"[^>]* height="([^"]+)"', svg)]

    from_zero = heights(charts.bar_chart("T", "c", ["a", "b"], {"rating": [9.3, 8.6]}))
    from_floor = heights(charts.bar_chart("T", "c", ["a", "b"], {"rating": [9.3, 8.6]}, from_zero=False))
    assert from_zero[1] / from_zero[0] > 0.9  # from 0, 8.6 looks almost as tall as 9.3
    assert from_floor[1] / from_floor[0] < 0.6  # from 8: 0.6 against 1.3
    svg = charts.bar_chart("T", "c", ["a", "b"], {"rating": [9.3, 8.6]}, from_zero=False)
    assert '>8</text>' in svg  # the axis says where it starts


def test_a_long_legend_wraps_and_the_picture_grows_to_hold_it():
    reasons = [f"reason_{index}" for index in range(9)]
    svg = charts.bar_chart("T", "c", ["d1"], {reason: [1] for reason in reasons})
    legend_x = [float(x) for x in re.findall(r'<rect x="([^"]+)" y="[^"]+" width="10"', svg)]
    assert len(legend_x) == 9 and max(legend_x) + charts.LEGEND_ITEM_WIDTH <= charts.WIDTH
    rows = -(-9 // charts.LEGEND_PER_ROW)
    assert f'height="{charts.HEIGHT + 16 * (rows - 1)}"' in svg


def test_line_chart_leaves_gaps_for_unknown_values_and_empty_charts_say_so():
    svg = charts.line_chart("T", "c", ["d1", "d2", "d3"], {"share": [0.5, None, 0.25]})
    assert svg.count("<circle") == 2
    assert "No data." in charts.line_chart("T", "c", ["d1"], {"share": [None]})
    assert "No data." in charts.bar_chart("T", "c", [], {})


@pytest.mark.parametrize("batch_id", ["", "../other", "a/b", "x" * 65])
def test_quarantine_refuses_what_is_not_a_batch_id(batch_id):
    from imdb_quality_view import queries

    with pytest.raises(queries.NotFound):
        queries.batch_prefix("processed/", batch_id)
