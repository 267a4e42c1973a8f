package store

import (
	"context"
	"slices"
	"strings"

	"keyport"
)

// auditColumns are an event's columns, its merchant's name and the name of the
// API account its object belongs to, in the order scanAuditEvent reads them.
const auditColumns = `e.id, e.at, coalesce(e.merchant_id, 0), coalesce(m.name, ''), e.actor, e.ip, e.action,
	e.object_type, coalesce(e.object_id, 0), e.detail,
	coalesce((SELECT a.name FROM api_accounts a WHERE a.id = CASE e.object_type
		WHEN 'api_account' THEN e.object_id
		WHEN 'api_key' THEN (SELECT k.account_id FROM api_keys k WHERE k.id = e.object_id)
		WHEN 'registered_auth' THEN (SELECT r.account_id FROM registered_auths r WHERE r.id = e.object_id)
		WHEN 'live_key_request' THEN (SELECT q.account_id FROM live_key_requests q WHERE q.id = e.object_id)
		WHEN 'shipment' THEN (SELECT s.account_id FROM shipments s WHERE s.id = e.object_id)
	END), '')`

const auditFrom = ` FROM audit_events e LEFT JOIN merchants m ON m.id = e.merchant_id`

// auditAccountClause selects the events about one API account and about the
// keys, registered auths, live key requests and shipments that belong to it.
// Each branch reads the events' object index, so an account's events are found
// without reading the rest of the merchant's log. It takes the account id five times.
const auditAccountClause = `e.id IN (
	SELECT id FROM audit_events WHERE object_type = 'api_account' AND object_id = ?
	UNION ALL SELECT id FROM audit_events WHERE object_type = 'api_key'
		AND object_id IN (SELECT id FROM api_keys WHERE account_id = ?)
	UNION ALL SELECT id FROM audit_events WHERE object_type = 'registered_auth'
		AND object_id IN (SELECT id FROM registered_auths WHERE account_id = ?)
	UNION ALL SELECT id FROM audit_events WHERE object_type = 'live_key_request'
		AND object_id IN (SELECT id FROM live_key_requests WHERE account_id = ?)
	UNION ALL SELECT id FROM audit_events WHERE object_type = 'shipment'
		AND object_id IN (SELECT id FROM shipments WHERE account_id = ?))`

func scanAuditEvent(row scanner) (keyport.AuditEvent, error) {
	var e keyport.AuditEvent
	var at int64
	err := row.Scan(&e.ID, &at, &e.MerchantID, &e.MerchantName, &e.Actor, &e.IP, &e.Action,
		&e.ObjectType, &e.ObjectID, &e.Detail, &e.AccountName)
	e.At = unixTime(at)
	return e, err
}

// auditWhere is the WHERE clause (without the word) and its arguments for the
// events a scope may see that the filter selects, cursor left out.
func auditWhere(scope keyport.AuditScope, f keyport.AuditFilter) (string, []any) {
	var where []string
	var args []any
	switch {
	case !scope.All:
		where = append(where, "e.merchant_id = ?")
		args = append(args, scope.MerchantID)
	case f.Platform:
		where = append(where, "e.merchant_id IS NULL")
	case f.MerchantID != 0:
		where = append(where, "e.merchant_id = ?")
		args = append(args, f.MerchantID)
	}
	if f.AccountID != 0 {
		where = append(where, auditAccountClause)
		args = append(args, f.AccountID, f.AccountID, f.AccountID, f.AccountID, f.AccountID)
	}
	if f.Actor != "" {
		where = append(where, `e.actor LIKE ? ESCAPE '\'`)
		args = append(args, escapeLike(f.Actor)+"%")
	}
	if f.Action != "" {
		where = append(where, "e.action = ?")
		args = append(args, f.Action)
	}
	if !f.From.IsZero() {
		where = append(where, "e.at >= ?")
		args = append(args, f.From.Unix())
	}
	if !f.To.IsZero() {
		where = append(where, "e.at < ?")
		args = append(args, f.To.AddDate(0, 0, 1).Unix())
	}
	if len(where) == 0 {
		return "1", nil
	}
	return strings.Join(where, " AND "), args
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// escapeLike makes text match itself literally in a LIKE pattern with ESCAPE '\'.
func escapeLike(s string) string { return likeEscaper.Replace(s) }

// auditBatch returns up to limit events of the scope and filter, newest first,
// older than before (when not zero).
func (db *DB) auditBatch(ctx context.Context, scope keyport.AuditScope, f keyport.AuditFilter, before int64, limit int) ([]keyport.AuditEvent, error) {
	where, args := auditWhere(scope, f)
	if before != 0 {
		where += " AND e.id < ?"
		args = append(args, before)
	}
	rows, err := db.query(ctx, `SELECT `+auditColumns+auditFrom+` WHERE `+where+` ORDER BY e.id DESC LIMIT ?`, append(args, limit)...)
	return collect(rows, err, scanAuditEvent)
}

// auditExists reports whether an event of the scope and filter lies beyond id: newer when newer is true, older otherwise.
func (db *DB) auditExists(ctx context.Context, scope keyport.AuditScope, f keyport.AuditFilter, id int64, newer bool) (bool, error) {
	where, args := auditWhere(scope, f)
	if newer {
		where += " AND e.id > ?"
	} else {
		where += " AND e.id < ?"
	}
	var ok bool
	err := db.queryRow(ctx, `SELECT EXISTS (SELECT 1 FROM audit_events e WHERE `+where+`)`, append(args, id)...).Scan(&ok)
	return ok, err
}

// AuditEvents returns one page of the events the scope may see that the
// filter selects, newest first: the first page, or the page before or after
// the filter's cursor.
func (db *DB) AuditEvents(ctx context.Context, scope keyport.AuditScope, f keyport.AuditFilter) (keyport.AuditPage, error) {
	out := keyport.AuditPage{Filter: f}
	var err error
	if f.After != 0 {
		where, args := auditWhere(scope, f)
		rows, qerr := db.query(ctx, `SELECT `+auditColumns+auditFrom+` WHERE `+where+` AND e.id > ? ORDER BY e.id LIMIT ?`,
			append(args, f.After, keyport.AuditPerPage+1)...)
		out.Events, err = collect(rows, qerr, scanAuditEvent)
		if err != nil {
			return out, err
		}
		if len(out.Events) > keyport.AuditPerPage {
			out.Newer = true
			out.Events = out.Events[:keyport.AuditPerPage]
		}
		slices.Reverse(out.Events)
		if n := len(out.Events); n > 0 {
			out.Older, err = db.auditExists(ctx, scope, f, out.Events[n-1].ID, false)
		}
		return out, err
	}
	out.Events, err = db.auditBatch(ctx, scope, f, f.Before, keyport.AuditPerPage+1)
	if err != nil {
		return out, err
	}
	if len(out.Events) > keyport.AuditPerPage {
		out.Older = true
		out.Events = out.Events[:keyport.AuditPerPage]
	}
	if f.Before != 0 && len(out.Events) > 0 {
		out.Newer, err = db.auditExists(ctx, scope, f, out.Events[0].ID, true)
	}
	return out, err
}

// auditExportBatch is how many events ExportAudit reads at a time.
const auditExportBatch = 500

// ExportAudit calls fn with every event the scope may see that the filter
// selects, newest first, whatever the filter's cursor. It reads in batches
// and holds no query open while fn runs, so a slow reader of the export
// never keeps a read transaction open.
func (db *DB) ExportAudit(ctx context.Context, scope keyport.AuditScope, f keyport.AuditFilter, fn func(keyport.AuditEvent) error) error {
	var before int64
	for {
		batch, err := db.auditBatch(ctx, scope, f, before, auditExportBatch)
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
		before = batch[len(batch)-1].ID
	}
}

// AuditActions returns the distinct actions among the events the scope may see, in order.
// It hops through the index from one action to the next rather than reading every event.
func (db *DB) AuditActions(ctx context.Context, scope keyport.AuditScope) ([]string, error) {
	merchant, args := "", []any{}
	if !scope.All {
		merchant, args = "merchant_id = ?1 AND ", []any{scope.MerchantID}
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
		WHERE merchant_id = ? ORDER BY deleted_at IS NOT NULL, id`, merchantID)
	return collect(rows, err, func(row scanner) (keyport.AuditAccount, error) {
		var a keyport.AuditAccount
		return a, row.Scan(&a.ID, &a.Name, &a.Deleted)
	})
}
