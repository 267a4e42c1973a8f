package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"keyport"
)

// LeakAction returns what a leak report does to a secret key that verifies.
func (db *DB) LeakAction(ctx context.Context) (keyport.LeakAction, error) {
	return scanLeakAction(db.queryRow(ctx, `SELECT value FROM settings WHERE name = 'leak_action'`))
}

func scanLeakAction(row *sql.Row) (keyport.LeakAction, error) {
	var v string
	if err := row.Scan(&v); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if a := keyport.LeakAction(v); a.Valid() {
		return a, nil
	}
	return keyport.LeakRevoke, nil
}

// ReportLeaks applies a leak report from the client at ip, in one
// transaction, after counting it against th: every token that is a key not
// yet revoked is reported to its merchant's Owners by email, in the audit log
// and as a "key.leaked" webhook event, and a secret key is first revoked with
// the reason "found public at URL" when the platform's leak action is
// keyport.LeakRevoke. Tokens that are not keys, or not known, are ignored
// alike. It returns how long the client must wait when over th's limit.
func (db *DB) ReportLeaks(ctx context.Context, th *keyport.LoginThrottle, ip string, reports []keyport.LeakReport) (time.Duration, error) {
	var wait time.Duration
	err := db.keyTx(ctx, "report leaked keys", func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		var err error
		if wait, err = db.spendAttempt(ctx, tx, th, "", keyport.LeakIPScope(ip)); err != nil || wait > 0 {
			return err
		}
		action, err := scanLeakAction(tx.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'leak_action'`))
		if err != nil {
			return err
		}
		seen := map[[32]byte]bool{}
		for _, r := range reports {
			parsed, err := keyport.ParseKey(strings.TrimSpace(r.Token))
			if err != nil {
				continue
			}
			hash := parsed.Hash()
			if seen[hash] {
				continue
			}
			seen[hash] = true
			key, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
				WHERE k.hash = $1 AND k.revoked_at IS NULL`, hash[:]))
			if errors.Is(err, keyport.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			if err := db.reportLeak(ctx, tx, changes, keyport.LeakReporter(ip), &key, strings.TrimSpace(r.URL), action); err != nil {
				return err
			}
		}
		return nil
	})
	return wait, err
}

// reportLeak is what one leaked key goes through, inside tx.
func (db *DB) reportLeak(ctx context.Context, tx *sql.Tx, changes *[]keyport.KeyChange, actor keyport.Actor, key *keyport.APIKey, url string, action keyport.LeakAction) error {
	revoke := action == keyport.LeakRevoke && key.Type == keyport.KeySecret
	if revoke {
		if err := db.revokeKey(ctx, tx, changes, actor, key, keyport.LeakRevokeReason(url)); err != nil {
			return err
		}
	}
	outcome := "not revoked"
	if revoke {
		outcome = "revoked"
	}
	if err := db.audit(ctx, tx, key.MerchantID, actor, keyport.AuditKeyLeaked, "api_key", key.ID,
		key.Redacted()+" "+keyport.LeakRevokeReason(url)+", "+outcome); err != nil {
		return err
	}
	mail := keyMailData(*key)
	mail["url"], mail["revoked"] = url, "false"
	if revoke {
		mail["revoked"] = "true"
	}
	if err := db.mailUsers(ctx, tx, keyport.MessageKeyLeaked, toOwners, []any{key.MerchantID}, mail); err != nil {
		return err
	}
	data := keyEventData(*key)
	data["url"], data["revoked"] = url, revoke
	return db.emit(ctx, tx, key.MerchantID, actor, keyport.EventKeyLeaked, data)
}
