# Airflow 3.3.1 (MWAA's version) on the official image, with the project's requirements.txt.
FROM apache/airflow:3.3.1-python3.12
USER root
# requirements.txt names the constraints file where MWAA keeps it.
COPY dags/constraints.txt /usr/local/airflow/dags/constraints.txt
COPY requirements.txt /usr/local/airflow/requirements.txt
# The auth folder is the airflow-auth volume's mount point: a new named volume copies its owner, so the
# non-root airflow-init can write the admin's password file there.
RUN mkdir -p /usr/local/airflow/auth && chown -R airflow: /usr/local/airflow && chmod 0700 /usr/local/airflow/auth
USER airflow
RUN pip install --no-cache-dir -r /usr/local/airflow/requirements.txt
WORKDIR /usr/local/airflow
