-- The warehouse schema. Applied before the other create_*.sql files, which all live in it.
create schema if not exists movies;
