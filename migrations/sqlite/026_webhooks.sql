-- Webhook endpoints: a merchant's URLs that receive signed key events. The
-- signing secret is sealed with the encryption key; after a roll the previous
-- one (old_secret) keeps signing until old_secret_until. failing_since is the
-- first failed attempt of the current run of failures; an endpoint failing
-- for three days is disabled with a reason.
CREATE TABLE webhook_endpoints (
    id               INTEGER PRIMARY KEY,
    merchant_id      INTEGER NOT NULL REFERENCES merchants (id),
    url              TEXT    NOT NULL,
    description      TEXT    NOT NULL DEFAULT '',
    events           TEXT    NOT NULL,
    enabled          INTEGER NOT NULL DEFAULT 1,
    disabled_reason  TEXT    NOT NULL DEFAULT '',
    secret           BLOB    NOT NULL,
    old_secret       BLOB,
    old_secret_until INTEGER,
    failing_since    INTEGER,
    created_at       INTEGER NOT NULL,
    created_by_label TEXT    NOT NULL,
    deleted_at       INTEGER
);
CREATE INDEX webhook_endpoints_merchant ON webhook_endpoints (merchant_id, id);

-- Webhook events, written in the transaction of the change they tell of. uid
-- is the event's stable identity (the webhook-id header); payload is the JSON
-- body sent, which never holds a secret.
CREATE TABLE webhook_events (
    id          INTEGER PRIMARY KEY,
    uid         TEXT    NOT NULL UNIQUE,
    merchant_id INTEGER NOT NULL REFERENCES merchants (id),
    type        TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
);

-- One event to one endpoint, retried with backoff until a 2xx answer or for
-- three days; a sender claims it for a while (claimed_until).
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    event_id        INTEGER NOT NULL REFERENCES webhook_events (id),
    endpoint_id     INTEGER NOT NULL REFERENCES webhook_endpoints (id),
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'succeeded', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_until   INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries (endpoint_id, id);

-- Each attempt of a delivery: the answer's status (0 when none came), how
-- long it took, and the start of its body or the error.
CREATE TABLE webhook_attempts (
    id          INTEGER PRIMARY KEY,
    delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries (id),
    at          INTEGER NOT NULL,
    status      INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    excerpt     TEXT    NOT NULL
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id, id);

-- What a leak report does to a secret key that verifies: revoke it, or only
-- tell the merchant.
INSERT INTO settings (name, value) VALUES ('leak_action', 'revoke');
