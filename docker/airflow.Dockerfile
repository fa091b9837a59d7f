# Airflow 3.3.1 (MWAA's version) on the official image, with the project's requirements.txt.
FROM apache/airflow:3.3.1-python3.12
USER root
# requirements.txt names the constraints file where MWAA keeps it.
COPY dags/constraints.txt /usr/local/airflow/dags/constraints.txt
COPY requirements.txt /usr/local/airflow/requirements.txt
RUN chown -R airflow: /usr/local/airflow
USER airflow
RUN pip install --no-cache-dir -r /usr/local/airflow/requirements.txt
WORKDIR /usr/local/airflow
