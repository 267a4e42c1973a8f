package store

import (
	"context"

	"keyport"
)

// ListAccounts returns the merchant's API accounts that are not deleted, oldest first.
func (db *DB) ListAccounts(ctx context.Context, merchantID int64) ([]keyport.APIAccount, error) {
	rows, err := db.sql.QueryContext(ctx, `SELECT id, merchant_id, name, account_key, disabled_at IS NOT NULL, created_at
		FROM api_accounts WHERE merchant_id = ? AND deleted_at IS NULL ORDER BY id`, merchantID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var list []keyport.APIAccount
	for rows.Next() {
		var a keyport.APIAccount
		var created int64
		if err := rows.Scan(&a.ID, &a.MerchantID, &a.Name, &a.AccountKey, &a.Disabled, &created); err != nil {
			return nil, err
		}
		a.CreatedAt = unixTime(created)
		list = append(list, a)
	}
	return list, rows.Err()
}
