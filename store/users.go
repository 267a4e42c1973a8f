package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"time"

	"keyport"
)

// SignupResult is what a successful signup created.
type SignupResult struct {
	Merchant keyport.Merchant
	Owner    keyport.User
	Account  keyport.APIAccount
}

// CreateSignup creates the merchant, its Owner (with a verified email, as
// the demo data and an operator's tools vouch for it) and the first API
// account in one transaction. The password must already be hashed. A taken
// email is a ValidationError on "email".
func (db *DB) CreateSignup(ctx context.Context, s keyport.Signup, passwordHash string, ip string) (SignupResult, error) {
	var res SignupResult
	err := db.tx(ctx, "sign up", func(tx *sql.Tx) error {
		var err error
		res, err = db.insertSignup(ctx, tx, s, passwordHash, ip, true)
		return err
	})
	return res, err
}

// SignUp is a sign-up from the portal. When no account has the email, it
// creates the merchant, its Owner with an unverified email and the first
// API account, and writes the message with the link that verifies the
// email; otherwise it creates nothing and writes a message telling the
// email's owner that they already have an account (at most th.PerAccount in
// th.Window). Both happen in one transaction, and the caller answers both
// alike. created tells which happened. A client IP with th.PerIP sign-ups in
// th.Window gets a keyport.ThrottledError, whatever the email.
func (db *DB) SignUp(ctx context.Context, th *keyport.LoginThrottle, s keyport.Signup, passwordHash, ip string) (res SignupResult, created bool, err error) {
	err = db.tx(ctx, "sign up", func(tx *sql.Tx) error {
		if wait, err := db.spendAttempt(ctx, tx, th, "", keyport.SignupIPScope(ip)); err != nil || wait > 0 {
			if err == nil {
				err = &keyport.ThrottledError{What: "sign-ups from your network", Wait: wait}
			}
			return err
		}
		var taken int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE email = $1`, s.Email).Scan(&taken); err != nil {
			return err
		}
		if taken > 0 {
			return db.accountExistsMessage(ctx, tx, th, s.Email)
		}
		var err error
		if res, err = db.insertSignup(ctx, tx, s, passwordHash, ip, false); err != nil {
			return err
		}
		created = true
		return db.verificationMessage(ctx, tx, res.Owner)
	})
	return res, created, err
}

// accountExistsMessage writes, within th's limit per email, the message
// telling the owner of email that someone signed up with it.
func (db *DB) accountExistsMessage(ctx context.Context, tx *sql.Tx, th *keyport.LoginThrottle, email string) error {
	if wait, err := db.spendAttempt(ctx, tx, th, keyport.SignupScope(email), ""); err != nil || wait > 0 {
		return err
	}
	return db.mailUsers(ctx, tx, keyport.MessageAccountExists, `u.email = $1`, []any{email}, map[string]string{})
}

// insertSignup creates, inside tx, the merchant, its Owner and the first API
// account; verified says whether the Owner's email counts as verified.
func (db *DB) insertSignup(ctx context.Context, tx *sql.Tx, s keyport.Signup, passwordHash, ip string, verified bool) (SignupResult, error) {
	var res SignupResult
	accountKey, err := keyport.NewAccountKey()
	if err != nil {
		return res, err
	}
	now := db.now()
	var verifiedAt any
	if verified {
		verifiedAt = now
	}
	var merchantID int64
	err = tx.QueryRowContext(ctx, "INSERT INTO merchants (name, created_at) VALUES ($1, $2) RETURNING id", s.MerchantName, now).Scan(&merchantID)
	if err != nil {
		return res, err
	}
	var userID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO users (merchant_id, name, email, role, password_hash, created_at, email_verified_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, merchantID, s.Name, s.Email, keyport.RoleOwner, passwordHash, now, verifiedAt).Scan(&userID)
	if isUniqueViolation(err) {
		return res, keyport.FieldError("email", "An account with this email already exists. Log in instead.")
	}
	if err != nil {
		return res, err
	}
	var accountID int64
	err = tx.QueryRowContext(ctx, `INSERT INTO api_accounts (merchant_id, name, account_key, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
		merchantID, keyport.DefaultAccountName, accountKey, now).Scan(&accountID)
	if err != nil {
		return res, err
	}
	actor := keyport.Actor{UserID: userID, Label: s.Email, IP: ip}
	if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditMerchantSignedUp, "merchant", merchantID, s.MerchantName); err != nil {
		return res, err
	}
	if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditAccountCreated, "api_account", accountID, keyport.DefaultAccountName); err != nil {
		return res, err
	}
	res = SignupResult{
		Merchant: keyport.Merchant{ID: merchantID, Name: s.MerchantName, CreatedAt: unixTime(now)},
		Owner: keyport.User{ID: userID, MerchantID: merchantID, MerchantName: s.MerchantName, Name: s.Name,
			Email: s.Email, Role: keyport.RoleOwner, PasswordHash: passwordHash, CreatedAt: unixTime(now), EmailVerified: verified},
		Account: keyport.APIAccount{ID: accountID, MerchantID: merchantID, Name: keyport.DefaultAccountName,
			AccountKey: accountKey, CreatedAt: unixTime(now)},
	}
	return res, nil
}

// CreateAdmin creates a platform admin. A taken email is a ValidationError on "email".
func (db *DB) CreateAdmin(ctx context.Context, name, email, passwordHash string) (keyport.User, error) {
	var u keyport.User
	now := db.now()
	err := db.tx(ctx, "create admin", func(tx *sql.Tx) error {
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO users (merchant_id, name, email, role, password_hash, created_at, email_verified_at)
			VALUES (NULL, $1, $2, 'admin', $3, $4, $5) RETURNING id`, name, email, passwordHash, now, now).Scan(&id)
		if isUniqueViolation(err) {
			return keyport.FieldError("email", "An account with this email already exists.")
		}
		if err != nil {
			return err
		}
		u = keyport.User{ID: id, Name: name, Email: email, Role: keyport.RoleAdmin, PasswordHash: passwordHash, CreatedAt: unixTime(now)}
		return db.audit(ctx, tx, 0, keyport.SystemActor, keyport.AuditAdminCreated, "user", id, email)
	})
	return u, err
}

const userColumns = `u.id, COALESCE(u.merchant_id, 0), COALESCE(m.name, ''), u.name, u.email, u.role, u.password_hash, u.created_at,
	COALESCE(m.disabled_at IS NOT NULL, FALSE), u.email_verified_at IS NOT NULL,
	EXISTS (SELECT 1 FROM totp_secrets tf WHERE tf.user_id = u.id AND tf.confirmed_at IS NOT NULL)
		OR EXISTS (SELECT 1 FROM passkeys pk WHERE pk.user_id = u.id)`

func scanUser(row interface{ Scan(...any) error }) (keyport.User, error) {
	var u keyport.User
	var created int64
	err := row.Scan(&u.ID, &u.MerchantID, &u.MerchantName, &u.Name, &u.Email, &u.Role, &u.PasswordHash, &created, &u.MerchantDisabled,
		&u.EmailVerified, &u.TwoFactor)
	u.CreatedAt = unixTime(created)
	return u, notFound(err)
}

// UserByEmail finds a user by email, case-insensitively.
func (db *DB) UserByEmail(ctx context.Context, email string) (keyport.User, error) {
	if !keyport.StorableText(email) {
		return keyport.User{}, keyport.ErrNotFound
	}
	return scanUser(db.queryRow(ctx, `SELECT `+userColumns+`
		FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id WHERE u.email = $1 AND u.removed_at IS NULL`, email))
}

// UserByID finds a user by id, with whether their merchant is disabled.
func (db *DB) UserByID(ctx context.Context, id int64) (keyport.User, error) {
	return scanUser(db.queryRow(ctx, `SELECT `+userColumns+`
		FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id WHERE u.id = $1 AND u.removed_at IS NULL`, id))
}

// CountUsers returns how many users exist, staff included.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.queryRow(ctx, "SELECT count(*) FROM users").Scan(&n)
	return n, err
}

// RecordLogin writes the audit event of a successful sign-in from ip, in the
// browser whose device cookie holds device and that names itself browser.
// A browser the user never signed in from is remembered, and when the user
// had signed in from another one before, a message tells them of the new
// sign-in, in the same transaction.
func (db *DB) RecordLogin(ctx context.Context, u keyport.User, ip, device, browser string) error {
	return db.tx(ctx, fmt.Sprintf("record login of user %d", u.ID), func(tx *sql.Tx) error {
		if err := db.audit(ctx, tx, u.MerchantID, keyport.UserActor(&u, ip), keyport.AuditUserLoggedIn, "user", u.ID, ""); err != nil {
			return err
		}
		if device == "" {
			return nil
		}
		hash := sha256.Sum256([]byte(device))
		var known, seen int
		if err := tx.QueryRowContext(ctx, `SELECT count(*), COALESCE(SUM(CASE WHEN device_hash = $1 THEN 1 ELSE 0 END), 0)
			FROM known_devices WHERE user_id = $2`, hash[:], u.ID).Scan(&known, &seen); err != nil {
			return err
		}
		if seen > 0 {
			return nil
		}
		now := db.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO known_devices (user_id, device_hash, first_seen) VALUES ($1, $2, $3)`,
			u.ID, hash[:], now.Unix()); err != nil {
			return err
		}
		if known == 0 {
			return nil
		}
		return db.enqueue(ctx, tx, keyport.MessageNewSignIn, u.Email, map[string]string{"name": u.Name, "ip": ip, "browser": browser,
			"at": now.UTC().Format(time.RFC3339)})
	})
}

// AddMember adds a user with a merchant role to a merchant. A taken email is a
// ValidationError on "email".
func (db *DB) AddMember(ctx context.Context, actor keyport.Actor, merchantID int64, name, email string, role keyport.Role, passwordHash string) (keyport.User, error) {
	if !role.IsMerchantRole() {
		return keyport.User{}, keyport.FieldError("role", "Choose Owner, Developer or Reviewer.")
	}
	var u keyport.User
	err := db.tx(ctx, fmt.Sprintf("add member to merchant %d", merchantID), func(tx *sql.Tx) error {
		now := db.now()
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO users (merchant_id, name, email, role, password_hash, created_at, email_verified_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, merchantID, name, email, role, passwordHash, now, now).Scan(&id)
		if isUniqueViolation(err) {
			return keyport.FieldError("email", "An account with this email already exists.")
		}
		if err != nil {
			return err
		}
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditUserAdded, "user", id, email+" "+string(role)); err != nil {
			return err
		}
		u, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+`
			FROM users u LEFT JOIN merchants m ON m.id = u.merchant_id WHERE u.id = $1`, id))
		return err
	})
	return u, err
}

// ChangePassword stores a user's new password hash and ends every session of
// theirs except the one with id keep, and writes the message telling them, in
// one transaction. It returns how many sessions it ended.
func (db *DB) ChangePassword(ctx context.Context, actor keyport.Actor, u keyport.User, passwordHash, keep string) (int, error) {
	var ended int64
	err := db.tx(ctx, fmt.Sprintf("change password of user %d", u.ID), func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2 AND removed_at IS NULL`, passwordHash, u.ID)
		if err != nil {
			return err
		}
		if n, _ := r.RowsAffected(); n != 1 {
			return keyport.ErrNotFound
		}
		hash := hashSessionID(keep)
		r, err = tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id_hash <> $2`, u.ID, hash[:])
		if err != nil {
			return err
		}
		ended, _ = r.RowsAffected()
		if err := db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditPasswordChanged, "user", u.ID, u.Email); err != nil {
			return err
		}
		return db.passwordChangedMessage(ctx, tx, u, actor.IP)
	})
	return int(ended), err
}

// EndAllSessions signs a user out everywhere: every session of theirs ends,
// the current one included. It returns how many sessions it ended.
func (db *DB) EndAllSessions(ctx context.Context, actor keyport.Actor, u keyport.User) (int, error) {
	var ended int64
	err := db.tx(ctx, fmt.Sprintf("end sessions of user %d", u.ID), func(tx *sql.Tx) error {
		r, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, u.ID)
		if err != nil {
			return err
		}
		ended, _ = r.RowsAffected()
		return db.audit(ctx, tx, u.MerchantID, actor, keyport.AuditSignedOutEverywhere, "user", u.ID, u.Email)
	})
	return int(ended), err
}

// DisabledMerchantBrowser reports whether a user of a disabled merchant signed
// in from the browser whose device cookie holds device: the login page then
// tells why a session of that browser ended.
func (db *DB) DisabledMerchantBrowser(ctx context.Context, device string) (bool, error) {
	hash := sha256.Sum256([]byte(device))
	var disabled bool
	err := db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM known_devices d JOIN users u ON u.id = d.user_id
		JOIN merchants m ON m.id = u.merchant_id WHERE d.device_hash = $1 AND m.disabled_at IS NOT NULL)`, hash[:]).Scan(&disabled)
	return disabled, err
}
