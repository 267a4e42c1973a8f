package store

import (
	"context"
	"database/sql"
	"fmt"

	"keyport"
)

// ListMerchants returns every merchant with its user and API account counts, newest first.
func (db *DB) ListMerchants(ctx context.Context) ([]keyport.MerchantSummary, error) {
	rows, err := db.query(ctx, `SELECT m.id, m.name, m.disabled_at IS NOT NULL, m.created_at,
			(SELECT count(*) FROM users u WHERE u.merchant_id = m.id AND u.removed_at IS NULL),
			(SELECT count(*) FROM api_accounts a WHERE a.merchant_id = m.id AND a.deleted_at IS NULL)
		FROM merchants m ORDER BY m.id DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []keyport.MerchantSummary
	for rows.Next() {
		var m keyport.MerchantSummary
		var created int64
		if err := rows.Scan(&m.ID, &m.Name, &m.Disabled, &created, &m.Users, &m.Accounts); err != nil {
			return nil, err
		}
		m.CreatedAt = unixTime(created)
		list = append(list, m)
	}
	return list, rows.Err()
}

// MerchantName returns the name of a merchant; an unknown id is ErrNotFound.
func (db *DB) MerchantName(ctx context.Context, merchantID int64) (string, error) {
	var name string
	err := db.queryRow(ctx, `SELECT name FROM merchants WHERE id = $1`, merchantID).Scan(&name)
	return name, notFound(err)
}

// SetMerchantDisabled disables or enables a merchant, audited when it changes.
// Disabling ends every session of the merchant's users at once; while disabled
// none of its keys verify and none of its users can sign in. The change is
// published for every key of the merchant, so cached verifications are redone,
// and the merchant's Owners are told by email.
func (db *DB) SetMerchantDisabled(ctx context.Context, actor keyport.Actor, merchantID int64, disabled bool) (keyport.Merchant, error) {
	var m keyport.Merchant
	err := db.keyTx(ctx, fmt.Sprintf("set merchant %d disabled=%t", merchantID, disabled), func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		var created int64
		err := tx.QueryRowContext(ctx, `SELECT id, name, disabled_at IS NOT NULL, created_at FROM merchants WHERE id = $1`, merchantID).
			Scan(&m.ID, &m.Name, &m.Disabled, &created)
		if err != nil {
			return notFound(err)
		}
		m.CreatedAt = unixTime(created)
		if m.Disabled == disabled {
			return nil
		}
		var at any
		action, kind := keyport.AuditMerchantEnabled, keyport.MessageMerchantEnabled
		if disabled {
			at = db.now()
			action, kind = keyport.AuditMerchantDisabled, keyport.MessageMerchantDisabled
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE merchant_id = $1)`, merchantID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE merchants SET disabled_at = $1 WHERE id = $2`, at, merchantID); err != nil {
			return err
		}
		*changes = append(*changes, keyport.MerchantChanged(merchantID))
		m.Disabled = disabled
		if err := db.audit(ctx, tx, merchantID, actor, action, "merchant", merchantID, m.Name); err != nil {
			return err
		}
		return db.mailUsers(ctx, tx, kind, toOwners, []any{merchantID}, map[string]string{"merchant": m.Name})
	})
	return m, err
}
