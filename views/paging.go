package views

import (
	"net/url"

	"keyport"
	"keyport/store"
)

// PageParams are the names of the query parameters that carry a list's cursor.
type PageParams struct {
	Before, After string
}

// DefaultPageParams are the parameters of a page that holds one list.
var DefaultPageParams = PageParams{Before: "before", After: "after"}

// Parse reads the page request from q; before wins over after, and a malformed
// cursor asks for the first page.
func (p PageParams) Parse(q url.Values) store.PageRequest {
	if c := store.ParseCursor(q.Get(p.Before)); !c.IsZero() {
		return store.PageRequest{Cursor: c, Before: true}
	}
	return store.PageRequest{Cursor: store.ParseCursor(q.Get(p.After))}
}

// Link is q with the parameter of the page req, replacing any other cursor of
// these parameters, written as a query string.
func (p PageParams) Link(q url.Values, req store.PageRequest) string {
	out := url.Values{}
	for k, v := range q {
		if k != p.Before && k != p.After {
			out[k] = v
		}
	}
	if name, value := p.Field(req); name != "" {
		out.Set(name, value)
	}
	return out.Encode()
}

// Field is the parameter that carries the page req: its name and value, or
// an empty name for the first page.
func (p PageParams) Field(req store.PageRequest) (name, value string) {
	switch {
	case req.Cursor.IsZero():
		return "", ""
	case req.Before:
		return p.Before, req.Cursor.String()
	}
	return p.After, req.Cursor.String()
}

// RevokedPageParams are the query parameters that carry the Developer keys
// tab's page of revoked keys of a mode, one pair per section.
func RevokedPageParams(m keyport.Mode) PageParams {
	return PageParams{Before: string(m) + "_before", After: string(m) + "_after"}
}

// CurrentPageParams are the query parameters that carry the Developer keys
// tab's page of current keys of a mode, one pair per section.
func CurrentPageParams(m keyport.Mode) PageParams {
	return PageParams{Before: string(m) + "_keys_before", After: string(m) + "_keys_after"}
}

// The page sizes of the lists the pages show, and how far their totals are
// counted. Store's list queries take them as parameters.
const (
	// AuditPerPage is how many events one page of the audit log lists.
	AuditPerPage = 50
	// SecretsPerPage is how many keys one page of the API secrets page lists.
	SecretsPerPage = 50
	// ShipmentsPerPage is how many shipments one page of an account's Shipments lists.
	ShipmentsPerPage = 50
	// CurrentPerPage is how many current (active and expired) keys one page
	// of the Developer keys tab and of the key pop-ups lists.
	CurrentPerPage = 20
	// RevokedPerPage is how many revoked keys one page of the Developer keys tab lists.
	RevokedPerPage = 20
	// RevokedCountLimit is the most revoked keys the Developer keys tab counts exactly.
	RevokedCountLimit = 10 * RevokedPerPage
	// QueuePerPage is how many requests one page of the approval queue lists.
	QueuePerPage = 50
	// QueueCountLimit is the most requests the approval queue and the
	// navigation badge count exactly, so that counting costs the same however
	// long the queue grows.
	QueueCountLimit = 1000
)

// PagerLink is the Previous or Next link of a pager; one not Shown is left out.
type PagerLink struct {
	Shown bool
	URL   string
	// Title says on hover where the link goes, such as "Older events".
	Title string
}
