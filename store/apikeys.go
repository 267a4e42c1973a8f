package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"keyport"
)

// TokenCap returns the platform's cap on active secret keys per mode and account (0 = no cap).
func (db *DB) TokenCap(ctx context.Context) (int, error) {
	return tokenCap(ctx, cached{db})
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// cached is a queryer that reads outside transactions through prepared statements.
type cached struct{ db *DB }

func (c cached) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	return c.db.queryRow(ctx, query, args...)
}

func tokenCap(ctx context.Context, q queryer) (int, error) {
	var v string
	err := q.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'token_cap'`).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return keyport.DefaultTokenCap, nil
	}
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(v)
}

// SetTokenCap changes the platform's token cap, audited.
func (db *DB) SetTokenCap(ctx context.Context, actor keyport.Actor, capacity int) error {
	return db.SavePlatformSettings(ctx, actor, PlatformSettings{TokenCap: capacity})
}

// PlatformSettings are the settings admins change on /admin/settings.
type PlatformSettings struct {
	// TokenCap caps the active secret keys per mode and account (0 = no cap).
	TokenCap int
	// TwoFactor says who must use two-factor authentication; empty keeps it as it is.
	TwoFactor keyport.TwoFactorPolicy
	// LeakAction says what a leak report does to a secret key; empty keeps it as it is.
	LeakAction keyport.LeakAction
}

// SavePlatformSettings writes the settings in one transaction, with an audit
// event for each one that changes.
func (db *DB) SavePlatformSettings(ctx context.Context, actor keyport.Actor, s PlatformSettings) error {
	return db.tx(ctx, "save platform settings", func(tx *sql.Tx) error {
		type change struct {
			name, value string
			action      keyport.AuditAction
		}
		changes := []change{{"token_cap", strconv.Itoa(s.TokenCap), keyport.AuditTokenCapChanged}}
		if s.TwoFactor != "" {
			changes = append(changes, change{"two_factor_policy", string(s.TwoFactor), keyport.AuditTwoFactorPolicySet})
		}
		if s.LeakAction != "" {
			changes = append(changes, change{"leak_action", string(s.LeakAction), keyport.AuditLeakActionSet})
		}
		for _, ch := range changes {
			res, err := tx.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES ($1, $2)
				ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE settings.value <> excluded.value`, ch.name, ch.value)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				continue
			}
			if err := db.audit(ctx, tx, 0, actor, ch.action, "settings", 0, ch.value); err != nil {
				return err
			}
		}
		return nil
	})
}

// accountForChange loads an account of the merchant that may receive new keys
// and returns its name.
func accountForChange(ctx context.Context, tx *sql.Tx, merchantID, accountID int64) (name string, err error) {
	var disabled, deleted bool
	err = tx.QueryRowContext(ctx, `SELECT name, disabled_at IS NOT NULL, deleted_at IS NOT NULL FROM api_accounts WHERE id = $1 AND merchant_id = $2`,
		accountID, merchantID).Scan(&name, &disabled, &deleted)
	if err != nil {
		return "", notFound(err)
	}
	if deleted {
		return "", keyport.ErrNotFound
	}
	if disabled {
		return "", keyport.ErrAccountDisabled
	}
	return name, nil
}

// capStatus is the one count behind the token cap: the account's keys of a
// mode that take a slot at now (APIKey.CountsTowardCap) and, in live mode, its
// approved live key requests not yet issued, other than exceptRequest.
func capStatus(ctx context.Context, q queryer, accountID int64, mode keyport.Mode, exceptRequest, now int64) (keyport.CapStatus, error) {
	st := keyport.CapStatus{Mode: mode}
	var err error
	if st.Cap, err = tokenCap(ctx, q); err != nil {
		return st, err
	}
	err = q.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM api_keys WHERE account_id = $1 AND mode = $2 AND type = 'secret' AND revoked_at IS NULL
			AND rolled_at IS NULL AND (expires_at IS NULL OR expires_at > $3))
		+ (SELECT count(*) FROM live_key_requests WHERE account_id = $4 AND state = 'approved' AND id <> $5 AND $6 = 'live')`,
		accountID, mode, now, accountID, exceptRequest, mode).Scan(&st.Used)
	return st, err
}

// CapStatus returns how many of a mode's cap slots the account uses now.
func (db *DB) CapStatus(ctx context.Context, accountID int64, mode keyport.Mode) (keyport.CapStatus, error) {
	return capStatus(ctx, cached{db}, accountID, mode, 0, db.now())
}

// CreatedKey is a new key and its plaintext, which exists only to be shown once.
type CreatedKey struct {
	Key       keyport.APIKey
	Plaintext string
}

// CreateKey mints and stores a key in one write transaction: the account must be
// the merchant's and enabled, and the token cap is checked inside the same
// transaction, so concurrent creations never exceed it. It writes the audit
// events "key.created" and "key.revealed".
func (db *DB) CreateKey(ctx context.Context, actor keyport.Actor, in keyport.NewKey) (CreatedKey, error) {
	var out CreatedKey
	err := db.keyTx(ctx, fmt.Sprintf("create key in API account %d", in.AccountID), func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		var err error
		out, err = db.createKey(ctx, tx, changes, actor, in)
		return err
	})
	return out, err
}

func (db *DB) createKey(ctx context.Context, tx *sql.Tx, changes *[]keyport.KeyChange, actor keyport.Actor, in keyport.NewKey) (CreatedKey, error) {
	accountName, err := accountForChange(ctx, tx, in.MerchantID, in.AccountID)
	if err != nil {
		return CreatedKey{}, err
	}
	now := db.now()
	in = in.WithDefaults()
	if in.TakesSlot() {
		st, err := capStatus(ctx, tx, in.AccountID, in.Mode, in.RequestID, now)
		if err != nil {
			return CreatedKey{}, err
		}
		if err := st.Check(); err != nil {
			return CreatedKey{}, err
		}
	}
	parsed, err := keyport.MintKey(in.Type, in.Mode)
	if err != nil {
		return CreatedKey{}, err
	}
	hash := parsed.Hash()
	var expires, request any
	if !in.ExpiresAt.IsZero() {
		expires = in.ExpiresAt.Unix()
	}
	if in.RequestID != 0 {
		request = in.RequestID
	}
	var createdBy any
	if actor.UserID != 0 {
		createdBy = actor.UserID
	}
	publicValue := ""
	if in.Type == keyport.KeyPublishable {
		publicValue = parsed.String()
	}
	var id int64
	err = tx.QueryRowContext(ctx, `INSERT INTO api_keys (account_id, merchant_id, type, mode, name, hash, prefix, first4, last4,
			access, permissions, suppress_costs, legacy, request_id, created_by, created_by_label, created_at, expires_at, public_value,
			allowed_origins)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20) RETURNING id`,
		in.AccountID, in.MerchantID, in.Type, in.Mode, in.Name, hash[:], parsed.Prefix(), parsed.First4(), parsed.Last4(),
		in.Access, strings.Join(in.Permissions, " "), in.SuppressCosts, in.Legacy, request, createdBy, actor.Label, now, expires, publicValue,
		strings.Join(in.AllowedOrigins, " ")).Scan(&id)
	if err != nil {
		return CreatedKey{}, err
	}
	*changes = append(*changes, keyport.KeyCreated(hash))
	redacted := keyport.Redact(parsed.Prefix(), parsed.First4(), parsed.Last4())
	if err := db.audit(ctx, tx, in.MerchantID, actor, keyport.AuditKeyCreated, "api_key", id, redacted+" "+in.Name); err != nil {
		return CreatedKey{}, err
	}
	if err := db.audit(ctx, tx, in.MerchantID, actor, keyport.AuditKeyRevealed, "api_key", id, redacted); err != nil {
		return CreatedKey{}, err
	}
	key := keyport.APIKey{ID: id, AccountID: in.AccountID, AccountName: accountName, MerchantID: in.MerchantID, Type: in.Type, Mode: in.Mode,
		Name: in.Name, Prefix: parsed.Prefix(), First4: parsed.First4(), Last4: parsed.Last4(), Access: in.Access, Permissions: in.Permissions,
		SuppressCosts: in.SuppressCosts, Legacy: in.Legacy, RequestID: in.RequestID, CreatedByLabel: actor.Label,
		CreatedAt: unixTime(now), ExpiresAt: in.ExpiresAt, PublicValue: publicValue, AllowedOrigins: in.AllowedOrigins}
	if in.Replaces == 0 {
		if err := db.emit(ctx, tx, in.MerchantID, actor, keyport.EventKeyCreated, keyEventData(key)); err != nil {
			return CreatedKey{}, err
		}
	}
	return CreatedKey{Key: key, Plaintext: parsed.String()}, nil
}

const keyColumns = `k.id, k.account_id, a.name, k.merchant_id, k.type, k.mode, k.name, k.prefix, k.first4, k.last4, k.access, k.permissions,
	k.suppress_costs, k.legacy, COALESCE(k.request_id, 0), k.created_by_label, k.created_at, k.expires_at, k.rolled_at, k.revoked_at,
	k.revoked_by_label, k.revoke_reason, k.last_used_at, k.last_used_ip, k.use_count, k.public_value, k.allowed_origins`

func scanKey(row scanner) (keyport.APIKey, error) {
	var k keyport.APIKey
	var perms, origins string
	var created int64
	var expires, rolled, revoked, used sql.NullInt64
	err := row.Scan(&k.ID, &k.AccountID, &k.AccountName, &k.MerchantID, &k.Type, &k.Mode, &k.Name, &k.Prefix, &k.First4, &k.Last4,
		&k.Access, &perms, &k.SuppressCosts, &k.Legacy, &k.RequestID, &k.CreatedByLabel, &created, &expires, &rolled, &revoked,
		&k.RevokedBy, &k.RevokeReason, &used, &k.LastUsedIP, &k.UseCount, &k.PublicValue, &origins)
	if err != nil {
		return k, notFound(err)
	}
	if perms != "" {
		k.Permissions = strings.Fields(perms)
	}
	if origins != "" {
		k.AllowedOrigins = strings.Fields(origins)
	}
	k.CreatedAt = unixTime(created)
	k.ExpiresAt = nullTime(expires)
	k.RolledAt = nullTime(rolled)
	k.RevokedAt = nullTime(revoked)
	k.LastUsedAt = nullTime(used)
	return k, nil
}

func (db *DB) queryKeys(ctx context.Context, query string, args ...any) ([]keyport.APIKey, error) {
	rows, err := db.query(ctx, query, args...)
	return collect(rows, err, scanKey)
}

// keyModeRank sorts live keys (1) before test keys (0) in lists of current
// keys; the index api_keys_account_current holds it.
const keyModeRank = `(CASE k.mode WHEN 'live' THEN 1 ELSE 0 END)`

// modeRank is keyModeRank's value for a key of mode m.
func modeRank(m keyport.Mode) int64 {
	if m == keyport.ModeLive {
		return 1
	}
	return 0
}

// currentCursor is where a current key sits in a list of current keys: live
// before test, then by id.
func currentCursor(k keyport.APIKey) Cursor { return Cursor{Key: modeRank(k.Mode), ID: k.ID} }

// CurrentKeys returns the page req asks for of the account's keys that are
// not revoked (active and expired): those of mode, or of both modes, live
// first, when mode is empty; newest first.
func (db *DB) CurrentKeys(ctx context.Context, accountID int64, mode keyport.Mode, req PageRequest, perPage int) (Page[keyport.APIKey], error) {
	rank, cursorOf := keyModeRank, currentCursor
	if mode != "" {
		rank, cursorOf = "", keyCursor
	}
	return LoadPage(req, perPage, true, cursorOf,
		func(c Cursor, below bool, limit int) ([]keyport.APIKey, error) {
			args := sqlArgs{accountID}
			filter := ""
			if mode != "" {
				filter = ` AND ` + keyModeRank + ` = ` + args.add(modeRank(mode))
			}
			cond, order := keyset(&args, rank, "k.id", c, below)
			return db.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
				WHERE k.account_id = $1 AND k.revoked_at IS NULL`+filter+cond+order+` LIMIT `+args.add(limit), args...)
		})
}

// revokedCursor is where a revoked key sits in the list of revoked keys:
// by revocation time, then id.
func revokedCursor(k keyport.APIKey) Cursor { return Cursor{Key: k.RevokedAt.Unix(), ID: k.ID} }

// RevokedKeys returns the page req asks for of the account's revoked keys of
// a mode, newest revocation first.
func (db *DB) RevokedKeys(ctx context.Context, accountID int64, mode keyport.Mode, req PageRequest, perPage int) (Page[keyport.APIKey], error) {
	return LoadPage(req, perPage, true, revokedCursor,
		func(c Cursor, below bool, limit int) ([]keyport.APIKey, error) {
			args := sqlArgs{accountID, mode}
			cond, order := keyset(&args, "k.revoked_at", "k.id", c, below)
			return db.queryKeys(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
				WHERE k.account_id = $1 AND k.mode = $2 AND k.revoked_at IS NOT NULL`+cond+order+` LIMIT `+args.add(limit), args...)
		})
}

// CountRevokedKeys returns how many revoked keys of a mode the account has,
// counting no further than upTo.
func (db *DB) CountRevokedKeys(ctx context.Context, accountID int64, mode keyport.Mode, upTo int) (int, error) {
	var n int
	err := db.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM api_keys
		WHERE account_id = $1 AND mode = $2 AND revoked_at IS NOT NULL LIMIT $3) AS q`, accountID, mode, upTo).Scan(&n)
	return n, err
}

// RevokeKey revokes one key of the merchant's account at once, recording who
// and why. When the API team revokes it, the merchant's Owners are emailed.
// Revoking a key that is already revoked is ErrConflict.
func (db *DB) RevokeKey(ctx context.Context, actor keyport.Actor, merchantID, accountID, keyID int64, reason string) (keyport.APIKey, error) {
	var key keyport.APIKey
	err := db.keyTx(ctx, fmt.Sprintf("revoke key %d", keyID), func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		var err error
		key, err = scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
			WHERE k.id = $1 AND k.account_id = $2 AND k.merchant_id = $3`, keyID, accountID, merchantID))
		if err != nil {
			return err
		}
		if err := db.revokeKey(ctx, tx, changes, actor, &key, reason); err != nil {
			return err
		}
		var byStaff bool
		if err := tx.QueryRowContext(ctx, `SELECT count(*) > 0 FROM users WHERE id = $1 AND role = 'admin'`, actor.UserID).Scan(&byStaff); err != nil {
			return err
		}
		if !byStaff {
			return nil
		}
		data := keyMailData(key)
		data["reason"] = reason
		return db.mailUsers(ctx, tx, keyport.MessageKeyRevoked, toOwners, []any{merchantID}, data)
	})
	return key, err
}

// revokeKey is the one revocation: inside tx it marks key revoked by actor
// for reason, now, writes "key.revoked" and adds the key to changes. A key
// already revoked is ErrConflict.
func (db *DB) revokeKey(ctx context.Context, tx *sql.Tx, changes *[]keyport.KeyChange, actor keyport.Actor, key *keyport.APIKey, reason string) error {
	if !key.RevokedAt.IsZero() {
		return keyport.ErrConflict
	}
	now := db.now()
	if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $1, revoked_by_label = $2, revoke_reason = $3 WHERE id = $4`,
		now, actor.Label, reason, key.ID); err != nil {
		return err
	}
	*changes = append(*changes, keyport.KeyChanged(key.ID))
	key.RevokedAt = unixTime(now)
	key.RevokedBy = actor.Label
	key.RevokeReason = reason
	if err := db.audit(ctx, tx, key.MerchantID, actor, keyport.AuditKeyRevoked, "api_key", key.ID, strings.TrimSpace(key.Redacted()+" "+reason)); err != nil {
		return err
	}
	data := keyEventData(*key)
	data["reason"] = reason
	return db.emit(ctx, tx, key.MerchantID, actor, keyport.EventKeyRevoked, data)
}

// LogExpiredKeys writes a "key.expired" audit event, once, for every key whose
// expiry has passed, and emails its creator and its merchant's Owners. It
// returns how many keys it logged.
func (db *DB) LogExpiredKeys(ctx context.Context) (int, error) {
	var due int
	if err := db.queryRow(ctx, `SELECT count(*) FROM api_keys WHERE expires_at IS NOT NULL AND expires_at <= $1 AND expiry_logged = FALSE
		AND revoked_at IS NULL`, db.now()).Scan(&due); err != nil || due == 0 {
		return 0, err
	}
	var n int
	err := db.tx(ctx, "log expired keys", func(tx *sql.Tx) error {
		now := db.now()
		rows, err := tx.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
			WHERE k.expires_at IS NOT NULL AND k.expires_at <= $1 AND k.expiry_logged = FALSE AND k.revoked_at IS NULL ORDER BY k.id`, now)
		list, err := collect(rows, err, scanKey)
		if err != nil {
			return err
		}
		for _, k := range list {
			if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET expiry_logged = TRUE WHERE id = $1`, k.ID); err != nil {
				return err
			}
			if err := db.audit(ctx, tx, k.MerchantID, keyport.SystemActor, keyport.AuditKeyExpired, "api_key", k.ID, k.Redacted()); err != nil {
				return err
			}
			if err := db.mailUsers(ctx, tx, keyport.MessageKeyExpired, toKeyPeople, []any{k.ID, k.MerchantID}, keyMailData(k)); err != nil {
				return err
			}
			if err := db.emit(ctx, tx, k.MerchantID, keyport.SystemActor, keyport.EventKeyExpired, keyEventData(k)); err != nil {
				return err
			}
		}
		n = len(list)
		return nil
	})
	return n, err
}

// ModeKeys is one mode's keys of an API account as the Developer keys tab shows them.
type ModeKeys struct {
	Mode keyport.Mode
	// Current holds one page of the keys that are not revoked (active and
	// expired), newest first.
	Current Page[keyport.APIKey]
	// CurrentRequest is the page of current keys asked for.
	CurrentRequest PageRequest
	// Revoked holds one page of revoked keys, newest revocation first.
	Revoked Page[keyport.APIKey]
	// RevokedRequest is the page of revoked keys asked for.
	RevokedRequest PageRequest
	// RevokedTotal counts revoked keys up to RevokedCountLimit, so that the
	// count costs the same however many there are.
	RevokedTotal int
	// RevokedCountLimit is how far the revoked keys were counted.
	RevokedCountLimit int
	// Requests holds the account's live key requests that are not issued yet (live mode only).
	Requests []keyport.LiveKeyRequest
	// Slots is the mode's use of the token cap.
	Slots keyport.CapStatus
}

// AtCap reports whether no new key of this mode may be created or requested.
func (m ModeKeys) AtCap() bool { return m.Slots.Full() }

// RevokedCount is the number of revoked keys for people: "37", or "200+" at
// a count limit of 200.
func (m ModeKeys) RevokedCount() string {
	if m.RevokedTotal >= m.RevokedCountLimit {
		return strconv.Itoa(m.RevokedCountLimit) + "+"
	}
	return strconv.Itoa(m.RevokedTotal)
}

// KeysTab is everything the Developer keys tab of one API account shows.
type KeysTab struct {
	Account keyport.APIAccount
	Live    ModeKeys
	Test    ModeKeys
}

// Section returns the keys of one mode.
func (t KeysTab) Section(m keyport.Mode) ModeKeys {
	if m == keyport.ModeLive {
		return t.Live
	}
	return t.Test
}

// KeysTabRequest asks for the Developer keys tab: the pages of current and
// revoked keys of each mode, how long such pages are, and how far to count
// revoked keys.
type KeysTabRequest struct {
	Live, Test SectionRequest
	// CurrentPerPage is how many current keys one page lists.
	CurrentPerPage int
	// RevokedPerPage is how many revoked keys one page lists.
	RevokedPerPage int
	// CountLimit is the most revoked keys of a mode counted exactly.
	CountLimit int
}

// SectionRequest asks for the pages of one section of the Developer keys tab.
type SectionRequest struct {
	Current, Revoked PageRequest
}

// KeysTab loads the Developer keys tab of the merchant's account, with the
// pages of current and revoked keys req asks for in each mode.
func (db *DB) KeysTab(ctx context.Context, merchantID, accountID int64, req KeysTabRequest) (KeysTab, error) {
	var tab KeysTab
	var err error
	if tab.Account, err = db.AccountOf(ctx, merchantID, accountID); err != nil {
		return tab, err
	}
	if tab.Live, err = db.modeKeys(ctx, accountID, keyport.ModeLive, req.Live, req); err != nil {
		return tab, err
	}
	if tab.Test, err = db.modeKeys(ctx, accountID, keyport.ModeTest, req.Test, req); err != nil {
		return tab, err
	}
	rows, err := db.query(ctx, `SELECT `+requestColumns+requestFrom+`
		WHERE r.account_id = $1 AND r.state <> 'issued' ORDER BY r.id DESC LIMIT 10`, accountID)
	tab.Live.Requests, err = collect(rows, err, scanOneRequest)
	return tab, err
}

func (db *DB) modeKeys(ctx context.Context, accountID int64, mode keyport.Mode, pages SectionRequest, req KeysTabRequest) (ModeKeys, error) {
	m := ModeKeys{Mode: mode, CurrentRequest: pages.Current, RevokedRequest: pages.Revoked, RevokedCountLimit: req.CountLimit}
	var err error
	if m.Slots, err = db.CapStatus(ctx, accountID, mode); err != nil {
		return m, err
	}
	if m.Current, err = db.CurrentKeys(ctx, accountID, mode, pages.Current, req.CurrentPerPage); err != nil {
		return m, err
	}
	if m.RevokedTotal, err = db.CountRevokedKeys(ctx, accountID, mode, req.CountLimit); err != nil {
		return m, err
	}
	m.Revoked, err = db.RevokedKeys(ctx, accountID, mode, pages.Revoked, req.RevokedPerPage)
	return m, err
}

// RollKey replaces an active key of the merchant's account with a new one of
// the same type, mode, access, permissions, cost flag and name, in one
// transaction. The old key keeps working for grace (not at all when 0) and
// no longer takes a cap slot. Rolling a key that is revoked, expired or
// already rolled is ErrConflict. It writes "key.rolled" and the new key's
// "key.created" and "key.revealed".
func (db *DB) RollKey(ctx context.Context, actor keyport.Actor, merchantID, accountID, keyID int64, grace time.Duration) (CreatedKey, error) {
	var out CreatedKey
	err := db.keyTx(ctx, fmt.Sprintf("roll key %d", keyID), func(tx *sql.Tx, changes *[]keyport.KeyChange) error {
		old, err := scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
			WHERE k.id = $1 AND k.account_id = $2 AND k.merchant_id = $3 AND a.deleted_at IS NULL`, keyID, accountID, merchantID))
		if err != nil {
			return err
		}
		now := db.Now()
		if !old.Rollable(now) {
			return keyport.ErrConflict
		}
		ends := now.Add(grace).Unix()
		if !old.ExpiresAt.IsZero() && old.ExpiresAt.Unix() < ends {
			ends = old.ExpiresAt.Unix()
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET rolled_at = $1, expires_at = $2 WHERE id = $3`, now.Unix(), ends, keyID); err != nil {
			return err
		}
		*changes = append(*changes, keyport.KeyChanged(keyID))
		out, err = db.createKey(ctx, tx, changes, actor, keyport.NewKey{AccountID: accountID, MerchantID: merchantID, Type: old.Type, Mode: old.Mode,
			Name: old.Name, Access: old.Access, Permissions: old.Permissions, SuppressCosts: old.SuppressCosts, Legacy: old.Legacy,
			Replaces: keyID, AllowedOrigins: old.AllowedOrigins})
		if err != nil {
			return err
		}
		if err := db.audit(ctx, tx, merchantID, actor, keyport.AuditKeyRolled, "api_key", keyID,
			old.Redacted()+" replaced by "+out.Key.Redacted()+", old key works until "+unixTime(ends).Format(time.RFC3339)); err != nil {
			return err
		}
		old.RolledAt, old.ExpiresAt = now, unixTime(ends)
		data := keyEventData(old)
		data["new_key"] = keyEventData(out.Key)["key"]
		data["old_key_works_until"] = eventTime(unixTime(ends))
		return db.emit(ctx, tx, merchantID, actor, keyport.EventKeyRolled, data)
	})
	return out, err
}
