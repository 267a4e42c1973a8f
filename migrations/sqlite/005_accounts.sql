-- Courier credentials registered on an API account. Non-secret field values are
-- JSON in "fields"; secret values are one AES-256-GCM sealed JSON object in "secrets".
CREATE TABLE registered_auths (
    id               INTEGER PRIMARY KEY,
    account_id       INTEGER NOT NULL REFERENCES api_accounts (id),
    merchant_id      INTEGER NOT NULL REFERENCES merchants (id),
    courier          TEXT    NOT NULL REFERENCES couriers (code),
    company          TEXT    NOT NULL,
    testing          INTEGER NOT NULL CHECK (testing IN (0, 1)),
    fields           TEXT    NOT NULL DEFAULT '{}',
    secret_names     TEXT    NOT NULL DEFAULT '',
    secrets          BLOB,
    created_by_label TEXT    NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    deleted_at       INTEGER
);
CREATE INDEX registered_auths_account ON registered_auths (account_id) WHERE deleted_at IS NULL;
CREATE UNIQUE INDEX registered_auths_company ON registered_auths (account_id, courier, company COLLATE NOCASE, testing)
    WHERE deleted_at IS NULL;

-- Parcels created through a courier service of an API account, in one mode.
CREATE TABLE shipments (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES api_accounts (id),
    merchant_id     INTEGER NOT NULL REFERENCES merchants (id),
    mode            TEXT    NOT NULL CHECK (mode IN ('test', 'live')),
    courier         TEXT    NOT NULL REFERENCES couriers (code),
    service_code    TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('created', 'in_transit', 'delivered', 'cancelled')),
    tracking_number TEXT    NOT NULL UNIQUE,
    label_ref       TEXT    NOT NULL,
    amount_minor    INTEGER NOT NULL,
    currency        TEXT    NOT NULL,
    from_postcode   TEXT    NOT NULL,
    from_country    TEXT    NOT NULL,
    to_postcode     TEXT    NOT NULL,
    to_country      TEXT    NOT NULL,
    weight_grams    INTEGER NOT NULL,
    key_id          INTEGER REFERENCES api_keys (id),
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX shipments_account ON shipments (account_id, mode, id);

-- Shipments per account and mode, kept by a trigger so that pages never count the shipments
-- table. Shipments are never deleted (a cancelled one keeps its row).
ALTER TABLE api_accounts ADD COLUMN test_shipments INTEGER NOT NULL DEFAULT 0;
ALTER TABLE api_accounts ADD COLUMN live_shipments INTEGER NOT NULL DEFAULT 0;
CREATE TRIGGER shipments_counted AFTER INSERT ON shipments
BEGIN
    UPDATE api_accounts
       SET test_shipments = test_shipments + (NEW.mode = 'test'),
           live_shipments = live_shipments + (NEW.mode = 'live')
     WHERE id = NEW.account_id;
END;
CREATE TRIGGER shipments_kept BEFORE DELETE ON shipments
BEGIN
    SELECT RAISE(ABORT, 'shipments are kept: cancel a shipment instead of deleting it');
END;
