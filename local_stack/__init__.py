"""The local stack: AWS emulator (moto server with real Glue runs), PostgreSQL warehouse, Airflow."""
