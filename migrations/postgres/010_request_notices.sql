-- A request's notice now stays until it is dismissed or the request moves on;
-- a notice left on a request that moved on no longer applies.
UPDATE live_key_requests SET notify_merchant = FALSE
WHERE notify_merchant AND state NOT IN ('approved', 'rejected', 'needs_info');
