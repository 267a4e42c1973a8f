-- The merchant's unseen request outcomes are looked up on every page a merchant opens.
CREATE INDEX live_key_requests_notify ON live_key_requests (merchant_id) WHERE notify_merchant = 1;

-- The expiry logger looks every minute for keys whose expiry passed and is not yet logged.
CREATE INDEX api_keys_expiry_unlogged ON api_keys (expires_at) WHERE expiry_logged = 0 AND expires_at IS NOT NULL;
