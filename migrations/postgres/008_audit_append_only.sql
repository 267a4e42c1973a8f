-- The audit log is append-only: the database itself refuses to change, remove or truncate an event.
CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        RAISE EXCEPTION 'audit events are append-only: an event cannot be changed';
    END IF;
    RAISE EXCEPTION 'audit events are append-only: an event cannot be deleted';
END;
$$;
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();

-- The audit log page filters by date and by action, within a merchant or across all of them,
-- and by API account through the events' objects.
CREATE INDEX audit_events_merchant_at ON audit_events (merchant_id, at);
CREATE INDEX audit_events_merchant_action ON audit_events (merchant_id, action);
CREATE INDEX audit_events_action ON audit_events (action);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id);
-- Deleted registered auths keep their history, so the account filter needs every auth of an account.
CREATE INDEX registered_auths_account_all ON registered_auths (account_id);
