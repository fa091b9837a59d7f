-- The dashboards' schema (QuickSight, the Airflow "IMDb quality" view). Applied before the other
-- create_*.sql files of this folder; refresh_marts.sql fills its tables and (re)creates its views.
create schema if not exists marts;
