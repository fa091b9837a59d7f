"""The "IMDb quality" view in the Airflow UI: batches, quarantine, quality trends and ratings.

A FastAPI app that Airflow's API server mounts (`imdb_quality_plugin.py`), reading the warehouse
and the Glue job's outputs through the connections the DAG uses, behind Airflow's own
authentication. Charts are inline SVG drawn on the server: the pages load nothing from outside.
"""
