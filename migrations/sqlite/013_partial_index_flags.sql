-- Queries compare flags with TRUE and FALSE, the words both engines share;
-- SQLite uses a partial index only when the query's condition is written as
-- the index's, so these two are rebuilt with the same words. Written with
-- 1 and 0 they were never used: every page scanned every live key request for
-- its merchant's notices, and every expiry sweep scanned every key.
DROP INDEX live_key_requests_notify;
CREATE INDEX live_key_requests_notify ON live_key_requests (merchant_id) WHERE notify_merchant = TRUE;
DROP INDEX api_keys_expiry_unlogged;
CREATE INDEX api_keys_expiry_unlogged ON api_keys (expires_at) WHERE expiry_logged = FALSE AND expires_at IS NOT NULL;
