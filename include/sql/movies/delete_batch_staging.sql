-- The batch's rows of an earlier attempt at staging it, so that a retry replaces them.
-- DELETE, not TRUNCATE: TRUNCATE commits at once on Redshift, and other batches share the table.
delete from movies.imdb_movies_staging
where batch_id = %(batch_id)s
