-- A removed member keeps their row for the audit trail, with their email freed.
ALTER TABLE users ADD COLUMN removed_at INTEGER;

-- One-time invitations to join a merchant; only the SHA-256 of the link's token is kept.
CREATE TABLE invitations (
    id               INTEGER PRIMARY KEY,
    merchant_id      INTEGER NOT NULL REFERENCES merchants (id),
    email            TEXT    NOT NULL COLLATE NOCASE,
    role             TEXT    NOT NULL CHECK (role IN ('owner', 'developer', 'reviewer')),
    token_hash       BLOB    NOT NULL UNIQUE,
    invited_by_label TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    expires_at       INTEGER NOT NULL,
    accepted_at      INTEGER,
    revoked_at       INTEGER
);
CREATE INDEX invitations_open ON invitations (merchant_id) WHERE accepted_at IS NULL AND revoked_at IS NULL;
