-- Publishable keys are not secret (they are meant for client-side code), so their
-- full value stays visible to the merchant's users. Secret keys never have one.
ALTER TABLE api_keys ADD COLUMN public_value TEXT NOT NULL DEFAULT '';
CREATE TRIGGER api_keys_public_value_only_publishable BEFORE INSERT ON api_keys
WHEN NEW.type = 'secret' AND NEW.public_value <> ''
BEGIN
    SELECT RAISE(ABORT, 'a secret key value is never stored');
END;
