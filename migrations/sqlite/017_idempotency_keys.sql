-- The answers to POSTs made under an Idempotency-Key, per API key, kept for
-- 24 hours so that a retried request gets the first answer again. Each row is
-- written in the transaction of the change it answers; request_hash is the
-- SHA-256 of the method, path and body, so that a key reused for another
-- request is refused.
CREATE TABLE idempotency_keys (
    key_id       INTEGER NOT NULL REFERENCES api_keys (id),
    idem_key     TEXT NOT NULL,
    request_hash BLOB NOT NULL,
    status       INTEGER NOT NULL,
    body         BLOB NOT NULL,
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (key_id, idem_key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
