-- Lists page by cursor (sort key, then id), so each list and each of its filters
-- needs an index that yields its rows in that order without reading the rest.

-- API secrets page: the merchant's keys newest first, by mode, type, account and status.
CREATE INDEX api_keys_merchant_mode ON api_keys (merchant_id, mode, id);
CREATE INDEX api_keys_merchant_type ON api_keys (merchant_id, type, id);
CREATE INDEX api_keys_account_id ON api_keys (account_id, id);
CREATE INDEX api_keys_merchant_revoked ON api_keys (merchant_id, id) WHERE revoked_at IS NOT NULL;
CREATE INDEX api_keys_merchant_unrevoked ON api_keys (merchant_id, id) WHERE revoked_at IS NULL;
-- Active keys are counted on the API Accounts page without reading expired ones.
CREATE INDEX api_keys_account_unrevoked ON api_keys (account_id, mode, expires_at) WHERE revoked_at IS NULL;

-- API Accounts page: the merchant's accounts in creation order.
CREATE INDEX api_accounts_merchant ON api_accounts (merchant_id, id) WHERE deleted_at IS NULL;

-- Approval queue, oldest first: the waiting requests, one state, or all of them.
CREATE INDEX live_key_requests_open ON live_key_requests (created_at, id) WHERE state IN ('pending', 'needs_info');
CREATE INDEX live_key_requests_state_created ON live_key_requests (state, created_at, id);
CREATE INDEX live_key_requests_created ON live_key_requests (created_at, id);

-- Audit log, newest first by time: each event records the API account its
-- object belongs to, so the account filter reads one index range.
ALTER TABLE audit_events ADD COLUMN account_id BIGINT REFERENCES api_accounts (id);
ALTER TABLE audit_events DISABLE TRIGGER audit_events_no_update;
UPDATE audit_events SET account_id = CASE object_type
    WHEN 'api_account' THEN object_id
    WHEN 'api_key' THEN (SELECT k.account_id FROM api_keys k WHERE k.id = audit_events.object_id)
    WHEN 'registered_auth' THEN (SELECT r.account_id FROM registered_auths r WHERE r.id = audit_events.object_id)
    WHEN 'live_key_request' THEN (SELECT q.account_id FROM live_key_requests q WHERE q.id = audit_events.object_id)
    WHEN 'shipment' THEN (SELECT s.account_id FROM shipments s WHERE s.id = audit_events.object_id)
END;
ALTER TABLE audit_events ENABLE TRIGGER audit_events_no_update;
CREATE INDEX audit_events_account_at ON audit_events (account_id, at, id) WHERE account_id IS NOT NULL;
DROP INDEX audit_events_merchant_action;
CREATE INDEX audit_events_merchant_action_at ON audit_events (merchant_id, action, at, id);
DROP INDEX audit_events_action;
CREATE INDEX audit_events_action_at ON audit_events (action, at, id);
DROP INDEX audit_events_merchant_at;
CREATE INDEX audit_events_merchant_at ON audit_events (merchant_id, at, id);
DROP INDEX audit_events_at;
CREATE INDEX audit_events_at ON audit_events (at, id);
