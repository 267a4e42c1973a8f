package store

import (
	"context"
	"database/sql"
	"fmt"

	"keyport"
)

const accountColumns = `id, merchant_id, name, account_key, disabled_at IS NOT NULL, created_at`

func scanAccount(row scanner) (keyport.APIAccount, error) {
	var a keyport.APIAccount
	var created int64
	if err := row.Scan(&a.ID, &a.MerchantID, &a.Name, &a.AccountKey, &a.Disabled, &created); err != nil {
		return a, notFound(err)
	}
	a.CreatedAt = unixTime(created)
	return a, nil
}

// ListAccounts returns the merchant's API accounts that are not deleted, oldest first.
func (db *DB) ListAccounts(ctx context.Context, merchantID int64) ([]keyport.APIAccount, error) {
	rows, err := db.query(ctx, `SELECT `+accountColumns+`
		FROM api_accounts WHERE merchant_id = $1 AND deleted_at IS NULL ORDER BY id`, merchantID)
	return collect(rows, err, scanAccount)
}

// activeKeys counts the active keys of a mode of the account a, given $1 as
// now. It counts the keys that never expire and those that expire later
// apart, so that each count reads only active keys from the index of
// unrevoked keys however many expired and revoked keys the account keeps.
func activeKeys(mode string) string {
	return `((SELECT count(*) FROM api_keys k WHERE k.account_id = a.id AND k.mode = ` + mode + ` AND k.revoked_at IS NULL
				AND k.expires_at IS NULL) +
			(SELECT count(*) FROM api_keys k WHERE k.account_id = a.id AND k.mode = ` + mode + ` AND k.revoked_at IS NULL
				AND k.expires_at > $1))`
}

// accountSummaries selects the merchant's API accounts that are not deleted
// with their counts, given $1 as now and $2 as the merchant; callers add
// conditions and the order.
func accountSummaries() string {
	return `SELECT a.id, a.merchant_id, a.name, a.account_key, a.disabled_at IS NOT NULL, a.created_at,
			` + activeKeys("'test'") + `,
			` + activeKeys("'live'") + `,
			(SELECT count(*) FROM registered_auths r WHERE r.account_id = a.id AND r.deleted_at IS NULL),
			a.test_shipments + a.live_shipments
		FROM api_accounts a WHERE a.merchant_id = $2 AND a.deleted_at IS NULL`
}

func scanAccountSummary(row scanner) (keyport.AccountSummary, error) {
	var s keyport.AccountSummary
	var created int64
	err := row.Scan(&s.ID, &s.MerchantID, &s.Name, &s.AccountKey, &s.Disabled, &created,
		&s.ActiveTestKeys, &s.ActiveLiveKeys, &s.Auths, &s.Shipments)
	s.CreatedAt = unixTime(created)
	return s, err
}

// AccountSummaries returns the merchant's API accounts that are not deleted,
// oldest first, with their active key, registered auth and shipment counts.
func (db *DB) AccountSummaries(ctx context.Context, merchantID int64) ([]keyport.AccountSummary, error) {
	rows, err := db.query(ctx, accountSummaries()+` ORDER BY a.id`, db.now(), merchantID)
	return collect(rows, err, scanAccountSummary)
}

// AccountSummaryOf returns one API account of the merchant with its counts;
// another merchant's or a deleted account is keyport.ErrNotFound.
func (db *DB) AccountSummaryOf(ctx context.Context, merchantID, accountID int64) (keyport.AccountSummary, error) {
	s, err := scanAccountSummary(db.queryRow(ctx, accountSummaries()+` AND a.id = $3`, db.now(), merchantID, accountID))
	return s, notFound(err)
}

// AccountOf returns one API account of the merchant; another merchant's or a
// deleted account is ErrNotFound.
func (db *DB) AccountOf(ctx context.Context, merchantID, accountID int64) (keyport.APIAccount, error) {
	return scanAccount(db.queryRow(ctx, `SELECT `+accountColumns+`
		FROM api_accounts WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL`, accountID, merchantID))
}

// liveAccount loads, inside tx, an API account of the merchant that is not deleted.
func liveAccount(ctx context.Context, tx *sql.Tx, merchantID, accountID int64) (keyport.APIAccount, error) {
	return scanAccount(tx.QueryRowContext(ctx, `SELECT `+accountColumns+`
		FROM api_accounts WHERE id = $1 AND merchant_id = $2 AND deleted_at IS NULL`, accountID, merchantID))
}

// CreatedAccount is a new API account and its Legacy API Secret, whose
// plaintext exists only to be shown once.
type CreatedAccount struct {
	Account keyport.APIAccount
	Secret  CreatedKey
}

// CreateAccount creates an API account of the merchant and its Legacy API
// Secret (a full-access test secret key) in one transaction. An empty account
// key is generated. A name already used by a live account of the merchant, or
// a taken account key, is a ValidationError on that field.
func (db *DB) CreateAccount(ctx context.Context, actor keyport.Actor, merchantID int64, in keyport.NewAccount) (CreatedAccount, error) {
	var out CreatedAccount
	if in.AccountKey == "" {
		k, err := keyport.NewAccountKey()
		if err != nil {
			return out, err
		}
		in.AccountKey = k
	}
	err := db.keyTx(ctx, fmt.Sprintf("create API account for merchant %d", merchantID), func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		if err := accountNameFree(ctx, tx, merchantID, 0, in.Name); err != nil {
			return err
		}
		now := db.now()
		var id int64
		err := tx.QueryRowContext(ctx, `INSERT INTO api_accounts (merchant_id, name, account_key, created_at) VALUES ($1, $2, $3, $4) RETURNING id`,
			merchantID, in.Name, in.AccountKey, now).Scan(&id)
		if isUniqueViolation(err) {
			return keyport.FieldError("account_key", "This account key is already in use. Generate another.")
		}
		if err != nil {
			return err
		}
		out.Account = keyport.APIAccount{ID: id, MerchantID: merchantID, Name: in.Name, AccountKey: in.AccountKey, CreatedAt: unixTime(now)}
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditAccountCreated, "api_account", id, in.Name); err != nil {
			return err
		}
		out.Secret, err = db.createKey(ctx, tx, changes, actor, keyport.NewKey{AccountID: id, MerchantID: merchantID, Type: keyport.KeySecret,
			Mode: keyport.ModeTest, Name: keyport.LegacySecretName, Access: keyport.AccessFull, Legacy: true})
		return err
	})
	return out, err
}

// accountNameFree checks, inside tx, that no other live API account of the
// merchant than except has the name, case aside; a taken name is a
// ValidationError on "name".
func accountNameFree(ctx context.Context, tx *sql.Tx, merchantID, except int64, name string) error {
	var taken int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM api_accounts WHERE merchant_id = $1 AND deleted_at IS NULL
		AND name = $2 COLLATE NOCASE AND id <> $3`, merchantID, name, except).Scan(&taken); err != nil {
		return err
	}
	if taken > 0 {
		return keyport.FieldError("name", keyport.ErrAccountNameTaken)
	}
	return nil
}

// RenameAccount gives the merchant's API account a new name, audited with the
// old and new names; a name another account has is a ValidationError on "name".
func (db *DB) RenameAccount(ctx context.Context, actor keyport.Actor, merchantID, accountID int64, name string) (keyport.APIAccount, error) {
	var a keyport.APIAccount
	err := db.tx(ctx, fmt.Sprintf("rename API account %d", accountID), func(tx *sql.Tx) error {
		var err error
		a, err = liveAccount(ctx, tx, merchantID, accountID)
		if err != nil || a.Name == name {
			return err
		}
		if err := accountNameFree(ctx, tx, merchantID, accountID, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_accounts SET name = $1 WHERE id = $2`, name, accountID); err != nil {
			return err
		}
		old := a.Name
		a.Name = name
		return db.audit(ctx, tx, merchantID, actor, keyport.AuditAccountRenamed, "api_account", accountID, old+" → "+name)
	})
	return a, err
}

// SetAccountDisabled disables or enables the merchant's API account, audited
// when it changes. While disabled, none of its keys work and no key can be created.
func (db *DB) SetAccountDisabled(ctx context.Context, actor keyport.Actor, merchantID, accountID int64, disabled bool) (keyport.APIAccount, error) {
	var a keyport.APIAccount
	err := db.keyTx(ctx, fmt.Sprintf("set API account %d disabled=%t", accountID, disabled), func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		var err error
		a, err = liveAccount(ctx, tx, merchantID, accountID)
		if err != nil || a.Disabled == disabled {
			return err
		}
		var at any
		action := keyport.AuditAccountEnabled
		if disabled {
			at = db.now()
			action = keyport.AuditAccountDisabled
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_accounts SET disabled_at = $1 WHERE id = $2`, at, accountID); err != nil {
			return err
		}
		*changes = append(*changes, keyport.AccountChanged(accountID))
		a.Disabled = disabled
		if err := db.audit(ctx, tx, merchantID, actor, action, "api_account", accountID, a.Name); err != nil {
			return err
		}
		event := keyport.EventAPIAccountEnabled
		if disabled {
			event = keyport.EventAPIAccountDisabled
		}
		return db.emit(ctx, tx, merchantID, actor, event, accountEventData(a))
	})
	return a, err
}

// DeleteAccount revokes every key of the merchant's API account, cancels its
// live key requests that are not decided or not yet issued, and hides the
// account, in one transaction. Its rows stay for the audit trail. It returns
// how many keys it revoked.
func (db *DB) DeleteAccount(ctx context.Context, actor keyport.Actor, merchantID, accountID int64) (int, error) {
	var revoked int
	err := db.keyTx(ctx, fmt.Sprintf("delete API account %d", accountID), func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		a, err := liveAccount(ctx, tx, merchantID, accountID)
		if err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
			WHERE k.account_id = $1 AND k.revoked_at IS NULL ORDER BY k.id`, accountID)
		keys, err := collect(rows, err, scanKey)
		if err != nil {
			return err
		}
		var covered []keyport.KeyChange // the account's change, published below, covers each of its keys
		for i := range keys {
			if err := db.revokeKey(ctx, tx, &covered, actor, &keys[i], keyport.AccountRevokeReason); err != nil {
				return err
			}
		}
		rows, err = tx.QueryContext(ctx, `SELECT `+requestColumns+requestFrom+`
			WHERE r.account_id = $1 AND r.state IN ('pending', 'needs_info', 'approved') ORDER BY r.id`, accountID)
		requests, err := collect(rows, err, scanOneRequest)
		if err != nil {
			return err
		}
		for _, r := range requests {
			if err := db.moveRequest(ctx, tx, actor, r, keyport.RequestCancelled, keyport.AuditRequestCancelled,
				r.TokenName+" (API account deleted)"); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_accounts SET deleted_at = $1 WHERE id = $2`, db.now(), accountID); err != nil {
			return err
		}
		*changes = append(*changes, keyport.AccountChanged(accountID))
		revoked = len(keys)
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditAccountDeleted, "api_account", accountID, a.Name); err != nil {
			return err
		}
		data := accountEventData(a)
		data["keys_revoked"] = revoked
		return db.emit(ctx, tx, merchantID, actor, keyport.EventAPIAccountDeleted, data)
	})
	return revoked, err
}
