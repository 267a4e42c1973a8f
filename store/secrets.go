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
	// Search selects the keys a search term finds.
	Search keyport.KeySearch
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
// accounts that are not deleted, newest first, as the filter and its search
// select.
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
	if cond := keySearchCond(&args, f.Search); cond != "" {
		where = append(where, cond)
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

// keySearchCond is the condition on api_keys k of the keys a search term
// finds, or "" for a blank term: a whole key by its hash; a redacted form by
// its parts; a key start by its prefix and first four characters; text by a
// name containing it (ignoring case, wildcards taken literally), by the start
// of the prefix and first four characters, or by the last four characters.
func keySearchCond(args *sqlArgs, s keyport.KeySearch) string {
	switch s.Kind {
	case keyport.SearchWholeKey:
		return "k.hash = " + args.add(s.Hash[:])
	case keyport.SearchRedacted:
		cond := "k.first4 = " + args.add(s.First4) + " AND k.last4 = " + args.add(s.Last4)
		if s.Prefix != "" {
			cond = "k.prefix = " + args.add(s.Prefix) + " AND " + cond
		}
		return cond
	case keyport.SearchKeyStart:
		return "k.prefix = " + args.add(s.Prefix) + " AND k.first4 = " + args.add(s.First4)
	case keyport.SearchText:
		alts := []string{"lower(k.name) LIKE lower(" + args.add("%"+escapeLike(s.Term)+"%") + `) ESCAPE '\'`}
		if s.Start != "" {
			alts = append(alts, "substr(k.prefix || k.first4, 1, "+args.add(len(s.Start))+") = "+args.add(s.Start))
		}
		if s.Last4 != "" {
			alts = append(alts, "k.last4 = "+args.add(s.Last4))
		}
		return "(" + strings.Join(alts, " OR ") + ")"
	}
	return ""
}

// FoundKey is a key the API team found by a search across every merchant.
type FoundKey struct {
	keyport.APIKey
	MerchantName string
	// AccountDeleted marks a key of a deleted API account, which the
	// merchant's lists no longer show.
	AccountDeleted bool
}

// FindKeys returns up to limit keys of any merchant that a search term
// pinpoints (see keyport.KeySearch.Pinpoints), newest first, those of
// deleted API accounts included; any other term finds nothing.
func (db *DB) FindKeys(ctx context.Context, s keyport.KeySearch, limit int) ([]FoundKey, error) {
	if !s.Pinpoints() {
		return nil, nil
	}
	var args sqlArgs
	cond := keySearchCond(&args, s)
	rows, err := db.query(ctx, `SELECT `+keyColumns+`, m.name, a.deleted_at IS NOT NULL FROM api_keys k
		JOIN api_accounts a ON a.id = k.account_id JOIN merchants m ON m.id = k.merchant_id
		WHERE `+cond+` ORDER BY k.id DESC LIMIT `+args.add(limit), args...)
	return collect(rows, err, scanFoundKey)
}

func scanFoundKey(row scanner) (FoundKey, error) {
	var f FoundKey
	var err error
	f.APIKey, err = scanKey(extraColumns{row, []any{&f.MerchantName, &f.AccountDeleted}})
	return f, err
}

// extraColumns scans a row into the destinations of a scan function followed by extra ones.
type extraColumns struct {
	row   scanner
	extra []any
}

// Scan scans the row into dest and then the extra destinations.
func (e extraColumns) Scan(dest ...any) error { return e.row.Scan(append(dest, e.extra...)...) }

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
