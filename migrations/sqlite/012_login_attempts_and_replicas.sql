-- Sign-in attempts, shared by every replica: one row per attempt and scope
-- ("account:<email>", "ip:<address>"), kept as the scope's SHA-256 so that any
-- text a client sends fits the index. Rows older than the throttle's window
-- no longer count and are deleted as new attempts arrive.
CREATE TABLE login_attempts (
    id         INTEGER PRIMARY KEY,
    scope_hash BLOB    NOT NULL,
    at         INTEGER NOT NULL
);
CREATE INDEX login_attempts_scope_at ON login_attempts (scope_hash, at);
CREATE INDEX login_attempts_at ON login_attempts (at);

-- Running replicas and when each last said so, to share the per-key API rate
-- limit among the live ones.
CREATE TABLE replicas (
    id      TEXT    PRIMARY KEY,
    seen_at INTEGER NOT NULL
) WITHOUT ROWID;
