package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"keyport"
)

// maxErrorLength is how much of a delivery error the outbox keeps.
const maxErrorLength = 300

// enqueue writes a message into the outbox inside tx, the transaction of the
// change that causes it, so that both are kept or neither. Its data is
// sealed; a DB opened without a Sealer (by tools that seed or copy the
// database, never by the server) writes no message, as it could only store
// the data in plaintext.
func (db *DB) enqueue(ctx context.Context, tx *sql.Tx, kind keyport.MessageKind, to string, data map[string]string) error {
	if db.Sealer == nil {
		return nil
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	uid := hex.EncodeToString(b[:])
	plain, err := json.Marshal(data)
	if err != nil {
		return err
	}
	payload, err := db.Sealer.Seal(plain, "outbox:"+uid)
	if err != nil {
		return err
	}
	now := db.now()
	_, err = tx.ExecContext(ctx, `INSERT INTO outbox (uid, kind, recipient, payload, created_at, next_attempt_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, uid, string(kind), to, payload, now, now)
	if err == nil {
		db.messagesIn.Store(tx, struct{}{})
	}
	return err
}

// MessagesWritten receives a value after a transaction of this DB that wrote
// into the outbox commits, so that a sender can deliver at once rather than
// at its next poll. Values do not queue up: one may stand for several commits.
func (db *DB) MessagesWritten() <-chan struct{} { return db.messagesWritten }

// ClaimMessages takes up to limit pending messages whose next attempt is due,
// oldest first, and keeps every other sender off them for lease. A sender that
// dies keeps its messages claimed until the lease ends; they are then claimed
// again, so a message may be delivered twice but is never lost. On PostgreSQL
// rows another sender is claiming are skipped rather than waited for.
func (db *DB) ClaimMessages(ctx context.Context, limit int, lease time.Duration) ([]keyport.Message, error) {
	if db.Sealer == nil {
		return nil, errNoSealer
	}
	now := db.Now()
	db.writes.Add(1)
	rows, err := db.query(ctx, `UPDATE outbox SET claimed_until = $1 WHERE id IN (
		SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 AND claimed_until <= $3
		ORDER BY id LIMIT $4`+db.dialect.skipLocked()+`)
		RETURNING id, uid, kind, recipient, payload, created_at, attempts`,
		now.Add(lease).Unix(), now.Unix(), now.Unix(), limit)
	msgs, err := collect(rows, err, func(row scanner) (keyport.Message, error) {
		var m keyport.Message
		var created int64
		var payload []byte
		if err := row.Scan(&m.ID, &m.UID, &m.Kind, &m.To, &payload, &created, &m.Attempts); err != nil {
			return m, err
		}
		m.CreatedAt = unixTime(created)
		plain, err := db.Sealer.Open(payload, "outbox:"+m.UID)
		if err != nil {
			return m, fmt.Errorf("message %d: %w", m.ID, err)
		}
		return m, json.Unmarshal(plain, &m.Data)
	})
	if err != nil {
		return nil, fmt.Errorf("store: claim messages: %w", err)
	}
	slices.SortFunc(msgs, func(a, b keyport.Message) int { return cmp.Compare(a.ID, b.ID) })
	return msgs, nil
}

// MessageDelivered records one delivery attempt of a claimed message that
// took took: a nil deliveryErr means the mail server accepted it, and its
// sealed data, no longer needed, is erased;
// keyport.ErrNoMailServer holds it; any other error schedules the next
// attempt by keyport.NextAttempt, or gives the message up as failed.
func (db *DB) MessageDelivered(ctx context.Context, m keyport.Message, took time.Duration, deliveryErr error) error {
	now := db.Now()
	msg := ""
	if deliveryErr != nil {
		msg = truncate(deliveryErr.Error(), maxErrorLength)
	}
	return db.tx(ctx, fmt.Sprintf("record delivery of message %d", m.ID), func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO outbox_attempts (message_id, at, duration_ms, error) VALUES ($1, $2, $3, $4)`,
			m.ID, now.Unix(), took.Milliseconds(), msg); err != nil {
			return err
		}
		var err error
		switch {
		case deliveryErr == nil:
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'sent', sent_at = $1, attempts = attempts + 1, last_error = '',
				claimed_until = 0, payload = $2 WHERE id = $3`, now.Unix(), []byte{}, m.ID)
		case errors.Is(deliveryErr, keyport.ErrNoMailServer):
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = 'held', last_error = $1, claimed_until = 0
				WHERE id = $2 AND state = 'pending'`, msg, m.ID)
		default:
			next, retry := keyport.NextAttempt(m.CreatedAt, m.Attempts+1, now)
			state, at := "pending", next.Unix()
			if !retry {
				state, at = "failed", now.Unix()
			}
			_, err = tx.ExecContext(ctx, `UPDATE outbox SET state = $1, next_attempt_at = $2, attempts = attempts + 1, last_error = $3,
				claimed_until = 0 WHERE id = $4 AND state = 'pending'`, state, at, msg, m.ID)
		}
		return err
	})
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// PurgeSentMessages deletes the messages sent before cutoff, with their
// attempts, and returns how many messages it deleted.
func (db *DB) PurgeSentMessages(ctx context.Context, cutoff time.Time) (int64, error) {
	var n int64
	err := db.tx(ctx, "purge sent messages", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM outbox_attempts WHERE message_id IN (
			SELECT id FROM outbox WHERE state = 'sent' AND sent_at < $1)`, cutoff.Unix()); err != nil {
			return err
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM outbox WHERE state = 'sent' AND sent_at < $1`, cutoff.Unix())
		if err != nil {
			return err
		}
		n, err = r.RowsAffected()
		return err
	})
	return n, err
}

// RetryMessage makes a held, failed or waiting message due at once. A sent
// or unknown message is ErrNotFound.
func (db *DB) RetryMessage(ctx context.Context, id int64) error {
	r, err := db.exec(ctx, `UPDATE outbox SET state = 'pending', next_attempt_at = $1, claimed_until = 0
		WHERE id = $2 AND state <> 'sent'`, db.now(), id)
	if err != nil {
		return fmt.Errorf("store: retry message %d: %w", id, err)
	}
	if n, _ := r.RowsAffected(); n != 1 {
		return keyport.ErrNotFound
	}
	db.wakeSender()
	return nil
}

const outboxColumns = `id, uid, kind, recipient, state, attempts, last_error, created_at, next_attempt_at, sent_at`

func scanOutboxEntry(row scanner) (keyport.OutboxEntry, error) {
	var e keyport.OutboxEntry
	var created, next int64
	var sent sql.NullInt64
	err := row.Scan(&e.ID, &e.UID, &e.Kind, &e.To, &e.State, &e.Attempts, &e.LastError, &created, &next, &sent)
	e.CreatedAt, e.NextAttemptAt = unixTime(created), unixTime(next)
	if sent.Valid {
		e.SentAt = unixTime(sent.Int64)
	}
	return e, notFound(err)
}

// OutboxPageSize is how many messages one page of the outbox lists.
const OutboxPageSize = 50

// Outbox returns the newest messages in state (every state when empty),
// below the id before (0 for the first page), at most OutboxPageSize of them.
// Their data is never read.
func (db *DB) Outbox(ctx context.Context, state keyport.OutboxState, before int64) ([]keyport.OutboxEntry, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	q := `SELECT ` + outboxColumns + ` FROM outbox WHERE id < $1 ORDER BY id DESC LIMIT $2`
	args := []any{before, OutboxPageSize}
	if state != "" {
		q = `SELECT ` + outboxColumns + ` FROM outbox WHERE state = $1 AND id < $2 ORDER BY id DESC LIMIT $3`
		args = []any{string(state), before, OutboxPageSize}
	}
	rows, err := db.query(ctx, q, args...)
	return collect(rows, err, scanOutboxEntry)
}

// OutboxCounts returns how many messages are in each state.
func (db *DB) OutboxCounts(ctx context.Context) (map[keyport.OutboxState]int, error) {
	rows, err := db.query(ctx, `SELECT state, count(*) FROM outbox GROUP BY state`)
	pairs, err := collect(rows, err, func(row scanner) (struct {
		state keyport.OutboxState
		n     int
	}, error) {
		var p struct {
			state keyport.OutboxState
			n     int
		}
		err := row.Scan(&p.state, &p.n)
		return p, err
	})
	if err != nil {
		return nil, err
	}
	counts := make(map[keyport.OutboxState]int, len(keyport.OutboxStates))
	for _, p := range pairs {
		counts[p.state] = p.n
	}
	return counts, nil
}

// OldestPendingMessage returns when the oldest message still waiting to be
// sent was written, or the zero time when none waits.
func (db *DB) OldestPendingMessage(ctx context.Context) (time.Time, error) {
	var oldest sql.NullInt64
	if err := db.queryRow(ctx, `SELECT min(created_at) FROM outbox WHERE state = 'pending'`).Scan(&oldest); err != nil {
		return time.Time{}, err
	}
	if !oldest.Valid {
		return time.Time{}, nil
	}
	return unixTime(oldest.Int64), nil
}

// OutboxAttempt is one delivery attempt of a message.
type OutboxAttempt struct {
	At       time.Time
	Duration time.Duration
	Error    string
}

// MessageAttempts returns the delivery attempts of a message, oldest first.
func (db *DB) MessageAttempts(ctx context.Context, id int64) ([]OutboxAttempt, error) {
	rows, err := db.query(ctx, `SELECT at, duration_ms, error FROM outbox_attempts WHERE message_id = $1 ORDER BY id`, id)
	return collect(rows, err, func(row scanner) (OutboxAttempt, error) {
		var a OutboxAttempt
		var at, ms int64
		err := row.Scan(&at, &ms, &a.Error)
		a.At, a.Duration = unixTime(at), time.Duration(ms)*time.Millisecond
		return a, err
	})
}
