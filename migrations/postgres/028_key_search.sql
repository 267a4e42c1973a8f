-- The API team's key finder: keys of every merchant by prefix and the first
-- four characters of the body, newest first.
CREATE INDEX api_keys_prefix_first4 ON api_keys (prefix, first4, id);
