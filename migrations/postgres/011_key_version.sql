-- The number of committed changes that may alter whether a key verifies. Every
-- such transaction moves it forward and sends NOTIFY keyport_key_changes with
-- the new number; replicas poll it to notice a notification they missed.
CREATE TABLE key_version (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    n  BIGINT NOT NULL
);
INSERT INTO key_version (id, n) VALUES (1, 0);
