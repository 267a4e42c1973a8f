package views

import (
	"net/url"
	"time"

	"keyport"
	"keyport/store"
)

// ShipmentsView is what an API account's Shipments page shows.
type ShipmentsView struct {
	Account keyport.APIAccount
	Page    store.ShipmentPage
	// Form holds the submitted filter values and the message of each bad one.
	Form Form
	Now  time.Time
}

// ShipmentsQuery writes a shipment filter back as the Shipments page's query
// parameters, mode included, without the cursor.
func ShipmentsQuery(f store.ShipmentFilter) url.Values {
	q := url.Values{"mode": {string(f.Mode)}}
	if f.Tracking != "" {
		q.Set("tracking", f.Tracking)
	}
	if f.Status != "" {
		q.Set("status", f.Status)
	}
	if !f.From.IsZero() {
		q.Set("from", f.From.Format(keyport.AuditDateLayout))
	}
	if !f.To.IsZero() {
		q.Set("to", f.To.Format(keyport.AuditDateLayout))
	}
	return q
}

// ShipmentsExportURL is the CSV export of an account's shipments.
func ShipmentsExportURL(accountID int64) string { return ShipmentsURL(accountID) + "/export.csv" }

// Invalid reports whether the filter has a bad value, so no shipments are listed.
func (v ShipmentsView) Invalid() bool { return v.Form.HasErrors() }

// Filtered reports whether a filter besides the mode is set, or was typed when it is invalid.
func (v ShipmentsView) Filtered() bool {
	if v.Invalid() {
		return true
	}
	return len(ShipmentsQuery(v.Page.Filter)) > 1
}

// Mode is the mode whose shipments the page lists.
func (v ShipmentsView) Mode() keyport.Mode { return v.Page.Filter.Mode }

// ShowFilters reports whether the filter form is shown: always, except on the
// first page of a mode that has no shipment yet.
func (v ShipmentsView) ShowFilters() bool {
	return v.Filtered() || v.Page.Total > 0 || !v.Page.Filter.Page.Cursor.IsZero()
}

// withQuery is base with the filter's query and the page req's cursor, if any.
func (v ShipmentsView) withQuery(base string, req store.PageRequest) string {
	return base + "?" + DefaultPageParams.Link(ShipmentsQuery(v.Page.Filter), req)
}

// URL is the Shipments page of the account.
func (v ShipmentsView) URL() string { return ShipmentsURL(v.Account.ID) }

// CurrentURL is this page of the filter, in the same form as the page's links.
func (v ShipmentsView) CurrentURL() string { return v.withQuery(v.URL(), v.Page.Filter.Page) }

// FirstURL is the first page of the same filter.
func (v ShipmentsView) FirstURL() string { return v.withQuery(v.URL(), store.PageRequest{}) }

// NewerURL is the page of newer shipments of the same filter.
func (v ShipmentsView) NewerURL() string { return v.withQuery(v.URL(), v.Page.Prev) }

// OlderURL is the page of older shipments of the same filter.
func (v ShipmentsView) OlderURL() string { return v.withQuery(v.URL(), v.Page.Next) }

// ExportURL downloads every shipment of the same filter as CSV.
func (v ShipmentsView) ExportURL() string {
	return v.withQuery(ShipmentsExportURL(v.Account.ID), store.PageRequest{})
}

// ClearURL is the first page of the same mode without filters.
func (v ShipmentsView) ClearURL() string {
	return ShipmentsPageURL(v.Account.ID, v.Mode(), store.PageRequest{})
}

// ShipmentStatusChoices are the status filter's options.
func ShipmentStatusChoices() []Choice {
	out := []Choice{{"", "All statuses"}}
	for _, s := range keyport.ShipmentStatuses {
		out = append(out, Choice{s, ShipmentStatusLabel(s)})
	}
	return out
}
