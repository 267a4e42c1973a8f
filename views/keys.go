package views

import (
	"fmt"
	"net/url"
	"time"

	"keyport"
	"keyport/store"
)

// KeysView is what the Developer keys tab of an account shows.
type KeysView struct {
	Tab       store.KeysTab
	Now       time.Time
	CSRF      string
	CanManage bool
	// Reply holds the submitted reply and its error for one request's reply box.
	ReplyTo int64
	Reply   Form
}

// Base is the URL of the account's keys tab.
func (v KeysView) Base() string { return KeysURL(v.Tab.Account.ID) }

// AccountURL is the URL prefix of the account.
func (v KeysView) AccountURL() string { return AccountURL(v.Tab.Account.ID) }

// keyList is one of the lists of the Developer keys tab that page on their
// own: a section's current keys or its revoked keys.
type keyList struct {
	mode    keyport.Mode
	revoked bool
}

// keyLists are every list of the tab, in the order their parameters are written.
var keyLists = []keyList{{keyport.ModeLive, false}, {keyport.ModeLive, true}, {keyport.ModeTest, false}, {keyport.ModeTest, true}}

func (l keyList) params() PageParams {
	if l.revoked {
		return RevokedPageParams(l.mode)
	}
	return CurrentPageParams(l.mode)
}

func (v KeysView) request(l keyList) store.PageRequest {
	m := v.Tab.Section(l.mode)
	if l.revoked {
		return m.RevokedRequest
	}
	return m.CurrentRequest
}

// pageQuery keeps every list's page, with the page of the list changed
// replaced by page.
func (v KeysView) pageQuery(changed keyList, page store.PageRequest) url.Values {
	q := url.Values{}
	for _, l := range keyLists {
		req := v.request(l)
		if l == changed {
			req = page
		}
		q, _ = url.ParseQuery(l.params().Link(q, req))
	}
	return q
}

func (v KeysView) pageURL(changed keyList, page store.PageRequest) string {
	q := v.pageQuery(changed, page)
	u := v.Base()
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	return u + "#keys-" + string(changed.mode)
}

// CurrentPageURL links to the tab with another page of a mode's current keys.
func (v KeysView) CurrentPageURL(mode keyport.Mode, page store.PageRequest) string {
	return v.pageURL(keyList{mode, false}, page)
}

// RevokedPageURL links to the tab with another page of a mode's revoked keys.
func (v KeysView) RevokedPageURL(mode keyport.Mode, page store.PageRequest) string {
	return v.pageURL(keyList{mode, true}, page)
}

// SectionURL is where htmx reloads one section from, on the pages it shows.
func (v KeysView) SectionURL(mode keyport.Mode) string {
	q := v.pageQuery(keyList{}, store.PageRequest{})
	q.Set("mode", string(mode))
	return v.Base() + "/section?" + q.Encode()
}

// ModeTitle is a mode's section heading.
func ModeTitle(m keyport.Mode) string {
	if m == keyport.ModeLive {
		return "Live keys"
	}
	return "Test keys"
}

// CapLabel is the disabled button's text at the cap.
func CapLabel(capacity int) string { return fmt.Sprintf("Max of %d tokens reached", capacity) }

// KeyStatusBadge returns the label and CSS class of a key's status badge.
func KeyStatusBadge(k keyport.APIKey, now time.Time) (string, string) {
	switch k.StatusAt(now) {
	case keyport.KeyRevoked:
		return "Revoked", "badge badge-danger"
	case keyport.KeyExpired:
		return "Expired", "badge badge-muted"
	}
	if !k.RolledAt.IsZero() {
		return "Expires in " + Until(k.ExpiresAt, now), "badge badge-warn"
	}
	return "Active", "badge badge-ok"
}

// Until says how long from now until t, rounded, for people: "1 hour", "3 days".
func Until(t, now time.Time) string {
	d := t.Sub(now)
	minutes := int(d.Round(time.Minute) / time.Minute)
	switch {
	case minutes < 1:
		return "less than a minute"
	case minutes < 60:
		return plural(minutes, "minute")
	case d.Round(time.Hour) < 24*time.Hour:
		return plural(int(d.Round(time.Hour)/time.Hour), "hour")
	}
	return plural(int(d.Round(24*time.Hour)/(24*time.Hour)), "day")
}

// RollForm is the "Roll key" dialog's data.
type RollForm struct {
	Frame
	Action string
	CSRF   string
	Form   Form
	Key    keyport.APIKey
	// From is "tokens" when the dialog was opened from the Keys & Tokens pop-up.
	From string
}

// RequestBadgeClass is the CSS class of a live key request's state badge.
func RequestBadgeClass(s keyport.RequestState) string {
	switch s {
	case keyport.RequestApproved, keyport.RequestIssued:
		return "badge badge-ok"
	case keyport.RequestNeedsInfo:
		return "badge badge-warn"
	case keyport.RequestRejected:
		return "badge badge-danger"
	case keyport.RequestCancelled:
		return "badge badge-muted"
	}
	return "badge badge-info"
}

// KeyForm is the data of the form that creates a test token: "Generate Token"
// on the Developer keys tab, "Create Token" in the Keys & Tokens pop-up.
type KeyForm struct {
	Frame
	Action string
	CSRF   string
	Form   Form
	// From is "tokens" when the form was opened from the Keys & Tokens pop-up.
	From string
	// Submit is the label of the submit button.
	Submit string
}

// RevealedKey is a new key shown once.
type RevealedKey struct {
	Frame
	Name      string
	Mode      keyport.Mode
	Type      keyport.KeyType
	Plaintext string
	// Intro is an optional line above the key, such as "API account created".
	Intro string
	// Reopen makes Done load Back into the modal instead of closing it.
	Reopen bool
	// Reload makes Done load Back as a whole page.
	Reload bool
}

// ManageView is the data of the key list with remove actions: "Manage Your
// Tokens" for one mode, or the "Keys & Tokens" pop-up when Mode is empty.
type ManageView struct {
	Frame
	Account keyport.APIAccount
	Mode    keyport.Mode
	// Keys is the page of current keys shown, asked for by Page.
	Keys store.Page[keyport.APIKey]
	Page store.PageRequest
	Now  time.Time
	CSRF string
	// Removed names the token just removed, for the confirmation line.
	Removed string
	// CanManage shows the remove and create actions.
	CanManage bool
	// TestSlots is the account's use of the token cap in test mode.
	TestSlots keyport.CapStatus
}

// AllModes reports whether the list is the Keys & Tokens pop-up of every mode.
func (m ManageView) AllModes() bool { return m.Mode == "" }

// PageURL links to another page of the list, shown in the pop-up.
func (m ManageView) PageURL(req store.PageRequest) string {
	return ManageURL(m.Account.ID, m.Mode, req)
}

// PageField is the hidden field of the remove forms that brings the pop-up
// back on the page it was left from; an empty name on the first page.
func (m ManageView) PageField() (name, value string) { return DefaultPageParams.Field(m.Page) }

// RemoveURL is the confirmation of removing the key id, which brings the
// pop-up back on this view and page.
func (m ManageView) RemoveURL(id int64) string {
	q := url.Values{"from": {m.From()}}
	if name, value := m.PageField(); name != "" {
		q.Set(name, value)
	}
	return KeyURL(m.Account.ID, id) + "/revoke?" + q.Encode()
}

// From is the value of the "from" field of a removal, naming the view to come back to.
func (m ManageView) From() string {
	if m.AllModes() {
		return "tokens"
	}
	return string(m.Mode)
}

// ModeBadgeClass is the CSS class of a key's mode badge.
func ModeBadgeClass(m keyport.Mode) string {
	if m == keyport.ModeLive {
		return "badge badge-warn"
	}
	return "badge badge-info"
}

// RequestForm is the "Request Live Token" dialog's data.
type RequestForm struct {
	Frame
	Action string
	CSRF   string
	Form   Form
}

// requestsWhere returns the requests whose state is closed or not, in order.
func requestsWhere(list []keyport.LiveKeyRequest, closed bool) []keyport.LiveKeyRequest {
	var out []keyport.LiveKeyRequest
	for _, r := range list {
		if r.State.Closed() == closed {
			out = append(out, r)
		}
	}
	return out
}
