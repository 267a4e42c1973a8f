package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"time"

	"keyport"
)

// windowSeconds is keyport.IdempotencyWindow in the unit of created_at.
const windowSeconds = int64(keyport.IdempotencyWindow / time.Second)

// once runs work in a write transaction and returns its answer. Under idem
// (nil for a request without an Idempotency-Key) it first reads the answer
// stored for the same API key and Idempotency-Key within
// keyport.IdempotencyWindow: the same request gets that answer again
// (replayed), another request keyport.ErrIdempotencyKeyReused. Otherwise work
// runs and its answer is stored in the same transaction as whatever work
// writes, so a crash keeps both or neither. Write transactions take turns, so
// a concurrent duplicate waits for the first and then gets its answer. An
// error from work stores nothing: the request may be retried.
func (db *DB) once(ctx context.Context, op string, idem *keyport.Idempotency, work func(tx *sql.Tx) (keyport.Answer, error)) (keyport.Answer, bool, error) {
	var answer keyport.Answer
	replayed := false
	err := db.tx(ctx, op, func(tx *sql.Tx) error {
		now := db.now()
		if idem != nil {
			if _, err := tx.ExecContext(ctx, `DELETE FROM idempotency_keys WHERE key_id = $1 AND idem_key = $2 AND created_at <= $3`,
				idem.KeyID, idem.Key, now-windowSeconds); err != nil {
				return err
			}
			var hash []byte
			err := tx.QueryRowContext(ctx, `SELECT request_hash, status, body FROM idempotency_keys WHERE key_id = $1 AND idem_key = $2`,
				idem.KeyID, idem.Key).Scan(&hash, &answer.Status, &answer.Body)
			switch {
			case err == nil && !bytes.Equal(hash, idem.Request[:]):
				return keyport.ErrIdempotencyKeyReused
			case err == nil:
				replayed = true
				return nil
			case !errors.Is(err, sql.ErrNoRows):
				return err
			}
		}
		var err error
		if answer, err = work(tx); err != nil || idem == nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO idempotency_keys (key_id, idem_key, request_hash, status, body, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, idem.KeyID, idem.Key, idem.Request[:], answer.Status, answer.Body, now)
		return err
	})
	if err != nil {
		return keyport.Answer{}, false, err
	}
	return answer, replayed, nil
}

// AnswerOnce returns the answer of work, a request that writes nothing else,
// under idem as once does; without an Idempotency-Key it just runs work.
func (db *DB) AnswerOnce(ctx context.Context, idem *keyport.Idempotency, work func() (keyport.Answer, error)) (keyport.Answer, bool, error) {
	if idem == nil {
		a, err := work()
		return a, false, err
	}
	return db.once(ctx, "answer once", idem, func(*sql.Tx) (keyport.Answer, error) { return work() })
}

// PurgeIdempotencyKeys deletes the stored answers older than
// keyport.IdempotencyWindow, which are never replayed, and returns how many.
func (db *DB) PurgeIdempotencyKeys(ctx context.Context) (int64, error) {
	res, err := db.exec(ctx, `DELETE FROM idempotency_keys WHERE created_at <= $1`, db.now()-windowSeconds)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
