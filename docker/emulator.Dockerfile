# The project's AWS emulator: moto's server with the Glue runner (job runs execute on local PySpark).
FROM python:3.11-slim-bookworm
RUN apt-get update \
    && apt-get install --yes --no-install-recommends openjdk-17-jre-headless procps \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /opt/imdb
COPY requirements-dev.txt dags/constraints.txt ./
# The emulator needs only moto and PySpark, at the versions the project pins.
RUN grep -E '^(moto|pyspark)' requirements-dev.txt > emulator-requirements.txt \
    && pip install --no-cache-dir -r emulator-requirements.txt -c constraints.txt
COPY local_stack ./local_stack
EXPOSE 5055
CMD ["python", "-m", "local_stack.emulator", "--host", "0.0.0.0", "--port", "5055", "--state-dir", "/var/lib/imdb-emulator"]
