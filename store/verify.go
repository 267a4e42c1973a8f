package store

import (
	"context"
	"database/sql"
	"slices"
	"strings"

	"keyport"
)

// LookupKey returns the key whose SHA-256 is hash, with whether it is revoked
// and whether it is usable: not revoked, its API account neither disabled nor deleted, its merchant not
// disabled. Expiry is left to the caller, which knows the time of the request.
func (db *DB) LookupKey(ctx context.Context, hash [32]byte) (keyport.VerifiedKey, error) {
	db.keyLookups.Add(1)
	var k keyport.VerifiedKey
	var perms, origins string
	var expires sql.NullInt64
	err := db.queryRow(ctx, `SELECT k.id, k.account_id, k.merchant_id, k.type, k.mode, k.access, k.permissions, k.suppress_costs,
			k.expires_at, k.revoked_at IS NOT NULL, k.revoked_at IS NULL AND a.disabled_at IS NULL AND a.deleted_at IS NULL AND m.disabled_at IS NULL,
			k.prefix || k.first4 || '********' || k.last4, k.allowed_origins
		FROM api_keys k JOIN api_accounts a ON a.id = k.account_id JOIN merchants m ON m.id = k.merchant_id
		WHERE k.hash = $1`, hash[:]).Scan(&k.ID, &k.AccountID, &k.MerchantID, &k.Type, &k.Mode, &k.Access, &perms, &k.SuppressCosts,
		&expires, &k.Revoked, &k.Usable, &k.Redacted, &origins)
	if err != nil {
		return k, notFound(err)
	}
	k.Permissions = strings.Fields(perms)
	if origins != "" {
		k.AllowedOrigins = strings.Fields(origins)
	}
	k.ExpiresAt = expires.Int64
	return k, nil
}

// usageBatch is how many keys one usage statement updates.
const usageBatch = 500

// RecordUsage adds a batch of API calls to the keys' use counts and moves
// their last use forward, in one transaction: the uses are merged per key and
// sorted by key id, and each usageBatch keys are one UPDATE, so that flushes
// of several processes add up and always lock rows in the same order. The
// calls of test keys are added to their accounts' test_calls in the same
// transaction, one UPDATE per batch.
func (db *DB) RecordUsage(ctx context.Context, uses []keyport.KeyUse) error {
	merged := keyport.MergeUses(uses)
	return db.tx(ctx, "record key usage", func(tx *sql.Tx) error {
		for batch := range slices.Chunk(merged, usageBatch) {
			var args sqlArgs
			rows := make([]string, len(batch))
			for i, u := range batch {
				rows[i] = "(CAST(" + args.add(u.KeyID) + " AS BIGINT), CAST(" + args.add(u.Count) + " AS BIGINT), CAST(" +
					args.add(u.LastAt.Unix()) + " AS BIGINT), CAST(" + args.add(u.LastIP) + " AS TEXT))"
			}
			if _, err := tx.ExecContext(ctx, `WITH u (id, n, at, ip) AS (VALUES `+strings.Join(rows, ", ")+`)
				UPDATE api_keys SET use_count = use_count + u.n,
					last_used_ip = CASE WHEN api_keys.last_used_at IS NULL OR api_keys.last_used_at <= u.at
						THEN u.ip ELSE api_keys.last_used_ip END,
					last_used_at = CASE WHEN api_keys.last_used_at IS NULL OR api_keys.last_used_at < u.at
						THEN u.at ELSE api_keys.last_used_at END
				FROM u WHERE api_keys.id = u.id`, args...); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `WITH u (id, n, at, ip) AS (VALUES `+strings.Join(rows, ", ")+`)
				UPDATE api_accounts SET test_calls = test_calls + s.n
				FROM (SELECT k.account_id, sum(u.n) AS n FROM u JOIN api_keys k ON k.id = u.id WHERE k.mode = 'test'
					GROUP BY k.account_id) AS s
				WHERE api_accounts.id = s.account_id`, args...); err != nil {
				return err
			}
		}
		return nil
	})
}
