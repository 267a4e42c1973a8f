CREATE TABLE merchants (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    disabled_at INTEGER,
    created_at  INTEGER NOT NULL
);

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    merchant_id   INTEGER REFERENCES merchants (id),
    name          TEXT    NOT NULL,
    email         TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    role          TEXT    NOT NULL CHECK (role IN ('owner', 'developer', 'reviewer', 'admin')),
    password_hash TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    CHECK ((role = 'admin') = (merchant_id IS NULL))
);
CREATE INDEX users_merchant ON users (merchant_id);

CREATE TABLE api_accounts (
    id          INTEGER PRIMARY KEY,
    merchant_id INTEGER NOT NULL REFERENCES merchants (id),
    name        TEXT    NOT NULL,
    account_key TEXT    NOT NULL UNIQUE,
    disabled_at INTEGER,
    deleted_at  INTEGER,
    created_at  INTEGER NOT NULL
);
CREATE UNIQUE INDEX api_accounts_live_name ON api_accounts (merchant_id, name COLLATE NOCASE) WHERE deleted_at IS NULL;

CREATE TABLE sessions (
    id_hash      BLOB    PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    data         BLOB,
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE audit_events (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    merchant_id INTEGER REFERENCES merchants (id),
    actor_user  INTEGER REFERENCES users (id),
    actor       TEXT    NOT NULL,
    ip          TEXT    NOT NULL DEFAULT '',
    action      TEXT    NOT NULL,
    object_type TEXT    NOT NULL DEFAULT '',
    object_id   INTEGER,
    detail      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_merchant ON audit_events (merchant_id, id);
