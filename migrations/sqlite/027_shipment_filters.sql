-- The Shipments page filters an API account's shipments of a mode by status,
-- newest first: this index reads one page of one status without reading the
-- shipments of the others. Tracking number and date filters read the account's
-- shipments of the mode through shipments_account, newest first.
CREATE INDEX shipments_account_status ON shipments (account_id, mode, status, id);
