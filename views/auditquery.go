package views

import (
	"net/url"
	"strconv"

	"keyport"
	"keyport/store"
)

// AuditQuery writes an audit filter back as the audit log's query parameters, without the cursor.
func AuditQuery(f store.AuditFilter) url.Values {
	q := url.Values{}
	switch {
	case f.Platform:
		q.Set("merchant", "platform")
	case f.MerchantID != 0:
		q.Set("merchant", strconv.FormatInt(f.MerchantID, 10))
	}
	if f.AccountID != 0 {
		q.Set("account", strconv.FormatInt(f.AccountID, 10))
	}
	if f.Actor != "" {
		q.Set("actor", f.Actor)
	}
	if f.Action != "" {
		q.Set("action", f.Action)
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(keyport.AuditDateLayout))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(keyport.AuditDateLayout))
	}
	return q
}
