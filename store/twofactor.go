package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"keyport"
)

// TwoFactor is what second factors a user has.
type TwoFactor struct {
	// TOTPSince is when the user confirmed their authenticator app; zero when they have none.
	TOTPSince time.Time
	// Passkeys are their passkeys and security keys, oldest first.
	Passkeys []Passkey
	// RecoveryLeft is how many of their recovery codes are still unused.
	RecoveryLeft int
}

// Enabled reports whether signing in asks for a second factor.
func (t TwoFactor) Enabled() bool { return !t.TOTPSince.IsZero() || len(t.Passkeys) > 0 }

// HasTOTP reports whether the user has an authenticator app.
func (t TwoFactor) HasTOTP() bool { return !t.TOTPSince.IsZero() }

func totpContext(userID int64) string { return fmt.Sprintf("totp:%d", userID) }

// TwoFactorOf returns the second factors of a user.
func (db *DB) TwoFactorOf(ctx context.Context, userID int64) (TwoFactor, error) {
	var t TwoFactor
	var since sql.NullInt64
	err := db.queryRow(ctx, `SELECT (SELECT confirmed_at FROM totp_secrets WHERE user_id = $1),
		(SELECT count(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL)`, userID).Scan(&since, &t.RecoveryLeft)
	if err != nil {
		return t, err
	}
	if since.Valid {
		t.TOTPSince = unixTime(since.Int64)
	}
	t.Passkeys, err = db.Passkeys(ctx, userID)
	return t, err
}

// BeginTOTP stores a new authenticator app secret for the user, sealed, to be
// confirmed by its first code; it replaces a secret not confirmed yet. A user
// whose app is already confirmed gets ErrConflict.
func (db *DB) BeginTOTP(ctx context.Context, userID int64, secret string) error {
	sealed, err := db.Sealer.Seal([]byte(secret), totpContext(userID))
	if err != nil {
		return err
	}
	return db.tx(ctx, "begin authenticator app", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET secret_sealed = $1, created_at = $2, last_step = 0
			WHERE user_id = $3 AND confirmed_at IS NULL`, sealed, db.now(), userID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO totp_secrets (user_id, secret_sealed, created_at) VALUES ($1, $2, $3)`,
			userID, sealed, db.now())
		if isUniqueViolation(err) {
			return keyport.ErrConflict
		}
		return err
	})
}

// PendingTOTP returns the user's authenticator app secret that awaits its
// first code, or ErrNotFound.
func (db *DB) PendingTOTP(ctx context.Context, userID int64) (string, error) {
	var sealed []byte
	err := db.queryRow(ctx, `SELECT secret_sealed FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NULL`, userID).Scan(&sealed)
	if err != nil {
		return "", notFound(err)
	}
	plain, err := db.Sealer.Open(sealed, totpContext(userID))
	return string(plain), err
}

// ConfirmTOTP turns on the user's pending authenticator app, whose first code
// matched at step, and gives them the recovery codes codes (stored hashed),
// replacing any they had; audited. Without a pending secret it is ErrNotFound.
func (db *DB) ConfirmTOTP(ctx context.Context, actor keyport.Actor, u keyport.User, step int64, codes []string) error {
	return db.tx(ctx, "confirm authenticator app", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET confirmed_at = $1, last_step = $2
			WHERE user_id = $3 AND confirmed_at IS NULL`, db.now(), step, u.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return keyport.ErrNotFound
		}
		if err := replaceRecoveryCodes(ctx, tx, u.ID, codes, db.now()); err != nil {
			return err
		}
		return db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditTwoFactorEnabled, "user", u.ID, "authenticator app")
	})
}

func replaceRecoveryCodes(ctx context.Context, tx *sql.Tx, userID int64, codes []string, now int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
		return err
	}
	for _, c := range codes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash, created_at) VALUES ($1, $2, $3)`,
			userID, keyport.HashRecoveryCode(c), now); err != nil {
			return err
		}
	}
	return nil
}

// NewRecoveryCodes replaces the recovery codes of a user with two-factor
// authentication by codes; audited. Without it, it is ErrConflict.
func (db *DB) NewRecoveryCodes(ctx context.Context, actor keyport.Actor, u keyport.User, codes []string) error {
	return db.tx(ctx, "new recovery codes", func(tx *sql.Tx) error {
		on, err := secondFactors(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if on == 0 {
			return keyport.ErrConflict
		}
		if err := replaceRecoveryCodes(ctx, tx, u.ID, codes, db.now()); err != nil {
			return err
		}
		return db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditRecoveryCodesNew, "user", u.ID, "")
	})
}

// TurnOffTwoFactor removes every second factor of the user (authenticator
// app, passkeys, recovery codes); audited. A user without one gets ErrNotFound.
func (db *DB) TurnOffTwoFactor(ctx context.Context, actor keyport.Actor, u keyport.User) error {
	return db.tx(ctx, "turn off two-factor authentication", func(tx *sql.Tx) error {
		n, err := removeSecondFactors(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return keyport.ErrNotFound
		}
		return db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditTwoFactorDisabled, "user", u.ID, "")
	})
}

// secondFactors counts, inside tx, the second factors a user signs in with:
// a confirmed authenticator app and each passkey.
func secondFactors(ctx context.Context, tx *sql.Tx, userID int64) (int, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL)
		+ (SELECT count(*) FROM passkeys WHERE user_id = $1)`, userID).Scan(&n)
	return n, err
}

// removeSecondFactors deletes every second factor of a user, pending ones and
// recovery codes included, and returns how many they signed in with.
func removeSecondFactors(ctx context.Context, tx *sql.Tx, userID int64) (int, error) {
	n, err := secondFactors(ctx, tx, userID)
	if err != nil {
		return 0, err
	}
	for _, q := range []string{`DELETE FROM totp_secrets WHERE user_id = $1`, `DELETE FROM passkeys WHERE user_id = $1`,
		`DELETE FROM recovery_codes WHERE user_id = $1`} {
		if _, err := tx.ExecContext(ctx, q, userID); err != nil {
			return 0, err
		}
	}
	return n, nil
}

// SecondFactorResult is the outcome of a second-factor code.
type SecondFactorResult int

// The outcomes of CheckSecondFactor.
const (
	// SecondFactorWrong: the code is not a valid, unused code of the user.
	SecondFactorWrong SecondFactorResult = iota
	// SecondFactorTOTP: the code of the authenticator app, now used up.
	SecondFactorTOTP
	// SecondFactorRecovery: one of the recovery codes, now used up.
	SecondFactorRecovery
)

// CheckSecondFactor is the one check of a second-factor code, for signing in
// and for confirming a sensitive action: it counts an attempt against the
// user and the client under th (over the limit it checks nothing and returns
// a keyport.ThrottledError), then accepts a code of the authenticator app
// whose time step is newer than the last one accepted, or an unused recovery
// code (audited), and uses it up. A good code forgets the user's attempts and
// gives back the one it counted against the client, so only wrong codes
// count toward the client's limit.
func (db *DB) CheckSecondFactor(ctx context.Context, th *keyport.LoginThrottle, actor keyport.Actor, u keyport.User,
	code string) (SecondFactorResult, error) {
	result := SecondFactorWrong
	err := db.tx(ctx, "check a second factor", func(tx *sql.Tx) error {
		wait, counted, err := db.spendAttemptRows(ctx, tx, th, keyport.SecondFactorScope(u.ID), keyport.SecondFactorIPScope(actor.IP))
		if err != nil {
			return err
		}
		if wait > 0 {
			return &keyport.ThrottledError{What: "codes", Wait: wait}
		}
		var sealed []byte
		var last int64
		err = tx.QueryRowContext(ctx, `SELECT secret_sealed, last_step FROM totp_secrets WHERE user_id = $1 AND confirmed_at IS NOT NULL`,
			u.ID).Scan(&sealed, &last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var secret []byte
		if sealed != nil {
			if secret, err = db.Sealer.Open(sealed, totpContext(u.ID)); err != nil {
				return err
			}
		}
		if step, ok := keyport.MatchTOTP(string(secret), code, db.Now()); ok && secret != nil && step > last {
			res, err := tx.ExecContext(ctx, `UPDATE totp_secrets SET last_step = $1 WHERE user_id = $2 AND last_step < $1`, step, u.ID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				result = SecondFactorTOTP
			}
		} else if keyport.LooksLikeRecoveryCode(code) {
			res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND code_hash = $3 AND used_at IS NULL`,
				db.now(), u.ID, keyport.HashRecoveryCode(code))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				result = SecondFactorRecovery
				if err := db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditRecoveryCodeUsed, "user", u.ID, ""); err != nil {
					return err
				}
			}
		}
		if result == SecondFactorWrong {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE scope_hash = $1`, scopeHash(keyport.SecondFactorScope(u.ID))); err != nil {
			return err
		}
		for _, id := range counted {
			if _, err := tx.ExecContext(ctx, `DELETE FROM login_attempts WHERE id = $1`, id); err != nil {
				return err
			}
		}
		return nil
	})
	return result, err
}

// TwoFactorPolicy returns who must use two-factor authentication.
func (db *DB) TwoFactorPolicy(ctx context.Context) (keyport.TwoFactorPolicy, error) {
	var v string
	err := db.queryRow(ctx, `SELECT value FROM settings WHERE name = 'two_factor_policy'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return keyport.DefaultTwoFactorPolicy, nil
	}
	return keyport.TwoFactorPolicy(v), err
}

// ResetTwoFactor removes the second factors of a user who lost them, at the
// platform's hands, and ends every session of theirs; audited. They sign in
// with their password alone next, and set up an app again (at once, when the
// policy requires one). A user without two-factor authentication gets ErrNotFound.
func (db *DB) ResetTwoFactor(ctx context.Context, actor keyport.Actor, u keyport.User) error {
	return db.tx(ctx, fmt.Sprintf("reset two-factor authentication of user %d", u.ID), func(tx *sql.Tx) error {
		n, err := removeSecondFactors(ctx, tx, u.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return keyport.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID); err != nil {
			return err
		}
		return db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditTwoFactorReset, "user", u.ID, u.Email)
	})
}

// IdentityConfirmed audits that a user confirmed who they are, with their
// password or second factor, before the sensitive action.
func (db *DB) IdentityConfirmed(ctx context.Context, actor keyport.Actor, u keyport.User, action keyport.SensitiveAction) error {
	return db.tx(ctx, "confirm identity", func(tx *sql.Tx) error {
		return db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditIdentityConfirmed, "user", u.ID, string(action))
	})
}
