-- The audit log is append-only: the database itself refuses to change or remove an event.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only: an event cannot be changed');
END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only: an event cannot be deleted');
END;

-- The audit log page filters by date and by action, within a merchant or across all of them
-- (the rowid at the end of each index keeps "newest first" in index order), and by API account
-- through the events' objects.
CREATE INDEX audit_events_merchant_at ON audit_events (merchant_id, at);
CREATE INDEX audit_events_merchant_action ON audit_events (merchant_id, action);
CREATE INDEX audit_events_action ON audit_events (action);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_object ON audit_events (object_type, object_id);
-- Deleted registered auths keep their history, so the account filter needs every auth of an account.
CREATE INDEX registered_auths_account_all ON registered_auths (account_id);
