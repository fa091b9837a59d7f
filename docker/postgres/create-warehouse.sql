-- The warehouse gets a database of its own next to Airflow's metadata database.
create database warehouse;
