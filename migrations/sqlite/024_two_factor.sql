-- Two-factor authentication: a user's authenticator app secret (sealed like
-- courier secrets; confirmed_at is NULL while it awaits its first code, and
-- last_step is the time step of the last code accepted, so each code works
-- once) and their recovery codes, kept as SHA-256 hashes.
CREATE TABLE totp_secrets (
    user_id       INTEGER PRIMARY KEY REFERENCES users (id),
    secret_sealed BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    confirmed_at  INTEGER,
    last_step     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE recovery_codes (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    code_hash  BLOB    NOT NULL,
    created_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX recovery_codes_user ON recovery_codes (user_id, code_hash);
