-- A sign-up verifies its email address with a link before it may request a
-- live key; the users who exist already (invited, added or signed up before)
-- count as verified.
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;
UPDATE users SET email_verified_at = created_at;

-- Email verification links: the token is stored as its SHA-256, works once
-- and expires after 7 days.
CREATE TABLE email_verifications (
    id         INTEGER PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    token_hash BLOB    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX email_verifications_user ON email_verifications (user_id);
