package store

import (
	"context"
	"slices"
	"strings"

	"keyport"
)

// SecretsFilter selects keys on the API secrets page; zero fields select everything.
type SecretsFilter struct {
	AccountID int64
	Mode      keyport.Mode
	Type      keyport.KeyType
	Status    keyport.KeyStatus
	// Page is the page asked for.
	Page PageRequest
	// PerPage is how many keys one page lists.
	PerPage int
}

// SecretsPage is one page of a merchant's keys across its API accounts, newest first.
type SecretsPage struct {
	Filter SecretsFilter
	Page[keyport.APIKey]
}

// keyCursor is where a key sits in lists sorted by id.
func keyCursor(k keyport.APIKey) Cursor { return Cursor{ID: k.ID} }

// MerchantSecrets returns one page of the merchant's keys across its API
// accounts that are not deleted, newest first, as the filter selects.
func (db *DB) MerchantSecrets(ctx context.Context, merchantID int64, f SecretsFilter) (SecretsPage, error) {
	out := SecretsPage{Filter: f}
	var args sqlArgs
	where := []string{"k.merchant_id = " + args.add(merchantID), "a.deleted_at IS NULL"}
	if f.AccountID != 0 {
		where = append(where, "k.account_id = "+args.add(f.AccountID))
	}
	if f.Mode != "" {
		where = append(where, "k.mode = "+args.add(f.Mode))
	}
	if f.Type != "" {
		where = append(where, "k.type = "+args.add(f.Type))
	}
	switch f.Status {
	case keyport.KeyActive:
		where = append(where, "k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > "+args.add(db.now())+")")
	case keyport.KeyExpired:
		where = append(where, "k.revoked_at IS NULL AND k.expires_at <= "+args.add(db.now()))
	case keyport.KeyRevoked:
		where = append(where, "k.revoked_at IS NOT NULL")
	}
	var err error
	out.Page, err = LoadPage(f.Page, f.PerPage, true, keyCursor,
		func(c Cursor, below bool, limit int) ([]keyport.APIKey, error) {
			args := slices.Clip(args)
			cond, order := keyset(&args, "", "k.id", c, below)
			return db.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
				WHERE `+strings.Join(where, " AND ")+cond+order+` LIMIT `+args.add(limit), args...)
		})
	return out, err
}

// MerchantKey returns one key of the merchant on an API account that is not deleted.
func (db *DB) MerchantKey(ctx context.Context, merchantID, keyID int64) (keyport.APIKey, error) {
	return scanKey(db.queryRow(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
		WHERE k.id = $1 AND k.merchant_id = $2 AND a.deleted_at IS NULL`, keyID, merchantID))
}

// ExampleKey returns the redacted form of the merchant's newest active test
// secret key, for documentation examples, or ErrNotFound.
func (db *DB) ExampleKey(ctx context.Context, merchantID int64) (string, error) {
	var redacted string
	err := db.queryRow(ctx, `SELECT k.prefix || k.first4 || '********' || k.last4 FROM api_keys k
		JOIN api_accounts a ON a.id = k.account_id
		WHERE k.merchant_id = $1 AND k.type = 'secret' AND k.mode = 'test' AND k.revoked_at IS NULL
		AND (k.expires_at IS NULL OR k.expires_at > $2) AND a.deleted_at IS NULL
		ORDER BY k.id DESC LIMIT 1`, merchantID, db.now()).Scan(&redacted)
	return redacted, notFound(err)
}
