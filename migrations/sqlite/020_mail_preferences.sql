-- The optional email topics each user turned off (space-separated, such as
-- "requests expiry"); security messages have no topic and are always sent.
ALTER TABLE users ADD COLUMN mail_optout TEXT NOT NULL DEFAULT '';

-- The expiry reminders already written into the outbox, one row per key and
-- threshold (7d, 1d, expired), so that each is sent once across restarts and
-- replicas.
CREATE TABLE key_reminders (
    key_id     INTEGER NOT NULL REFERENCES api_keys (id),
    threshold  TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, threshold)
);
