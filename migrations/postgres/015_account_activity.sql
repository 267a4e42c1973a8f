-- An API account's test activity as the approval queue shows it, kept as
-- counters so that a queue row costs the same however many keys the account
-- holds: the test keys ever created (a trigger, as for shipments; keys are
-- never deleted) and the calls they made (each usage flush adds its calls per
-- account in the transaction that adds them to the keys).
ALTER TABLE api_accounts ADD COLUMN test_keys BIGINT NOT NULL DEFAULT 0;
ALTER TABLE api_accounts ADD COLUMN test_calls BIGINT NOT NULL DEFAULT 0;
UPDATE api_accounts
   SET test_keys = (SELECT count(*) FROM api_keys k WHERE k.account_id = api_accounts.id AND k.mode = 'test'),
       test_calls = (SELECT COALESCE(sum(k.use_count), 0) FROM api_keys k WHERE k.account_id = api_accounts.id AND k.mode = 'test');

CREATE FUNCTION api_keys_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE api_accounts SET test_keys = test_keys + 1 WHERE id = NEW.account_id;
    RETURN NULL;
END;
$$;
CREATE TRIGGER api_keys_counted AFTER INSERT ON api_keys
    FOR EACH ROW WHEN (NEW.mode = 'test') EXECUTE FUNCTION api_keys_counted();
