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
	var msg string
	if f.From, msg = parseAuditDate(q.Get("from"), "Start date"); msg != "" {
		v.Add("from", msg)
	}
	if f.To, msg = parseAuditDate(q.Get("to"), "End date"); msg != "" {
		v.Add("to", msg)
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.From.After(f.To) {
		v.Add("to", "The end date must be on or after the start date.")
	}
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

func parseAuditDate(s, label string) (time.Time, string) {
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

// csvCell makes a value safe to open in a spreadsheet: a cell that starts with
// a character spreadsheets read as a formula (= + - @, tab or carriage return)
// gets a leading apostrophe, so it is shown as text and never evaluated.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
