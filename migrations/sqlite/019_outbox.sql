-- The outbox: every message Keyport sends is written here in the transaction
-- of the change that causes it, then delivered by a background sender that
-- claims it for a while (claimed_until), so that a crash can lose neither the
-- change nor its message. payload is the message's data sealed with the
-- encryption key (it may carry the token of a link); uid is its stable
-- identity, the same on every attempt.
CREATE TABLE outbox (
    id              INTEGER PRIMARY KEY,
    uid             TEXT    NOT NULL UNIQUE,
    kind            TEXT    NOT NULL,
    recipient       TEXT    NOT NULL,
    payload         BLOB    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'failed', 'held')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER NOT NULL DEFAULT 0,
    sent_at         INTEGER
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE state = 'pending';
CREATE INDEX outbox_state_id ON outbox (state, id);

-- Each delivery attempt of an outbox message: when, how long the mail server
-- took, and its error ('' when it accepted the message).
CREATE TABLE outbox_attempts (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL REFERENCES outbox (id),
    at          INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    error       TEXT    NOT NULL
);
CREATE INDEX outbox_attempts_message ON outbox_attempts (message_id, id);

-- Password reset links: the token is stored as its SHA-256, works once and
-- expires after 30 minutes.
CREATE TABLE password_resets (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    token_hash BLOB    NOT NULL UNIQUE,
    ip         TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_user ON password_resets (user_id);
