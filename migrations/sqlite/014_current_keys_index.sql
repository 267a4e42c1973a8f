-- Developer keys tab and the key pop-ups: an account's current (unrevoked)
-- keys, live before test, newest first, one page at a time.
CREATE INDEX api_keys_account_current ON api_keys (account_id, (CASE mode WHEN 'live' THEN 1 ELSE 0 END)) WHERE revoked_at IS NULL;
