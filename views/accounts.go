package views

import (
	"net/url"
	"time"

	"keyport"
	"keyport/store"
)

// AccountsView is what the API Accounts page shows.
type AccountsView struct {
	Accounts  []keyport.AccountSummary
	CanManage bool
}

// AccountView is what an API account's own page shows: the account, its
// counts and the actions the user's role allows.
type AccountView struct {
	Account   keyport.AccountSummary
	Now       time.Time
	CSRF      string
	CanManage bool
}

// AccountForm is the data of the "Create New API Account" and delete dialogs.
type AccountForm struct {
	Frame
	CSRF    string
	Form    Form
	Account keyport.APIAccount
}

// ShipmentsPageURL links to the page req of an account's shipments of a mode.
func ShipmentsPageURL(accountID int64, mode keyport.Mode, req store.PageRequest) string {
	q := url.Values{"mode": {string(mode)}}
	return ShipmentsURL(accountID) + "?" + DefaultPageParams.Link(q, req)
}

// ModeTitleShort is a mode's name for tabs: "Test" or "Live".
func ModeTitleShort(m keyport.Mode) string {
	if m == keyport.ModeLive {
		return "Live"
	}
	return "Test"
}

// shipmentStatuses gives each shipment status its label and badge class.
var shipmentStatuses = map[string]struct{ label, class string }{
	keyport.ShipmentCreated:   {"Label created", "badge"},
	keyport.ShipmentInTransit: {"In transit", "badge badge-info"},
	keyport.ShipmentDelivered: {"Delivered", "badge badge-ok"},
	keyport.ShipmentCancelled: {"Cancelled", "badge badge-muted"},
}

// ShipmentStatusLabel is a status for people; an unknown status is shown as stored.
func ShipmentStatusLabel(status string) string {
	if s, ok := shipmentStatuses[status]; ok {
		return s.label
	}
	return status
}

// ShipmentBadgeClass is the CSS class of a shipment's status badge.
func ShipmentBadgeClass(status string) string {
	if s, ok := shipmentStatuses[status]; ok {
		return s.class
	}
	return "badge"
}
