package store

import (
	"context"
	"strings"
	"time"

	"keyport"
)

// auditColumns are an event's columns, its merchant's name and the name of the
// API account its object belongs to, in the order scanAuditEvent reads them.
const auditColumns = `e.id, e.at, coalesce(e.merchant_id, 0), coalesce(m.name, ''), e.actor, e.ip, e.action,
	e.object_type, coalesce(e.object_id, 0), e.detail,
	coalesce((SELECT a.name FROM api_accounts a WHERE a.id = e.account_id), '')`

const auditFrom = ` FROM audit_events e LEFT JOIN merchants m ON m.id = e.merchant_id`

// auditAccountOf is the API account an event's object belongs to, recorded
// with the event: the account itself, or the account of the key, registered
// auth, live key request or shipment. It reads the object type as $7 and
// the object id as $8, as the insert in audit binds them.
const auditAccountOf = `CASE $7
	WHEN 'api_account' THEN $8
	WHEN 'api_key' THEN (SELECT k.account_id FROM api_keys k WHERE k.id = $8)
	WHEN 'registered_auth' THEN (SELECT r.account_id FROM registered_auths r WHERE r.id = $8)
	WHEN 'live_key_request' THEN (SELECT q.account_id FROM live_key_requests q WHERE q.id = $8)
	WHEN 'shipment' THEN (SELECT s.account_id FROM shipments s WHERE s.id = $8)
END`

// AuditFilter selects audit events; zero fields select everything. Outside an
// admin's scope the merchant fields are ignored: the scope decides the merchant.
type AuditFilter struct {
	// MerchantID limits an admin's view to one merchant.
	MerchantID int64
	// Platform limits an admin's view to events that belong to no merchant.
	Platform bool
	// AccountID selects events about the API account and about its keys,
	// registered auths and live key requests.
	AccountID int64
	// Actor selects actors whose label starts with it, ignoring case.
	Actor string
	// Action selects one action exactly, such as "key.created".
	Action string
	// From and To are inclusive UTC days; zero means open-ended.
	From, To time.Time
	// Page is the page asked for; the log is sorted by time, then id.
	Page PageRequest
}

// AuditPage is one page of audit events, newest first: Prev leads to newer
// events, Next to older ones.
type AuditPage struct {
	Filter AuditFilter
	Page[keyport.AuditEvent]
}

func scanAuditEvent(row scanner) (keyport.AuditEvent, error) {
	var e keyport.AuditEvent
	var at int64
	err := row.Scan(&e.ID, &at, &e.MerchantID, &e.MerchantName, &e.Actor, &e.IP, &e.Action,
		&e.ObjectType, &e.ObjectID, &e.Detail, &e.AccountName)
	e.At = unixTime(at)
	return e, err
}

// auditCursor is where an event sits in the log: by time, then id.
func auditCursor(e keyport.AuditEvent) Cursor { return Cursor{Key: e.At.Unix(), ID: e.ID} }

// auditWhere is the WHERE clause (without the word) and its arguments for the
// events a scope may see that the filter selects, cursor left out.
func auditWhere(scope keyport.AuditScope, f AuditFilter) (string, sqlArgs) {
	var where []string
	var args sqlArgs
	switch {
	case !scope.All:
		where = append(where, "e.merchant_id = "+args.add(scope.MerchantID))
	case f.Platform:
		where = append(where, "e.merchant_id IS NULL")
	case f.MerchantID != 0:
		where = append(where, "e.merchant_id = "+args.add(f.MerchantID))
	}
	if f.AccountID != 0 {
		where = append(where, "e.account_id = "+args.add(f.AccountID))
	}
	if f.Actor != "" {
		where = append(where, "lower(e.actor) LIKE lower("+args.add(escapeLike(f.Actor)+"%")+`) ESCAPE '\'`)
	}
	if f.Action != "" {
		where = append(where, "e.action = "+args.add(f.Action))
	}
	if !f.From.IsZero() {
		where = append(where, "e.at >= "+args.add(f.From.Unix()))
	}
	if !f.To.IsZero() {
		where = append(where, "e.at < "+args.add(f.To.AddDate(0, 0, 1).Unix()))
	}
	if len(where) == 0 {
		return "TRUE", nil
	}
	return strings.Join(where, " AND "), args
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// escapeLike makes text match itself literally in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string { return likeEscaper.Replace(s) }

// auditBatch returns up to limit events of the scope and filter beyond the
// cursor c, nearest first: older ones when below is true, newer ones otherwise.
func (db *DB) auditBatch(ctx context.Context, scope keyport.AuditScope, f AuditFilter, c Cursor, below bool, limit int) ([]keyport.AuditEvent, error) {
	where, args := auditWhere(scope, f)
	cond, order := keyset(&args, "e.at", "e.id", c, below)
	rows, err := db.query(ctx, `SELECT `+auditColumns+auditFrom+` WHERE `+where+cond+order+` LIMIT `+args.add(limit), args...)
	return collect(rows, err, scanAuditEvent)
}

// AuditEvents returns one page of perPage events the scope may see that the
// filter selects, newest first: the first page, or the page before or after
// the filter's cursor.
func (db *DB) AuditEvents(ctx context.Context, scope keyport.AuditScope, f AuditFilter, perPage int) (AuditPage, error) {
	out := AuditPage{Filter: f}
	var err error
	out.Page, err = LoadPage(f.Page, perPage, true, auditCursor,
		func(c Cursor, below bool, limit int) ([]keyport.AuditEvent, error) {
			return db.auditBatch(ctx, scope, f, c, below, limit)
		})
	return out, err
}

// auditExportBatch is how many events ExportAudit reads at a time.
const auditExportBatch = 500

// ExportAudit calls fn with every event the scope may see that the filter
// selects, newest first, whatever the filter's cursor. It reads in batches
// and holds no query open while fn runs, so a slow reader of the export
// never keeps a read transaction open.
func (db *DB) ExportAudit(ctx context.Context, scope keyport.AuditScope, f AuditFilter, fn func(keyport.AuditEvent) error) error {
	var before Cursor
	for {
		batch, err := db.auditBatch(ctx, scope, f, before, true, auditExportBatch)
		if err != nil {
			return err
		}
		for _, e := range batch {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(batch) < auditExportBatch {
			return nil
		}
		before = auditCursor(batch[len(batch)-1])
	}
}

// AuditActions returns the distinct actions among the events the scope may see, in order.
// It hops through the index from one action to the next rather than reading every event.
func (db *DB) AuditActions(ctx context.Context, scope keyport.AuditScope) ([]string, error) {
	merchant, args := "", []any{}
	if !scope.All {
		merchant, args = "merchant_id = $1 AND ", []any{scope.MerchantID}
	}
	rows, err := db.query(ctx, `WITH RECURSIVE actions (action) AS (
			SELECT min(action) FROM audit_events WHERE `+merchant+`action > ''
			UNION ALL
			SELECT (SELECT min(action) FROM audit_events WHERE `+merchant+`action > actions.action)
			FROM actions WHERE actions.action IS NOT NULL)
		SELECT action FROM actions WHERE action IS NOT NULL`, args...)
	return collect(rows, err, func(row scanner) (string, error) {
		var a string
		return a, row.Scan(&a)
	})
}

// AuditAccounts returns every API account of the merchant for the audit log's
// account filter, deleted ones included (after the others), oldest first.
func (db *DB) AuditAccounts(ctx context.Context, merchantID int64) ([]keyport.AuditAccount, error) {
	rows, err := db.query(ctx, `SELECT id, name, deleted_at IS NOT NULL FROM api_accounts
		WHERE merchant_id = $1 ORDER BY deleted_at IS NOT NULL, id`, merchantID)
	return collect(rows, err, func(row scanner) (keyport.AuditAccount, error) {
		var a keyport.AuditAccount
		return a, row.Scan(&a.ID, &a.Name, &a.Deleted)
	})
}
