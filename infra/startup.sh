#!/bin/bash
# MWAA startup script: runs before every Airflow component starts, and what it exports reaches
# Airflow. The DAG needs some settings when its file is parsed (the asset watcher's queue URL, the
# landing asset's bucket and prefix), before any task could read a Variable, so every setting comes
# from the environment. infra/imdb-pipeline.yaml sets them as custom configuration options
# `imdb.<name>`, which MWAA exposes as AIRFLOW__IMDB__<NAME>; here each becomes the Airflow
# Variable `imdb_<name>` (AIRFLOW_VAR_IMDB_<NAME>), the names dags/imdb_pipeline/config.py reads.

# include/ ships inside the dags folder (make bundle).
export IMDB_INCLUDE_DIR=/usr/local/airflow/dags/include
export SODA_CORE_TELEMETRY_ENABLED=false

for option in $(compgen -e); do
    case "${option}" in
        AIRFLOW__IMDB__*) export "AIRFLOW_VAR_IMDB_${option#AIRFLOW__IMDB__}=${!option}" ;;
    esac
done
