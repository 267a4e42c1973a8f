-- SQLite's twin of this migration rebuilds two partial indexes so that their
-- conditions read as the queries' (notify_merchant = TRUE, expiry_logged =
-- FALSE). PostgreSQL's planner already matches those to the indexes of 003.
SELECT 1;
