CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT INTO settings (name, value) VALUES ('token_cap', '2');

CREATE TABLE api_keys (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES api_accounts (id),
    merchant_id    INTEGER NOT NULL REFERENCES merchants (id),
    type           TEXT    NOT NULL CHECK (type IN ('secret', 'publishable')),
    mode           TEXT    NOT NULL CHECK (mode IN ('test', 'live')),
    name           TEXT    NOT NULL,
    hash           BLOB    NOT NULL UNIQUE,
    prefix         TEXT    NOT NULL,
    first4         TEXT    NOT NULL,
    last4          TEXT    NOT NULL,
    access         TEXT    NOT NULL DEFAULT 'full' CHECK (access IN ('full', 'restricted')),
    permissions    TEXT    NOT NULL DEFAULT '',
    suppress_costs INTEGER NOT NULL DEFAULT 0,
    legacy         INTEGER NOT NULL DEFAULT 0,
    request_id     INTEGER,
    created_by     INTEGER REFERENCES users (id),
    created_by_label TEXT  NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER,
    expiry_logged  INTEGER NOT NULL DEFAULT 0,
    rolled_at      INTEGER,
    revoked_at     INTEGER,
    revoked_by_label TEXT  NOT NULL DEFAULT '',
    revoke_reason  TEXT    NOT NULL DEFAULT '',
    last_used_at   INTEGER,
    last_used_ip   TEXT    NOT NULL DEFAULT '',
    use_count      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_keys_account ON api_keys (account_id, mode, revoked_at);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id);

CREATE TABLE live_key_requests (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES api_accounts (id),
    merchant_id       INTEGER NOT NULL REFERENCES merchants (id),
    requested_by      INTEGER REFERENCES users (id),
    requested_by_label TEXT   NOT NULL DEFAULT '',
    token_name        TEXT    NOT NULL,
    intended_use      TEXT    NOT NULL,
    website           TEXT    NOT NULL,
    monthly_shipments INTEGER NOT NULL,
    key_type          TEXT    NOT NULL DEFAULT 'secret',
    access            TEXT    NOT NULL DEFAULT 'full',
    permissions       TEXT    NOT NULL DEFAULT '',
    suppress_costs    INTEGER NOT NULL DEFAULT 0,
    state             TEXT    NOT NULL CHECK (state IN ('pending', 'needs_info', 'approved', 'issued', 'rejected', 'cancelled')),
    question          TEXT    NOT NULL DEFAULT '',
    reply             TEXT    NOT NULL DEFAULT '',
    reject_reason     TEXT    NOT NULL DEFAULT '',
    decided_by_label  TEXT    NOT NULL DEFAULT '',
    issued_key_id     INTEGER REFERENCES api_keys (id),
    notify_merchant   INTEGER NOT NULL DEFAULT 0,
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX live_key_requests_state ON live_key_requests (state, id);
CREATE INDEX live_key_requests_account ON live_key_requests (account_id, id);
