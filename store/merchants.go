package store

import (
	"context"

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
	err := db.queryRow(ctx, `SELECT name FROM merchants WHERE id = ?`, merchantID).Scan(&name)
	return name, notFound(err)
}
