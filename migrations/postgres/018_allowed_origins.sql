-- The web origins a publishable key may be used from in a browser, space
-- separated; empty allows any. Set when the key is created (or asked for in a
-- live key request) and never changed; a roll keeps them.
ALTER TABLE api_keys ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '';
ALTER TABLE live_key_requests ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '';
