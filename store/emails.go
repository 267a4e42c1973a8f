package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"

	"keyport"
)

// linkTable is a table of the single-use links Keyport emails, each row a
// user, the SHA-256 of its token, when it expires and when it was used.
type linkTable string

// The tables of emailed links.
const (
	resetLinks        linkTable = "password_resets"
	verificationLinks linkTable = "email_verifications"
)

// linkUser reads through q the user of the unused, unexpired link of table
// with token; any other token is ErrNotFound.
func (db *DB) linkUser(ctx context.Context, q queryer, table linkTable, token string) (keyport.User, error) {
	return scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM `+string(table)+` l JOIN users u ON u.id = l.user_id
		LEFT JOIN merchants m ON m.id = u.merchant_id
		WHERE l.token_hash = $1 AND l.used_at IS NULL AND l.expires_at > $2 AND u.removed_at IS NULL`, tokenHash(token), db.now()))
}

// useLinks marks, inside tx, every unused link of table of a user used.
func (db *DB) useLinks(ctx context.Context, tx *sql.Tx, table linkTable, userID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE `+string(table)+` SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL`, db.now(), userID)
	return err
}

// newToken returns a random 256-bit token for a link, URL-safe.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// verificationMessage creates, inside tx, a link that verifies u's email
// address, valid for keyport.EmailVerificationTTL and stored as its hash, and
// writes the message that carries it.
func (db *DB) verificationMessage(ctx context.Context, tx *sql.Tx, u keyport.User) error {
	token, err := newToken()
	if err != nil {
		return err
	}
	now := db.Now()
	if _, err := tx.ExecContext(ctx, `INSERT INTO email_verifications (user_id, token_hash, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		u.ID, tokenHash(token), now.Unix(), now.Add(keyport.EmailVerificationTTL).Unix()); err != nil {
		return err
	}
	return db.enqueue(ctx, tx, keyport.MessageVerifyEmail, u.Email, map[string]string{"token": token, "name": u.Name})
}

// ResendVerification sends u a new verification link unless their email is
// verified already; th's limit per email reached is a keyport.ThrottledError.
func (db *DB) ResendVerification(ctx context.Context, th *keyport.LoginThrottle, u keyport.User) error {
	return db.tx(ctx, "resend an email verification link", func(tx *sql.Tx) error {
		var verified bool
		if err := tx.QueryRowContext(ctx, `SELECT email_verified_at IS NOT NULL FROM users WHERE id = $1 AND removed_at IS NULL`, u.ID).
			Scan(&verified); err != nil {
			return notFound(err)
		}
		if verified {
			return nil
		}
		wait, err := db.spendAttempt(ctx, tx, th, keyport.VerifyScope(u.Email), "")
		if err != nil {
			return err
		}
		if wait > 0 {
			return &keyport.ThrottledError{What: "verification links", Wait: wait}
		}
		return db.verificationMessage(ctx, tx, u)
	})
}

// EmailVerificationUser returns the user of an unused, unexpired email
// verification token; any other token is ErrNotFound.
func (db *DB) EmailVerificationUser(ctx context.Context, token string) (keyport.User, error) {
	return db.linkUser(ctx, cached{db}, verificationLinks, token)
}

// VerifyEmail marks the email of the token's user verified, uses up every
// verification link of theirs and audits it, in one transaction. A used,
// expired or unknown token is ErrNotFound.
func (db *DB) VerifyEmail(ctx context.Context, token, ip string) (keyport.User, error) {
	var u keyport.User
	err := db.tx(ctx, "verify an email address", func(tx *sql.Tx) error {
		now := db.now()
		var err error
		if u, err = db.linkUser(ctx, tx, verificationLinks, token); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email_verified_at = $1 WHERE id = $2 AND email_verified_at IS NULL`, now, u.ID); err != nil {
			return err
		}
		if err := db.useLinks(ctx, tx, verificationLinks, u.ID); err != nil {
			return err
		}
		u.EmailVerified = true
		return db.audit(ctx, tx, u.MerchantID, keyport.UserActor(&u, ip), keyport.AuditEmailVerified, "user", u.ID, u.Email)
	})
	if err != nil {
		return keyport.User{}, err
	}
	return u, nil
}
