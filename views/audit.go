package views

import (
	"slices"
	"strconv"
	"time"

	"keyport"
	"keyport/store"
)

// AuditView is what the audit log page shows.
type AuditView struct {
	Page store.AuditPage
	// Admin adds the merchant filter and column: admins see every merchant's events.
	Admin bool
	// Actions are the actions offered by the action filter.
	Actions []string
	// Accounts are the API accounts offered by the account filter: the
	// merchant's, or for admins those of the merchant they chose.
	Accounts []keyport.AuditAccount
	// Merchants are offered to admins by the merchant filter.
	Merchants []keyport.MerchantSummary
	// Form holds the submitted filter values and the message of each bad one.
	Form Form
}

// AuditURL is the audit log page.
const AuditURL = "/audit"

// AuditExportURL is the CSV export of the audit log.
const AuditExportURL = "/audit/export.csv"

// Invalid reports whether the filter has a bad value, so no events are listed.
func (v AuditView) Invalid() bool { return v.Form.HasErrors() }

// ShowAccounts reports whether the account filter is offered: always to a
// merchant's users, to admins once they chose a merchant.
func (v AuditView) ShowAccounts() bool {
	return !v.Admin || v.Page.Filter.MerchantID != 0
}

// ActionChoices are the action filter's options, with the filter's own action
// even when no event has it.
func (v AuditView) ActionChoices() []Choice {
	out := []Choice{{"", "All actions"}}
	actions := v.Actions
	if a := v.Form.Get("action"); a != "" && !slices.Contains(actions, a) {
		actions = append(slices.Clone(actions), a)
	}
	for _, a := range actions {
		out = append(out, Choice{a, keyport.AuditActionLabel(a)})
	}
	return out
}

// MerchantChoices are the admins' merchant filter options.
func (v AuditView) MerchantChoices() []Choice {
	out := []Choice{{"", "All merchants"}, {"platform", "Platform (no merchant)"}}
	for _, m := range v.Merchants {
		out = append(out, Choice{strconv.FormatInt(m.ID, 10), m.Name})
	}
	return out
}

// AccountChoices are the account filter options, deleted accounts marked.
func (v AuditView) AccountChoices() []Choice {
	out := []Choice{{"", "All accounts"}}
	for _, a := range v.Accounts {
		out = append(out, Choice{strconv.FormatInt(a.ID, 10), AccountLabel(a)})
	}
	return out
}

// AccountLabel names an account in the account filter, marking deleted ones.
func AccountLabel(a keyport.AuditAccount) string {
	if a.Deleted {
		return a.Name + " (deleted)"
	}
	return a.Name
}

// withQuery is base with the filter's query and the page req's cursor, if any.
func (v AuditView) withQuery(base string, req store.PageRequest) string {
	if q := DefaultPageParams.Link(AuditQuery(v.Page.Filter), req); q != "" {
		return base + "?" + q
	}
	return base
}

// CurrentURL is this page of the filter, in the same form as the page's links.
func (v AuditView) CurrentURL() string { return v.withQuery(AuditURL, v.Page.Filter.Page) }

// FirstURL is the first page of the same filter.
func (v AuditView) FirstURL() string { return v.withQuery(AuditURL, store.PageRequest{}) }

// NewerURL is the page of newer events of the same filter.
func (v AuditView) NewerURL() string { return v.withQuery(AuditURL, v.Page.Prev) }

// OlderURL is the page of older events of the same filter.
func (v AuditView) OlderURL() string { return v.withQuery(AuditURL, v.Page.Next) }

// ExportURL downloads every event of the same filter as CSV.
func (v AuditView) ExportURL() string { return v.withQuery(AuditExportURL, store.PageRequest{}) }

// Filtered reports whether any filter is set.
func (v AuditView) Filtered() bool { return len(AuditQuery(v.Page.Filter)) > 0 }

// AuditTime is an event's time to the second, in UTC.
func AuditTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// MerchantLabel names an event's merchant for admins; platform events have none.
func MerchantLabel(e keyport.AuditEvent) string {
	if e.MerchantID == 0 {
		return "Platform"
	}
	return e.MerchantName
}
