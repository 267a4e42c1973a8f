package store

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"keyport"
)

// RequestPasswordReset counts a reset request for email from ip under th and,
// when an account has that email and the email is within its limit, creates a
// single-use reset token valid for keyport.PasswordResetTTL and writes its
// message into the outbox, all in one transaction. The token is stored only
// as its hash. Whether an account exists is never returned: the only error
// besides a failure is a keyport.ThrottledError for a client IP over its own
// limit.
func (db *DB) RequestPasswordReset(ctx context.Context, th *keyport.LoginThrottle, email, ip string) error {
	token, err := newToken()
	if err != nil {
		return err
	}
	now := db.Now()
	return db.tx(ctx, "request a password reset", func(tx *sql.Tx) error {
		wait, err := db.spendAttempt(ctx, tx, th, "", keyport.ResetIPScope(ip))
		if err != nil {
			return err
		}
		if wait > 0 {
			return &keyport.ThrottledError{What: "reset requests from your network", Wait: wait}
		}
		if emailWait, err := db.spendAttempt(ctx, tx, th, keyport.ResetScope(email), ""); err != nil || emailWait > 0 {
			return err
		}
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id
			WHERE u.email = $1 AND u.removed_at IS NULL`, email))
		if errors.Is(err, keyport.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO password_resets (user_id, token_hash, ip, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5)`, u.ID, tokenHash(token), ip, now.Unix(), now.Add(keyport.PasswordResetTTL).Unix()); err != nil {
			return err
		}
		return db.enqueue(ctx, tx, keyport.MessagePasswordReset, u.Email, map[string]string{"token": token, "name": u.Name})
	})
}

// PasswordResetUser returns the user a reset token belongs to while the token
// is unused and unexpired; any other token is ErrNotFound.
func (db *DB) PasswordResetUser(ctx context.Context, token string) (keyport.User, error) {
	return db.linkUser(ctx, cached{db}, resetLinks, token)
}

// ResetPassword sets the password hash of the user of a reset token, uses up
// every reset token of theirs, ends all their sessions, audits the change and
// writes the "password changed" message, in one transaction. A used, expired
// or unknown token is ErrNotFound.
func (db *DB) ResetPassword(ctx context.Context, token, passwordHash, ip string) (keyport.User, error) {
	var u keyport.User
	err := db.tx(ctx, "reset a password", func(tx *sql.Tx) error {
		var err error
		if u, err = db.linkUser(ctx, tx, resetLinks, token); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2`, passwordHash, u.ID); err != nil {
			return err
		}
		if err := db.useLinks(ctx, tx, resetLinks, u.ID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		actor := keyport.UserActor(&u, ip)
		if err := db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditPasswordReset, "user", u.ID, u.Email); err != nil {
			return err
		}
		return db.passwordChangedMessage(ctx, tx, u, ip)
	})
	if err != nil {
		return keyport.User{}, err
	}
	return u, nil
}

// passwordChangedMessage writes, inside tx, the message telling u that their
// password changed, from which IP.
func (db *DB) passwordChangedMessage(ctx context.Context, tx *sql.Tx, u keyport.User, ip string) error {
	return db.enqueue(ctx, tx, keyport.MessagePasswordChanged, u.Email, map[string]string{
		"name": u.Name, "ip": ip, "at": db.Now().UTC().Format(time.RFC3339)})
}
