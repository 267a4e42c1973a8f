-- The number of committed changes that may alter whether a key verifies. Replicas
-- on PostgreSQL poll it to notice a change whose notification they missed; a
-- single SQLite process learns of its own changes directly and leaves it at 0.
CREATE TABLE key_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO key_version (id, n) VALUES (1, 0);
