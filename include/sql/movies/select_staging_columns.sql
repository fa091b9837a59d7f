-- The staging table's columns in table order: the processed Parquet must match them one to one
-- (Redshift COPY ... FORMAT AS PARQUET maps columns by position).
select columns.column_name
from information_schema.columns as columns
where
    columns.table_schema = 'movies'
    and columns.table_name = 'imdb_movies_staging'
order by columns.ordinal_position
