-- Passkeys and security keys (WebAuthn) as second factors: each has a name
-- its user chose, the credential id the browser presents, and the credential
-- as go-webauthn describes it (public key, signature counter, flags), as JSON.
CREATE TABLE passkeys (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES users (id),
    name          TEXT    NOT NULL,
    credential_id BLOB    NOT NULL UNIQUE,
    credential    BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
);
CREATE INDEX passkeys_user ON passkeys (user_id);
