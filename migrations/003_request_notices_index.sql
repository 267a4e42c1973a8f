-- The merchant's unseen request outcomes are looked up on every page a merchant opens.
CREATE INDEX live_key_requests_notify ON live_key_requests (merchant_id) WHERE notify_merchant = 1;
