package store

import (
	"context"
	"database/sql"
	"strings"

	"keyport"
)

// LookupKey returns the key whose SHA-256 is hash, with whether it is usable:
// not revoked, its API account neither disabled nor deleted, its merchant not
// disabled. Expiry is left to the caller, which knows the time of the request.
func (db *DB) LookupKey(ctx context.Context, hash [32]byte) (keyport.VerifiedKey, error) {
	db.keyLookups.Add(1)
	var k keyport.VerifiedKey
	var perms string
	var expires sql.NullInt64
	err := db.queryRow(ctx, `SELECT k.id, k.account_id, k.merchant_id, k.type, k.mode, k.access, k.permissions, k.suppress_costs,
			k.expires_at, k.revoked_at IS NULL AND a.disabled_at IS NULL AND a.deleted_at IS NULL AND m.disabled_at IS NULL,
			k.prefix || k.first4 || '********' || k.last4
		FROM api_keys k JOIN api_accounts a ON a.id = k.account_id JOIN merchants m ON m.id = k.merchant_id
		WHERE k.hash = $1`, hash[:]).Scan(&k.ID, &k.AccountID, &k.MerchantID, &k.Type, &k.Mode, &k.Access, &perms, &k.SuppressCosts,
		&expires, &k.Usable, &k.Redacted)
	if err != nil {
		return k, notFound(err)
	}
	k.Permissions = strings.Fields(perms)
	k.ExpiresAt = expires.Int64
	return k, nil
}

// RecordUsage adds a batch of API calls to the keys' use counts and moves
// their last use forward, in one transaction.
func (db *DB) RecordUsage(ctx context.Context, uses []keyport.KeyUse) error {
	return db.tx(ctx, "record key usage", func(tx *sql.Tx) error {
		for _, u := range uses {
			at := u.LastAt.Unix()
			if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET use_count = use_count + $1,
					last_used_ip = CASE WHEN last_used_at IS NULL OR last_used_at <= $2 THEN $3 ELSE last_used_ip END,
					last_used_at = max(COALESCE(last_used_at, 0), $4)
				WHERE id = $5`, u.Count, at, u.LastIP, at, u.KeyID); err != nil {
				return err
			}
		}
		return nil
	})
}
