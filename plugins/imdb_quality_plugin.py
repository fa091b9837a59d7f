"""Airflow plugin: the "IMDb quality" view (plugins/imdb_quality_view/) in the Airflow UI.

Registers the view's FastAPI app under /imdb-quality, an "IMDb quality" entry in the UI's
navigation and an "IMDb batch" tab on every DAG run, both showing the app's pages in the UI.
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from imdb_quality_view.app import URL_PREFIX, app


class ImdbQualityViewPlugin(AirflowPlugin):
    name = "imdb_quality_view"
    fastapi_apps = [{"app": app, "url_prefix": URL_PREFIX, "name": "IMDb quality"}]
    external_views = [
        {
            "name": "IMDb quality",
            "href": f"{URL_PREFIX}/batches",
            "destination": "nav",
            "category": "browse",
            "url_route": "imdb-quality",
        },
        {
            "name": "IMDb batch",
            # The UI fills in {DAG_ID} and {RUN_ID} of the run the tab is shown on.
            "href": f"{URL_PREFIX}/runs/{{DAG_ID}}/{{RUN_ID}}",
            "destination": "dag_run",
            "url_route": "imdb-batch",
        },
    ]
