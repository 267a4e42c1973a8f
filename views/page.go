// Package views holds the templ components that render Keyport's HTML: the
// layout, the pages and the fragments htmx swaps.
package views

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"keyport"
)

// Page is what the layout needs around any page body.
type Page struct {
	Title   string
	User    *keyport.User
	CSRF    string
	Flashes []Flash
	// Nav is the href of the navigation entry to mark as current.
	Nav string
	// PendingRequests is the number of live key requests waiting for the API team
	// (admins only), counted up to QueueCountLimit.
	PendingRequests int
}

// PendingLabel is PendingRequests for the navigation badge: "51", or "1000+" at the limit.
func (p Page) PendingLabel() string {
	if p.PendingRequests >= QueueCountLimit {
		return strconv.Itoa(QueueCountLimit) + "+"
	}
	return strconv.Itoa(p.PendingRequests)
}

// Flash is a notice shown at the top of a page: a one-time flash, or a
// request's notice that stays until it is dismissed.
type Flash struct {
	// Kind is "success", "info" or "error".
	Kind    string
	Message string
	// Dismiss, when set, makes the notice's close button a form that ends the
	// notice on the server; otherwise the button only hides it in the browser.
	Dismiss *Dismiss
}

// Dismiss is the form that ends a notice on the server.
type Dismiss struct {
	// Action is the URL the form posts to.
	Action string
	CSRF   string
	// Back is the path of the page to return to after a plain (non-htmx) post.
	Back string
}

// NavItem is one entry of the main navigation.
type NavItem struct {
	Label string
	Href  string
}

// Nav returns the navigation entries the user's role may open.
func Nav(u *keyport.User) []NavItem {
	if u == nil {
		return nil
	}
	if u.IsAdmin() {
		return []NavItem{{"Live key requests", "/admin/requests"}, {"Merchants", "/admin/merchants"}, {"Find a key", KeyFinderURL},
			{"Audit log", AuditURL}, {"Outbox", "/admin/outbox"}, {"Settings", "/admin/settings"}}
	}
	items := []NavItem{{"API Accounts", "/accounts"}, {"API secrets", "/secrets"}, {"Webhooks", "/webhooks"}}
	if u.Role == keyport.RoleOwner {
		items = append(items, NavItem{"Team", "/team"})
	}
	if u.Role.CanReadAudit() {
		items = append(items, NavItem{"Audit log", AuditURL})
	}
	return append(items, NavItem{"API docs", "/docs/api"})
}

// Form carries submitted values and per-field errors back into a re-rendered form.
type Form struct {
	Values map[string]string
	Errors map[string]string
}

// Get returns the submitted value of a field.
func (f Form) Get(name string) string { return f.Values[name] }

// Err returns the error message of a field, or "".
func (f Form) Err(name string) string { return f.Errors[name] }

// HasErrors reports whether any field has an error.
func (f Form) HasErrors() bool { return len(f.Errors) > 0 }

func csrfHeaders(token string) string {
	b, _ := json.Marshal(map[string]string{"X-CSRF-Token": token})
	return string(b)
}

const htmxConfig = `{"allowEval":false,"allowScriptTags":false,"includeIndicatorStyles":false,"historyCacheSize":0,"refreshOnHistoryMiss":true,"selfRequestsOnly":true,` +
	`"responseHandling":[{"code":"204","swap":false},{"code":"[23]..","swap":true},{"code":"422","swap":true},{"code":"[45]..","swap":true,"error":true}]}`

// DateTime formats a time as an absolute UTC date and time.
func DateTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// Ago formats how long before now a time was, for people: "3 minutes ago".
func Ago(t, now time.Time) string {
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return plural(int(d/time.Minute), "minute") + " ago"
	case d < 24*time.Hour:
		return plural(int(d/time.Hour), "hour") + " ago"
	case d < 60*24*time.Hour:
		return plural(int(d/(24*time.Hour)), "day") + " ago"
	}
	return t.UTC().Format("2 Jan 2006")
}

func plural(n int, unit string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", unit)
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// PasswordRules is the one statement of the password rules that every form
// choosing a password shows, the same as keyport.CheckPassword enforces.
const PasswordRules = "12 to 128 characters. Common or breached passwords, and passwords containing your name, email or merchant's name, are refused."

// Count writes n of unit in English: "1 test key", "3 test keys".
func Count(n int, unit string) string { return plural(n, unit) }

// ModeLabel is a key mode as badges show it: "Test" or "Live".
func ModeLabel(m keyport.Mode) string {
	if m == "" {
		return ""
	}
	return strings.ToUpper(string(m[:1])) + string(m[1:])
}

func itoa(n int64) string { return fmt.Sprint(n) }

// CallCount says how many API calls a key has made, such as "1 call" or "42 calls".
func CallCount(n int64) string {
	if n == 1 {
		return "1 call"
	}
	return fmt.Sprintf("%d calls", n)
}
