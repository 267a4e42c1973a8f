package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"keyport"
)

// keyChangeChannel is the PostgreSQL channel on which every transaction that
// may alter whether keys verify announces its changes, delivered on commit.
// Channels span a database, so a schema other than public gets its own
// channel, keyport_key_changes.SCHEMA.
const keyChangeChannel = "keyport_key_changes"

// channelOf is the key change channel of a schema.
func channelOf(schema string) string {
	if schema == "" || schema == "public" {
		return keyChangeChannel
	}
	return keyChangeChannel + "." + schema
}

// maxNotifyPayload keeps a notification under PostgreSQL's 8000-byte limit;
// longer lists of changes are announced as "everything changed".
const maxNotifyPayload = 7000

// DefaultKeyVersionPoll is how often a listening replica reads key_version to
// notice a change whose notification it missed: a missed change is applied
// within two polls.
const DefaultKeyVersionPoll = 125 * time.Millisecond

func newOrigin() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// announceKeyChanges, inside a key-changing transaction on PostgreSQL, moves
// key_version forward and sends the changes with the new version to every
// listening replica; PostgreSQL delivers the notification only if the
// transaction commits. SQLite has no other process to tell.
func (db *DB) announceKeyChanges(ctx context.Context, tx *sql.Tx, changes []keyport.KeyChange) error {
	if db.dialect.engine != Postgres || len(changes) == 0 {
		return nil
	}
	var version int64
	if err := tx.QueryRowContext(ctx, `UPDATE key_version SET n = n + 1 WHERE id = 1 RETURNING n`).Scan(&version); err != nil {
		return fmt.Errorf("move key_version: %w", err)
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_notify($1, $2)`, db.channel, encodeKeyChanges(db.origin, version, changes))
	return err
}

// encodeKeyChanges writes a notification: origin, version, then one word per
// change (k<key id>, a<account id>, m<merchant id>, h<hash hex>), or "*" when
// they do not fit.
func encodeKeyChanges(origin string, version int64, changes []keyport.KeyChange) string {
	var b strings.Builder
	b.WriteString(origin)
	b.WriteByte(' ')
	b.WriteString(strconv.FormatInt(version, 10))
	for _, c := range changes {
		b.WriteByte(' ')
		switch c.Scope {
		case keyport.ScopeKey:
			b.WriteString("k" + strconv.FormatInt(c.ID, 10))
		case keyport.ScopeAccount:
			b.WriteString("a" + strconv.FormatInt(c.ID, 10))
		case keyport.ScopeMerchant:
			b.WriteString("m" + strconv.FormatInt(c.ID, 10))
		case keyport.ScopeHash:
			b.WriteString("h" + hex.EncodeToString(c.Hash[:]))
		default:
			b.WriteString("*")
		}
		if b.Len() > maxNotifyPayload {
			return origin + " " + strconv.FormatInt(version, 10) + " *"
		}
	}
	return b.String()
}

// decodeKeyChanges reads a notification; all is true when the sender could
// not list the changes, so that every key may have changed.
func decodeKeyChanges(payload string) (origin string, version int64, changes []keyport.KeyChange, all bool, err error) {
	words := strings.Fields(payload)
	if len(words) < 2 {
		return "", 0, nil, false, fmt.Errorf("key change notification %q: too short", payload)
	}
	origin = words[0]
	if version, err = strconv.ParseInt(words[1], 10, 64); err != nil {
		return "", 0, nil, false, fmt.Errorf("key change notification %q: version: %w", payload, err)
	}
	for _, w := range words[2:] {
		if w == "*" {
			return origin, version, nil, true, nil
		}
		if w[0] == 'h' {
			var c keyport.KeyChange
			c.Scope = keyport.ScopeHash
			if n, err := hex.Decode(c.Hash[:], []byte(w[1:])); err != nil || n != len(c.Hash) {
				return origin, version, nil, true, nil
			}
			changes = append(changes, c)
			continue
		}
		id, err := strconv.ParseInt(w[1:], 10, 64)
		if err != nil {
			return origin, version, nil, true, nil
		}
		switch w[0] {
		case 'k':
			changes = append(changes, keyport.KeyChanged(id))
		case 'a':
			changes = append(changes, keyport.AccountChanged(id))
		case 'm':
			changes = append(changes, keyport.MerchantChanged(id))
		default:
			return origin, version, nil, true, nil
		}
	}
	return origin, version, changes, false, nil
}

// keyListener is what a DB knows of the key changes other processes commit.
type keyListener struct {
	mu sync.Mutex
	// seen is the last key_version this process has applied.
	seen int64
	// gap is a key_version a poll found ahead of seen; when the next poll
	// finds seen still behind it, its notification was missed.
	gap int64
	// connected reports whether the LISTEN connection is up.
	connected atomic.Bool
	// notified and resets count applied notifications and cache resets, for tests and logs.
	notified, resets atomic.Int64
}

// KeyListenerStats says how a listening DB has learned of other processes' key
// changes: notifications applied, and resets (a dropped connection or a missed
// notification, after which every cached key is read again).
type KeyListenerStats struct {
	Connected bool
	Notified  int64
	Resets    int64
}

// InvalidationSource says where a key change that drops cached keys came from.
type InvalidationSource int

// The sources of key changes.
const (
	// InvalidatedLocally is a change this process committed.
	InvalidatedLocally InvalidationSource = iota
	// InvalidatedByNotification is another process's change, or a notification
	// that could not be applied and emptied every cache.
	InvalidatedByNotification
	// InvalidatedByPoll is the version poll finding a missed notification,
	// which empties every cache.
	InvalidatedByPoll
	// InvalidatedByReconnect is the listener starting or losing its connection,
	// which empties every cache.
	InvalidatedByReconnect
	invalidationSources
)

// String names the source, as metrics label it.
func (s InvalidationSource) String() string {
	switch s {
	case InvalidatedLocally:
		return "local"
	case InvalidatedByNotification:
		return "notification"
	case InvalidatedByPoll:
		return "poll"
	case InvalidatedByReconnect:
		return "reconnect"
	}
	return "unknown"
}

// InvalidationSources lists every source, in order.
func InvalidationSources() []InvalidationSource {
	return []InvalidationSource{InvalidatedLocally, InvalidatedByNotification, InvalidatedByPoll, InvalidatedByReconnect}
}

// KeyInvalidations returns how many key changes from source this process has
// published since it opened the database; a change that empties every cache
// counts once.
func (db *DB) KeyInvalidations(source InvalidationSource) int64 {
	return db.invalidations[source].Load()
}

// KeyListenerStats returns the listener's counts.
func (db *DB) KeyListenerStats() KeyListenerStats {
	return KeyListenerStats{Connected: db.listener.connected.Load(), Notified: db.listener.notified.Load(), Resets: db.listener.resets.Load()}
}

// FollowKeyChanges keeps this process's key change log in step with the key
// changes every other process commits to the same PostgreSQL database, until
// ctx ends: one connection LISTENs for the notifications each change sends on
// commit, and every poll interval (DefaultKeyVersionPoll when 0) key_version
// is read through the pool, so that a notification missed for any reason is
// noticed within two polls. Whenever the listener cannot vouch for what it
// missed (on start, after its connection dropped, after a missed
// notification) it resets the log, which empties every verifier cache at
// once. On SQLite it returns at once: one process sees all its changes.
func (db *DB) FollowKeyChanges(ctx context.Context, poll time.Duration, log *slog.Logger) {
	if db.dialect.engine != Postgres {
		return
	}
	if poll <= 0 {
		poll = DefaultKeyVersionPoll
	}
	var wg sync.WaitGroup
	wg.Go(func() { db.listenKeyChanges(ctx, log) })
	wg.Go(func() { db.pollKeyVersion(ctx, poll, log) })
	wg.Wait()
}

// listenKeyChanges holds the LISTEN connection, reconnecting with backoff.
func (db *DB) listenKeyChanges(ctx context.Context, log *slog.Logger) {
	backoff := 50 * time.Millisecond
	for ctx.Err() == nil {
		err := db.listenOnce(ctx)
		if db.listener.connected.Swap(false) {
			db.resetKeyChanges(InvalidatedByReconnect)
		}
		if ctx.Err() != nil {
			return
		}
		log.Warn("key change listener lost its connection; every verifier cache was emptied", "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// listenOnce connects, LISTENs and applies notifications until an error.
func (db *DB) listenOnce(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(db.target)
	if err != nil {
		return err
	}
	cfg.RuntimeParams["application_name"] = listenerName(db.origin)
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{db.channel}.Sanitize()); err != nil {
		return err
	}
	var version int64
	if err := conn.QueryRow(ctx, `SELECT n FROM key_version WHERE id = 1`).Scan(&version); err != nil {
		return err
	}
	db.listener.mu.Lock()
	db.listener.seen = max(db.listener.seen, version)
	db.listener.gap = 0
	db.listener.mu.Unlock()
	db.resetKeyChanges(InvalidatedByReconnect)
	db.listener.connected.Store(true)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		db.applyNotification(n.Payload)
	}
}

// listenerName is the application_name of a DB's LISTEN connection, so that
// an operator (or a test) can find it in pg_stat_activity.
func listenerName(origin string) string { return "keyport-key-listener-" + origin }

// applyNotification publishes another process's changes, or resets the log
// when a version between the last one seen and this one is missing.
func (db *DB) applyNotification(payload string) {
	origin, version, changes, all, err := decodeKeyChanges(payload)
	l := &db.listener
	l.mu.Lock()
	missed := err == nil && version > l.seen+1
	if err == nil && version > l.seen {
		l.seen = version
	}
	l.mu.Unlock()
	l.notified.Add(1)
	switch {
	case err != nil || all || missed:
		db.resetKeyChanges(InvalidatedByNotification)
	case origin != db.origin:
		db.publishKeyChanges(InvalidatedByNotification, changes...)
	}
}

// pollKeyVersion reads key_version every interval and resets the log when a
// version found ahead of the last one applied is still not applied one poll later.
func (db *DB) pollKeyVersion(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var version int64
		if err := db.sql.QueryRowContext(ctx, `SELECT n FROM key_version WHERE id = 1`).Scan(&version); err != nil {
			if ctx.Err() == nil && !errors.Is(err, context.Canceled) {
				log.Warn("poll key_version", "err", err)
			}
			continue
		}
		l := &db.listener
		l.mu.Lock()
		stale := l.gap != 0 && l.seen < l.gap
		if stale {
			l.seen = max(l.seen, version)
			l.gap = 0
		} else if version > l.seen {
			l.gap = version
		} else {
			l.gap = 0
		}
		l.mu.Unlock()
		if stale {
			db.resetKeyChanges(InvalidatedByPoll)
		}
	}
}

// resetKeyChanges empties every verifier cache of this process.
func (db *DB) resetKeyChanges(source InvalidationSource) {
	db.invalidations[source].Add(1)
	db.listener.resets.Add(1)
	db.keyChanges.Reset()
}
