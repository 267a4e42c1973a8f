package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"keyport"
)

// Passkey is a passkey or security key a user signs in with.
type Passkey struct {
	ID   int64
	Name string
	// Credential is the credential as go-webauthn describes it, in JSON.
	Credential []byte
	CreatedAt  time.Time
	// LastUsedAt is when it last signed in; zero when never.
	LastUsedAt time.Time
}

// Passkeys returns the passkeys of a user, oldest first.
func (db *DB) Passkeys(ctx context.Context, userID int64) ([]Passkey, error) {
	rows, err := db.query(ctx, `SELECT id, name, credential, created_at, COALESCE(last_used_at, 0) FROM passkeys
		WHERE user_id = $1 ORDER BY id`, userID)
	return collect(rows, err, func(row scanner) (Passkey, error) {
		var p Passkey
		var created, used int64
		err := row.Scan(&p.ID, &p.Name, &p.Credential, &created, &used)
		p.CreatedAt = unixTime(created)
		if used != 0 {
			p.LastUsedAt = unixTime(used)
		}
		return p, err
	})
}

// AddPasskey stores a new passkey of the user, named name, with its
// credential id and credential JSON; audited. When it is the user's first
// second factor they get the recovery codes codes, and issued is true; a
// credential id already registered is ErrConflict.
func (db *DB) AddPasskey(ctx context.Context, actor keyport.Actor, u keyport.User, name string, credentialID, credential []byte,
	codes []string) (issued bool, err error) {
	err = db.tx(ctx, "add passkey", func(tx *sql.Tx) error {
		had, err := secondFactors(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `INSERT INTO passkeys (user_id, name, credential_id, credential, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, u.ID, name, credentialID, credential, db.now()).Scan(&id)
		if isUniqueViolation(err) {
			return keyport.ErrConflict
		}
		if err != nil {
			return err
		}
		if had == 0 {
			if err := replaceRecoveryCodes(ctx, tx, u.ID, codes, db.now()); err != nil {
				return err
			}
			issued = true
		}
		return db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditPasskeyAdded, "passkey", id, name)
	})
	return issued, err
}

// RemovePasskey deletes a passkey of the user and returns its name; audited.
// Removing the last second factor also removes the recovery codes. Another
// user's passkey is ErrNotFound.
func (db *DB) RemovePasskey(ctx context.Context, actor keyport.Actor, u keyport.User, passkeyID int64) (string, error) {
	var name string
	err := db.tx(ctx, fmt.Sprintf("remove passkey %d", passkeyID), func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `DELETE FROM passkeys WHERE id = $1 AND user_id = $2 RETURNING name`, passkeyID, u.ID).Scan(&name)
		if err != nil {
			return notFound(err)
		}
		left, err := secondFactors(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if left == 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, u.ID); err != nil {
				return err
			}
		}
		return db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditPasskeyRemoved, "passkey", passkeyID, name)
	})
	return name, err
}

// PasskeyUsed records that a passkey of the user signed in, with its
// credential as the verification left it (its signature counter moves on).
func (db *DB) PasskeyUsed(ctx context.Context, userID int64, credentialID, credential []byte) error {
	res, err := db.exec(ctx, `UPDATE passkeys SET credential = $1, last_used_at = $2 WHERE user_id = $3 AND credential_id = $4`,
		credential, db.now(), userID, credentialID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return keyport.ErrNotFound
	}
	return nil
}
