package views

import (
	"slices"
	"time"

	"github.com/a-h/templ"

	"keyport"
)

// WebhooksView is the list of a merchant's webhook endpoints.
type WebhooksView struct {
	Endpoints []keyport.WebhookEndpoint
	CanManage bool
}

// WebhookFormView is the form that adds or changes an endpoint; Endpoint is
// nil when it adds one.
type WebhookFormView struct {
	Endpoint *keyport.WebhookEndpoint
	Form     Form
	// Events are the checked event types.
	Events []keyport.WebhookEventType
	CSRF   string
}

// Checked reports whether the form has event type t checked.
func (v WebhookFormView) Checked(t keyport.WebhookEventType) bool {
	return slices.Contains(v.Events, t)
}

// WebhookView is one endpoint: its settings, its signing secret when just
// created or rolled, and its delivery log.
type WebhookView struct {
	Endpoint   keyport.WebhookEndpoint
	Deliveries []keyport.WebhookDelivery
	// Secret is the signing secret, set only on the answer that created or rolled it.
	Secret    string
	CanManage bool
	CSRF      string
	Now       time.Time
	// Note is a notice of what was just done.
	Note string
	// GraceError says why the roll form was refused.
	GraceError string
}

// WebhookURL is the path of one endpoint's page.
func WebhookURL(id int64) string { return "/webhooks/" + itoa(id) }

// deliveryStateLabel names a delivery's state for people.
func deliveryStateLabel(d keyport.WebhookDelivery) string {
	switch d.State {
	case keyport.WebhookSucceeded:
		return "Delivered"
	case keyport.WebhookFailed:
		return "Failed"
	}
	if d.Attempts > 0 {
		return "Retrying"
	}
	return "Pending"
}

func deliveryBadge(s keyport.WebhookDeliveryState) string {
	switch s {
	case keyport.WebhookSucceeded:
		return "badge badge-ok"
	case keyport.WebhookFailed:
		return "badge badge-danger"
	}
	return "badge badge-muted"
}

// attemptStatus is an attempt's outcome in a few characters: its HTTP status, or "No answer".
func attemptStatus(a keyport.WebhookAttempt) string {
	if a.Status == 0 {
		return "No answer"
	}
	return "HTTP " + itoa(int64(a.Status))
}

// errorDescribedBy links a group of fields to its error message, when it has one.
func errorDescribedBy(f Form, name string) templ.Attributes {
	if f.Err(name) == "" {
		return templ.Attributes{}
	}
	return templ.Attributes{"aria-describedby": "f-" + name + "-error"}
}
