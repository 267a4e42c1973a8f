package keyport

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WebhookEventType names what happened in an event sent to webhook endpoints.
type WebhookEventType string

// The event types a webhook endpoint can receive.
const (
	EventKeyCreated           WebhookEventType = "key.created"
	EventKeyRolled            WebhookEventType = "key.rolled"
	EventKeyRevoked           WebhookEventType = "key.revoked"
	EventKeyExpiring          WebhookEventType = "key.expiring"
	EventKeyExpired           WebhookEventType = "key.expired"
	EventKeyLeaked            WebhookEventType = "key.leaked"
	EventLiveRequestFiled     WebhookEventType = "live_request.filed"
	EventLiveRequestApproved  WebhookEventType = "live_request.approved"
	EventLiveRequestRejected  WebhookEventType = "live_request.rejected"
	EventLiveRequestNeedsInfo WebhookEventType = "live_request.needs_info"
	EventAPIAccountDisabled   WebhookEventType = "api_account.disabled"
	EventAPIAccountEnabled    WebhookEventType = "api_account.enabled"
	EventAPIAccountDeleted    WebhookEventType = "api_account.deleted"
	EventPing                 WebhookEventType = "ping"
)

// WebhookEventTypes lists the event types an endpoint may subscribe to, in
// the order the form shows them. "ping" is not among them: "Send test event"
// sends it to one endpoint whatever it subscribes to.
var WebhookEventTypes = []WebhookEventType{
	EventKeyCreated, EventKeyRolled, EventKeyRevoked, EventKeyExpiring, EventKeyExpired, EventKeyLeaked,
	EventLiveRequestFiled, EventLiveRequestApproved, EventLiveRequestRejected, EventLiveRequestNeedsInfo,
	EventAPIAccountDisabled, EventAPIAccountEnabled, EventAPIAccountDeleted,
}

// Label describes the event type for people choosing what an endpoint receives.
func (t WebhookEventType) Label() string {
	switch t {
	case EventKeyCreated:
		return "A key was created"
	case EventKeyRolled:
		return "A key was rolled"
	case EventKeyRevoked:
		return "A key was revoked"
	case EventKeyExpiring:
		return "A key expires in 7 days or in 1 day"
	case EventKeyExpired:
		return "A key expired"
	case EventKeyLeaked:
		return "A key was reported found in public"
	case EventLiveRequestFiled:
		return "A live key request was filed"
	case EventLiveRequestApproved:
		return "A live key request was approved"
	case EventLiveRequestRejected:
		return "A live key request was rejected"
	case EventLiveRequestNeedsInfo:
		return "The API team asked a question about a live key request"
	case EventAPIAccountDisabled:
		return "An API account was disabled"
	case EventAPIAccountEnabled:
		return "An API account was enabled"
	case EventAPIAccountDeleted:
		return "An API account was deleted"
	case EventPing:
		return "Test event"
	}
	return string(t)
}

// RequestEvent is the webhook event of the API team moving a live key
// request to state to, or "" when that move sends none.
func RequestEvent(to RequestState) WebhookEventType {
	switch to {
	case RequestApproved:
		return EventLiveRequestApproved
	case RequestRejected:
		return EventLiveRequestRejected
	case RequestNeedsInfo:
		return EventLiveRequestNeedsInfo
	}
	return ""
}

// WebhookSecretPrefix starts every webhook signing secret, as the Standard
// Webhooks specification writes them.
const WebhookSecretPrefix = "whsec_"

// webhookSecretBytes is the size of a signing key: 256 bits.
const webhookSecretBytes = 32

// NewWebhookSecret returns a new random signing secret: "whsec_" and the
// base64 of 32 random bytes.
func NewWebhookSecret() (string, error) {
	b := make([]byte, webhookSecretBytes)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}

// SignWebhook returns the value of the webhook-signature header of a message
// with id, sent at, with body: for each secret, "v1," and the base64
// HMAC-SHA256 of "id.timestamp.body" under the secret's key, separated by
// spaces. A malformed secret is skipped.
func SignWebhook(secrets []string, id string, at time.Time, body []byte) string {
	var sigs []string
	for _, s := range secrets {
		key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, WebhookSecretPrefix))
		if err != nil || len(key) == 0 {
			continue
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id + "." + strconv.FormatInt(at.Unix(), 10) + "."))
		mac.Write(body)
		sigs = append(sigs, "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	}
	return strings.Join(sigs, " ")
}

// WebhookTimeout bounds one delivery attempt, from connecting to the end of the answer.
const WebhookTimeout = 10 * time.Second

// WebhookDisableAfter is how long an endpoint may fail every delivery before
// it is disabled and its merchant's Owners are told: the retry period of a
// delivery, as of an email.
const WebhookDisableAfter = OutboxRetryFor

// WebhookEndpoint is a URL of a merchant that receives the events it subscribes to.
type WebhookEndpoint struct {
	ID          int64
	MerchantID  int64
	URL         string
	Description string
	Events      []WebhookEventType
	Enabled     bool
	// DisabledReason says why Keyport disabled the endpoint ("" when a person did, or when enabled).
	DisabledReason string
	// FailingSince is when the first of the endpoint's current run of failed attempts happened (zero when its last attempt succeeded).
	FailingSince time.Time
	// OldSecretUntil is when the previous signing secret stops signing (zero when there is none).
	OldSecretUntil time.Time
	CreatedAt      time.Time
	CreatedBy      string
}

// Receives reports whether the endpoint subscribes to events of type t.
func (e WebhookEndpoint) Receives(t WebhookEventType) bool { return slices.Contains(e.Events, t) }

// WebhookEndpointInput is what a merchant submits to add or change an endpoint.
type WebhookEndpointInput struct {
	URL         string
	Description string
	Events      []WebhookEventType
	Enabled     bool
}

// maxWebhookURL and maxWebhookDescription bound an endpoint's fields.
const (
	maxWebhookURL         = 2000
	maxWebhookDescription = 200
)

// Validate checks the endpoint: an absolute https URL (http too when
// allowHTTP, for development) with a host and no credentials, a short
// description, and at least one known event. It trims the fields and
// sorts the events into WebhookEventTypes' order.
func (in *WebhookEndpointInput) Validate(allowHTTP bool) error {
	var v ValidationError
	in.URL = strings.TrimSpace(in.URL)
	in.Description = strings.TrimSpace(in.Description)
	if msg := webhookURLProblem(in.URL, allowHTTP); msg != "" {
		v.Add("url", msg)
	}
	switch {
	case !CleanText(in.Description, false):
		v.Add("description", "The description contains characters that are not allowed, such as line breaks.")
	case utf8.RuneCountInString(in.Description) > maxWebhookDescription:
		v.Add("description", "Keep the description under "+strconv.Itoa(maxWebhookDescription)+" characters.")
	}
	var events []WebhookEventType
	for _, t := range WebhookEventTypes {
		if slices.Contains(in.Events, t) {
			events = append(events, t)
		}
	}
	switch {
	case len(events) != len(slices.Compact(slices.Sorted(slices.Values(in.Events)))):
		v.Add("events", "Choose among the listed events.")
	case len(events) == 0:
		v.Add("events", "Choose at least one event to receive.")
	}
	in.Events = events
	return v.OrNil()
}

func webhookURLProblem(raw string, allowHTTP bool) string {
	if raw == "" {
		return "Enter the URL that receives the events."
	}
	if len(raw) > maxWebhookURL || !CleanText(raw, false) || strings.ContainsAny(raw, " ") {
		return "Enter a valid URL of at most " + strconv.Itoa(maxWebhookURL) + " characters."
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Hostname() == "" {
		return "Enter a full URL, such as https://example.com/keyport/events."
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && allowHTTP:
	case u.Scheme == "http":
		return "Use an https:// URL: events are signed, but their content should not travel in the clear."
	default:
		return "Use an https:// URL."
	}
	if u.User != nil {
		return "Leave user names and passwords out of the URL: each event is signed instead."
	}
	if u.Fragment != "" {
		return "Leave the #fragment out of the URL."
	}
	return ""
}

// ErrWebhookTargetRefused is the delivery error of a target that resolves to
// an address deliveries may not reach.
var ErrWebhookTargetRefused = errors.New("refused: the URL resolves to a loopback, private, link-local or metadata address")

// WebhookAddressAllowed reports whether a delivery may connect to addr:
// never to an unspecified, loopback, private, link-local, multicast or
// shared (carrier-grade NAT) address, nor to the cloud metadata service,
// unless allowPrivate (for development and tests).
func WebhookAddressAllowed(addr netip.Addr, allowPrivate bool) bool {
	addr = addr.Unmap()
	if !addr.IsValid() {
		return false
	}
	if allowPrivate {
		return true
	}
	if addr.IsUnspecified() || addr.IsLoopback() || addr.IsPrivate() || addr.IsLinkLocalUnicast() ||
		addr.IsLinkLocalMulticast() || addr.IsInterfaceLocalMulticast() || addr.IsMulticast() {
		return false
	}
	for _, p := range refusedWebhookPrefixes {
		if p.Contains(addr) {
			return false
		}
	}
	return true
}

// refusedWebhookPrefixes are the ranges beyond netip's predicates that reach
// inside a platform: "this network", shared address space, the IETF
// protocol assignments, benchmarking, reserved space, NAT64 and the
// documentation ranges.
var refusedWebhookPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"),
	netip.MustParsePrefix("192.0.2.0/24"),
	netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("198.51.100.0/24"),
	netip.MustParsePrefix("203.0.113.0/24"),
	netip.MustParsePrefix("240.0.0.0/4"),
	netip.MustParsePrefix("64:ff9b::/96"),
	netip.MustParsePrefix("64:ff9b:1::/48"),
	netip.MustParsePrefix("2001:db8::/32"),
	netip.MustParsePrefix("fd00:ec2::254/128"),
}

// WebhookEndpointGivesUp is the rule that disables an endpoint: when one of
// its deliveries is given up after keyport.NextAttempt's three days of
// retries, and the endpoint has failed since that delivery's first attempt
// (failingSince, zero when its last attempt succeeded), it failed every
// attempt for WebhookDisableAfter.
func WebhookEndpointGivesUp(failingSince, firstAttempt time.Time) bool {
	return !failingSince.IsZero() && !failingSince.After(firstAttempt)
}

// WebhookDelivery is one event sent, or to be sent, to one endpoint.
type WebhookDelivery struct {
	ID         int64
	EndpointID int64
	// EventID is the event's stable identity, sent as webhook-id on every attempt.
	EventID   string
	EventType WebhookEventType
	State     WebhookDeliveryState
	Attempts  int
	CreatedAt time.Time
	// NextAttemptAt is when a pending delivery is tried next.
	NextAttemptAt time.Time
	// Log lists the attempts, oldest first (filled only where a page shows them).
	Log []WebhookAttempt
}

// WebhookDeliveryState is where a delivery stands.
type WebhookDeliveryState string

// The states of a delivery.
const (
	WebhookPending   WebhookDeliveryState = "pending"
	WebhookSucceeded WebhookDeliveryState = "succeeded"
	WebhookFailed    WebhookDeliveryState = "failed"
)

// WebhookAttempt is one try at a delivery: what the endpoint answered and how fast.
type WebhookAttempt struct {
	At time.Time
	// Status is the HTTP status of the answer, 0 when none came.
	Status   int
	Duration time.Duration
	// Excerpt is the start of the answer's body, or the error when none came.
	Excerpt string
}

// Succeeded reports whether the endpoint accepted the event: any 2xx status.
func (a WebhookAttempt) Succeeded() bool { return a.Status >= 200 && a.Status < 300 }

// WebhookExcerptLength is how much of an answer's body an attempt keeps.
const WebhookExcerptLength = 300

// WebhookMessage is a claimed delivery ready to send: the endpoint's URL,
// the secrets that sign it, and the exact body.
type WebhookMessage struct {
	DeliveryID int64
	EndpointID int64
	MerchantID int64
	EventID    string
	EventType  WebhookEventType
	URL        string
	Secrets    []string
	Body       []byte
	CreatedAt  time.Time
	Attempts   int
}
