package web

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// parseAuditFilter reads the audit log's query parameters: merchant ("platform"
// or an id), account, actor, action, from and to (YYYY-MM-DD), and the cursor
// (before or after). Bad values come back as a ValidationError keyed by the
// parameter, alongside the filter of the values that were good; a bad cursor
// is ignored, leading to the first page.
func parseAuditFilter(q url.Values) (store.AuditFilter, error) {
	var f store.AuditFilter
	var v keyport.ValidationError
	switch m := strings.TrimSpace(q.Get("merchant")); m {
	case "":
	case "platform":
		f.Platform = true
	default:
		if f.MerchantID = positiveID(m); f.MerchantID == 0 {
			v.Add("merchant", "Choose a merchant from the list.")
		}
	}
	if a := strings.TrimSpace(q.Get("account")); a != "" {
		if f.AccountID = positiveID(a); f.AccountID == 0 {
			v.Add("account", "Choose an API account from the list.")
		}
	}
	f.Actor = strings.TrimSpace(q.Get("actor"))
	if msg := checkFilterText(f.Actor, "Actor"); msg != "" {
		v.Add("actor", msg)
		f.Actor = ""
	}
	f.Action = strings.TrimSpace(q.Get("action"))
	if msg := checkFilterText(f.Action, "Action"); msg != "" {
		v.Add("action", msg)
		f.Action = ""
	}
	f.From, f.To = parseDayRange(q, &v)
	f.Page = views.DefaultPageParams.Parse(q)
	return f, v.OrNil()
}

func positiveID(s string) int64 {
	id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || id <= 0 {
		return 0
	}
	return id
}

func checkFilterText(s, label string) string {
	switch {
	case !keyport.CleanText(s, false):
		return label + " contains characters that are not allowed."
	case utf8.RuneCountInString(s) > 200:
		return label + " must be at most 200 characters."
	}
	return ""
}

// parseDayRange reads the "from" and "to" parameters of a filter: UTC days
// written YYYY-MM-DD, both included, zero when left empty. A bad date, or an
// end before the start, is added to v under the parameter's name.
func parseDayRange(q url.Values, v *keyport.ValidationError) (from, to time.Time) {
	var msg string
	if from, msg = parseDay(q.Get("from"), "Start date"); msg != "" {
		v.Add("from", msg)
	}
	if to, msg = parseDay(q.Get("to"), "End date"); msg != "" {
		v.Add("to", msg)
	}
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		v.Add("to", "The end date must be on or after the start date.")
	}
	return from, to
}

func parseDay(s, label string) (time.Time, string) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, ""
	}
	t, err := time.Parse(keyport.AuditDateLayout, s)
	if err != nil {
		return time.Time{}, label + " must be a date written as YYYY-MM-DD, such as 2024-03-31."
	}
	return t, ""
}
