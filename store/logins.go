package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"time"

	"keyport"
)

// loginPurgeBatch is how many expired sign-in attempts one reservation deletes
// at most, so that purging never makes a sign-in slow.
const loginPurgeBatch = 100

// LoginReservation is a sign-in attempt counted before its password is
// checked: one attempt against the account and one against the client IP.
type LoginReservation struct {
	clientScope []byte
	clientID    int64
	accountID   int64
	ipID        int64
}

// scopeHash is the key of a throttle scope's rows: its SHA-256, so that an
// email or address of any length or content fits the index.
func scopeHash(scope string) []byte {
	h := sha256.Sum256([]byte(scope))
	return h[:]
}

// ReserveLogin counts a sign-in attempt for email from client under the
// throttle th (keyport.LoginThrottle.LoginWait), in one write transaction, so
// that concurrent attempts on every replica are counted one after another.
// When th refuses the attempt it records nothing and returns how long to
// wait; otherwise the wait is zero and the attempt stays counted, as a
// failure, until LoginSucceeded or CancelLoginReservation. Each call also
// deletes a bounded batch of attempts older than th's window.
func (db *DB) ReserveLogin(ctx context.Context, th *keyport.LoginThrottle, email string, client keyport.LoginClient) (LoginReservation, time.Duration, error) {
	now := db.Now()
	cutoff := now.Add(-th.Window).Unix()
	accountScope := scopeHash(keyport.AccountScope(email))
	ipScope := scopeHash(keyport.IPScope(client.IP))
	var r LoginReservation
	var wait time.Duration
	err := db.tx(ctx, "reserve a sign-in attempt", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE id IN (
			SELECT id FROM login_attempts WHERE at <= $1 ORDER BY at LIMIT $2)`, cutoff, loginPurgeBatch); err != nil {
			return err
		}
		known := false
		if client.Device != "" && keyport.StorableText(email) {
			device := sha256.Sum256([]byte(client.Device))
			if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM known_devices d JOIN users u ON u.id = d.user_id
				WHERE u.email = $1 AND d.device_hash = $2)`, email, device[:]).Scan(&known); err != nil {
				return err
			}
		}
		from := "ip:" + client.IP
		if known {
			from = "device:" + client.Device
		}
		r.clientScope = scopeHash(keyport.ClientScope(email, from))
		fromClient, err := recentAttempts(ctx, tx, r.clientScope, cutoff, th.PerAccount)
		if err != nil {
			return err
		}
		fromIP, err := recentAttempts(ctx, tx, ipScope, cutoff, th.PerIP)
		if err != nil {
			return err
		}
		onAccount, err := recentAttempts(ctx, tx, accountScope, cutoff, th.AccountBurst)
		if err != nil {
			return err
		}
		if wait = th.LoginWait(fromClient, fromIP, onAccount, known, now); wait > 0 {
			return nil
		}
		insert := `INSERT INTO login_attempts (scope_hash, at) VALUES ($1, $2) RETURNING id`
		for _, row := range []struct {
			scope []byte
			id    *int64
		}{{r.clientScope, &r.clientID}, {accountScope, &r.accountID}, {ipScope, &r.ipID}} {
			if err := tx.QueryRowContext(ctx, insert, row.scope, now.Unix()).Scan(row.id); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || wait > 0 {
		return LoginReservation{}, wait, err
	}
	return r, 0, nil
}

// spendAttempt counts, inside tx, one attempt against the scope named
// account (limited to th.PerAccount) and the scope named ip (th.PerIP) under
// th's window; an empty name is no scope. When either scope is at its limit
// it counts nothing and returns how long to wait.
func (db *DB) spendAttempt(ctx context.Context, tx *sql.Tx, th *keyport.LoginThrottle, account, ip string) (time.Duration, error) {
	wait, _, err := db.spendAttemptRows(ctx, tx, th, account, ip)
	return wait, err
}

// spendAttemptRows is spendAttempt that also returns the ids of the rows it
// counted, for an attempt that turns out good and is given back.
func (db *DB) spendAttemptRows(ctx context.Context, tx *sql.Tx, th *keyport.LoginThrottle, account, ip string) (time.Duration, []int64, error) {
	now := db.Now()
	cutoff := now.Add(-th.Window).Unix()
	var scopes [][]byte
	var recent [2][]time.Time
	for i, name := range []string{account, ip} {
		if name == "" {
			continue
		}
		scope := scopeHash(name)
		limit := th.PerAccount
		if i == 1 {
			limit = th.PerIP
		}
		times, err := recentAttempts(ctx, tx, scope, cutoff, limit)
		if err != nil {
			return 0, nil, err
		}
		recent[i] = times
		scopes = append(scopes, scope)
	}
	if wait := th.Wait(recent[0], recent[1], now); wait > 0 {
		return wait, nil, nil
	}
	var ids []int64
	for _, scope := range scopes {
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO login_attempts (scope_hash, at) VALUES ($1, $2) RETURNING id`, scope,
			now.Unix()).Scan(&id); err != nil {
			return 0, nil, err
		}
		ids = append(ids, id)
	}
	return 0, ids, nil
}

// recentAttempts returns the times of the newest attempts after cutoff of the
// scope whose hash is scope, at most limit of them; none when limit is not
// positive (no limit).
func recentAttempts(ctx context.Context, tx *sql.Tx, scope []byte, cutoff int64, limit int) ([]time.Time, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT at FROM login_attempts WHERE scope_hash = $1 AND at > $2 ORDER BY at DESC LIMIT $3`,
		scope, cutoff, limit)
	return collect(rows, err, func(s scanner) (time.Time, error) {
		var at int64
		err := s.Scan(&at)
		return unixTime(at), err
	})
}

// LoginSucceeded forgets, after a good password, the attempts of the
// reservation's account from its client, and the attempts it counted on the
// whole account and on the client IP. Other clients' failures stay counted.
func (db *DB) LoginSucceeded(ctx context.Context, r LoginReservation) error {
	if _, err := db.exec(ctx, `DELETE FROM login_attempts WHERE scope_hash = $1 OR id IN ($2, $3)`, r.clientScope, r.accountID,
		r.ipID); err != nil {
		return fmt.Errorf("store: forget sign-in attempts: %w", err)
	}
	return nil
}

// CancelLoginReservation removes the attempts a reservation counted, for an
// attempt that turned out not to be a failure without being a sign-in.
func (db *DB) CancelLoginReservation(ctx context.Context, r LoginReservation) error {
	if _, err := db.exec(ctx, `DELETE FROM login_attempts WHERE id IN ($1, $2, $3)`, r.clientID, r.accountID, r.ipID); err != nil {
		return fmt.Errorf("store: cancel a sign-in attempt: %w", err)
	}
	return nil
}
