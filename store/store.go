// Package store keeps Keyport's data in SQLite (the embedded default) or
// PostgreSQL: opening the database, applying migrations, and one file of
// queries per entity. Query texts are shared by both engines; what differs
// lives in dialect.go.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"keyport"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	_ "modernc.org/sqlite"             // registers the "sqlite" driver
)

// DB is the Keyport database.
type DB struct {
	sql *sql.DB
	// dialect is what this engine does differently.
	dialect dialect
	// target is the PostgreSQL URL or the SQLite file path the DB was opened with.
	target string
	// origin tells this DB's key change notifications from other processes'.
	origin string
	// channel is the PostgreSQL channel of key change notifications.
	channel string
	// maxConns is the most connections the pool opens.
	maxConns int
	// listener follows the key changes other processes commit (PostgreSQL).
	listener keyListener
	// invalidations counts the key changes published, by where they came from.
	invalidations [invalidationSources]atomic.Int64
	// Now returns the current time; tests replace it.
	Now func() time.Time
	// Sealer encrypts courier secrets at rest; registering or revealing them fails without one.
	Sealer *keyport.Sealer
	// stmts holds a prepared statement per query text run outside transactions.
	stmts sync.Map
	// keyChanges lists the recent committed changes that may alter whether keys verify.
	keyChanges keyport.KeyChangeLog
	// queries counts the statements and transactions started through this DB.
	queries atomic.Int64
	// writes counts the write transactions and statements started through this DB.
	writes atomic.Int64
	// keyLookups counts the calls of LookupKey.
	keyLookups atomic.Int64
	// messagesIn holds the open transactions that wrote into the outbox.
	messagesIn sync.Map
	// messagesWritten receives a value after a commit that wrote into the outbox.
	messagesWritten chan struct{}
	// eventsIn holds the open transactions that wrote webhook deliveries.
	eventsIn sync.Map
	// eventsWritten receives a value after a commit that wrote webhook deliveries.
	eventsWritten chan struct{}
	// traceQuery, when set (by tests), sees every query run through query and queryRow.
	traceQuery func(query string, args []any)
}

// Queries returns how many statements and transactions have been started
// through this DB, so that tests can prove a path runs no SQL.
func (db *DB) Queries() int64 { return db.queries.Load() }

// Writes returns how many write transactions and write statements have been
// started through this DB, so that tests can prove a path writes nothing.
func (db *DB) Writes() int64 { return db.writes.Load() }

// KeyLookups returns how many times LookupKey has been called, found or not,
// so that a load test can count the verifier's cache misses from outside it.
func (db *DB) KeyLookups() int64 { return db.keyLookups.Load() }

// FileName is the name of the SQLite file inside the data directory.
const FileName = "keyport.db"

// DSN returns the connection string for the SQLite file at path, pragmas
// included. The path is escaped as a URI path, so a "#", "?" or "%" in a
// directory name names that directory rather than ending the file name.
func DSN(path string) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: filepath.ToSlash(path)}).EscapedPath() + "?" + q.Encode()
}

// Options are what a DB needs besides its file or URL.
type Options struct {
	// Now is the clock of every time the store writes and compares; nil is time.Now.
	Now func() time.Time
	// Sealer seals courier secrets at rest; without one, registering or revealing them fails.
	Sealer *keyport.Sealer
	// MaxConns caps the connections the DB opens; 0 is DefaultMaxConns.
	MaxConns int
}

// DefaultMaxConns is how many connections a DB opens at most unless told otherwise:
// on PostgreSQL each replica holds up to this many (plus one to listen for key changes).
const DefaultMaxConns = 8

// Open opens the database target names: a PostgreSQL URL (postgres://… or
// postgresql://…) or the path of a SQLite file, created if needed. It does
// not migrate.
func Open(target string, opts Options) (*DB, error) {
	engine, driver, dsn, shown := SQLite, "sqlite", DSN(target), target
	if IsPostgres(target) {
		engine, driver, dsn, shown = Postgres, "pgx", target, RedactURL(target)
	}
	sqlDB, err := sql.Open(driver, dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", shown, err)
	}
	if opts.MaxConns <= 0 {
		opts.MaxConns = DefaultMaxConns
	}
	sqlDB.SetMaxOpenConns(opts.MaxConns)
	sqlDB.SetMaxIdleConns(opts.MaxConns)
	sqlDB.SetConnMaxIdleTime(0)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open database %s: %w", shown, err)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	db := &DB{sql: sqlDB, dialect: dialectOf(engine), target: target, origin: newOrigin(), maxConns: opts.MaxConns,
		Now: opts.Now, Sealer: opts.Sealer, messagesWritten: make(chan struct{}, 1),
		eventsWritten: make(chan struct{}, 1)}
	if engine == Postgres {
		var schema string
		if err := sqlDB.QueryRowContext(ctx, `SELECT COALESCE(current_schema(), 'public')`).Scan(&schema); err != nil {
			sqlDB.Close()
			return nil, fmt.Errorf("open database %s: %w", shown, err)
		}
		db.channel = channelOf(schema)
	}
	return db, nil
}

// WarmPool opens every connection the pool may hold, at once, so that the
// first burst of requests after a start does not wait for connections to a
// remote PostgreSQL server one by one. SQLite's connections are local and cheap.
func (db *DB) WarmPool(ctx context.Context) error {
	if db.dialect.engine != Postgres {
		return nil
	}
	conns := make([]*sql.Conn, 0, db.maxConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range db.maxConns {
		c, err := db.sql.Conn(ctx)
		if err != nil {
			return fmt.Errorf("warm the connection pool: %w", err)
		}
		conns = append(conns, c)
	}
	return nil
}

// Engine returns which database engine the DB runs on.
func (db *DB) Engine() Engine { return db.dialect.engine }

// PoolStats returns the statistics of the connection pool.
func (db *DB) PoolStats() sql.DBStats { return db.sql.Stats() }

// RedactURL returns a database URL with its password replaced, in the user
// part or as a password= parameter, fit for logs and errors.
func RedactURL(target string) string {
	u, err := url.Parse(target)
	if err != nil {
		return "(unparsable database URL)"
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}

// Close closes the prepared statements and the database.
func (db *DB) Close() error {
	db.stmts.Range(func(_, v any) bool {
		_ = v.(*sql.Stmt).Close()
		return true
	})
	return db.sql.Close()
}

// stmt returns the prepared statement of a query text, preparing it on first
// use, so that SQLite parses each query once rather than on every call.
func (db *DB) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	db.queries.Add(1)
	if s, ok := db.stmts.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := db.sql.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := db.stmts.LoadOrStore(query, s); loaded {
		_ = s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// query runs a query outside any transaction through its prepared statement.
func (db *DB) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if db.traceQuery != nil {
		db.traceQuery(query, args)
	}
	s, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// queryRow is query for a single row.
func (db *DB) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	if db.traceQuery != nil {
		db.traceQuery(query, args)
	}
	s, err := db.stmt(ctx, query)
	if err != nil {
		return db.sql.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// exec runs a statement outside any transaction through its prepared statement.
func (db *DB) exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	db.writes.Add(1)
	s, err := db.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

// Ping checks that the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.sql.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// SQL exposes the underlying handle for tests and maintenance commands.
func (db *DB) SQL() *sql.DB { return db.sql }

func (db *DB) now() int64 { return db.Now().Unix() }

// tx runs fn inside one write transaction (BEGIN IMMEDIATE), committing when fn
// returns nil. Its errors are wrapped with op, the operation in words ("store:
// revoke key 42: …"), so a failure in the log says what failed. It publishes
// no key change: writes that may alter whether a key verifies use keyTx.
func (db *DB) tx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	db.queries.Add(1)
	db.writes.Add(1)
	tx, err := db.sql.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if err := db.dialect.lockWrites(ctx, tx); err != nil {
		_ = tx.Rollback()
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		db.messagesIn.Delete(tx)
		db.eventsIn.Delete(tx)
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if err := tx.Commit(); err != nil {
		db.messagesIn.Delete(tx)
		db.eventsIn.Delete(tx)
		return fmt.Errorf("store: %s: %w", op, err)
	}
	if _, wrote := db.messagesIn.LoadAndDelete(tx); wrote {
		db.wakeSender()
	}
	if _, wrote := db.eventsIn.LoadAndDelete(tx); wrote {
		db.wakeWebhookSender()
	}
	return nil
}

// wakeSender tells a sender waiting on MessagesWritten that messages are due.
func (db *DB) wakeSender() {
	select {
	case db.messagesWritten <- struct{}{}:
	default:
	}
}

// keyTx is tx for writes that may alter whether keys verify: fn appends to
// changes what it alters, and keyTx publishes them after the commit and before
// it returns, so the very next verification sees them. It publishes them even
// when the transaction fails, as a commit error may hide a commit: dropping a
// cached answer is always safe, keeping a stale one is not.
func (db *DB) keyTx(ctx context.Context, op string, fn func(tx *sql.Tx, changes *[]keyport.KeyChange) error) error {
	var changes []keyport.KeyChange
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		if err := fn(tx, &changes); err != nil {
			return err
		}
		return db.announceKeyChanges(ctx, tx, changes)
	})
	db.publishKeyChanges(InvalidatedLocally, changes...)
	return err
}

// publishKeyChanges is the one entry point of the key change log, for this
// process's commits and for changes other processes report.
func (db *DB) publishKeyChanges(source InvalidationSource, changes ...keyport.KeyChange) {
	db.invalidations[source].Add(int64(len(changes)))
	db.keyChanges.Publish(changes...)
}

// KeySeq returns the number of the last published key change; it only moves forward.
func (db *DB) KeySeq() uint64 { return db.keyChanges.Seq() }

// KeyChangesSince returns the key changes published after seq, oldest first,
// or false when the log no longer reaches back to seq. Changes are revoked or
// rolled keys, disabled, enabled or deleted accounts, disabled or enabled
// merchants, and created keys; an expiry needs none, since a verified key
// carries its expiry.
func (db *DB) KeyChangesSince(seq uint64) ([]keyport.KeyChange, bool) {
	return db.keyChanges.Since(seq)
}

// Migrate applies, in name order, every embedded migration of the engine not
// yet recorded, each in its own transaction. It returns the names it applied.
// On PostgreSQL the whole run holds a session advisory lock, so replicas
// starting together migrate once: the others wait, then find nothing to do.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	if db.dialect.engine == Postgres {
		conn, err := db.sql.Conn(ctx)
		if err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, int64(migrateLockKey)); err != nil {
			return nil, fmt.Errorf("migrate: take the migration lock: %w", err)
		}
		defer func() {
			_, _ = conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, int64(migrateLockKey))
		}()
	}
	if _, err := db.sql.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		name TEXT PRIMARY KEY, applied_at BIGINT NOT NULL)`); err != nil {
		return nil, fmt.Errorf("create schema_migrations: %w", err)
	}
	names, err := fs.Glob(db.dialect.migrations, "*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var applied []string
	for _, name := range names {
		body, err := fs.ReadFile(db.dialect.migrations, name)
		if err != nil {
			return applied, err
		}
		done := false
		err = db.tx(ctx, "migrate "+name, func(tx *sql.Tx) error {
			var n int
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM schema_migrations WHERE name = $1", name).Scan(&n); err != nil {
				return err
			}
			if n > 0 {
				done = true
				return nil
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, "INSERT INTO schema_migrations (name, applied_at) VALUES ($1, $2)", name, db.now())
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("migration %s: %w", name, err)
		}
		if !done {
			applied = append(applied, name)
		}
	}
	return applied, nil
}

// notFound turns sql.ErrNoRows into keyport.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return keyport.ErrNotFound
	}
	return err
}

func unixTime(sec int64) time.Time { return time.Unix(sec, 0).UTC() }

func nullTime(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return unixTime(v.Int64)
}

// audit appends an event to the audit log inside tx.
func (db *DB) audit(ctx context.Context, tx *sql.Tx, merchantID int64, actor keyport.Actor, action keyport.AuditAction, objectType string, objectID int64, detail string) error {
	var actorUser, merchant, object any
	if actor.UserID != 0 {
		actorUser = actor.UserID
	}
	if merchantID != 0 {
		merchant = merchantID
	}
	if objectID != 0 {
		object = objectID
	}
	label := actor.Label
	if label == "" {
		label = "system"
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO audit_events (at, merchant_id, actor_user, actor, ip, action, object_type, object_id, detail, account_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, `+auditAccountOf+`)`, db.now(), merchant, actorUser, label, actor.IP, action.String(), objectType, object, detail)
	return err
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(...any) error }

// collect reads every row of a query with scan, closing the rows.
func collect[T any](rows *sql.Rows, err error, scan func(scanner) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	return list, rows.Err()
}
