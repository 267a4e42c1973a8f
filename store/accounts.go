package store

import (
	"context"

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
		FROM api_accounts WHERE merchant_id = ? AND deleted_at IS NULL ORDER BY id`, merchantID)
	return collect(rows, err, scanAccount)
}

// AccountOf returns one API account of the merchant; another merchant's or a
// deleted account is ErrNotFound.
func (db *DB) AccountOf(ctx context.Context, merchantID, accountID int64) (keyport.APIAccount, error) {
	return scanAccount(db.queryRow(ctx, `SELECT `+accountColumns+`
		FROM api_accounts WHERE id = ? AND merchant_id = ? AND deleted_at IS NULL`, accountID, merchantID))
}
