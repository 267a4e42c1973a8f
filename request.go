package keyport

import (
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// RequestState is where a live key request stands.
type RequestState string

// The states of a live key request.
const (
	RequestPending   RequestState = "pending"
	RequestNeedsInfo RequestState = "needs_info"
	RequestApproved  RequestState = "approved"
	RequestIssued    RequestState = "issued"
	RequestRejected  RequestState = "rejected"
	RequestCancelled RequestState = "cancelled"
)

// Label is the state as shown to people.
func (s RequestState) Label() string {
	switch s {
	case RequestPending:
		return "Pending review"
	case RequestNeedsInfo:
		return "Needs information"
	case RequestApproved:
		return "Approved"
	case RequestIssued:
		return "Issued"
	case RequestRejected:
		return "Rejected"
	case RequestCancelled:
		return "Cancelled"
	}
	return string(s)
}

// Closed reports whether the request ended without a key: rejected or
// cancelled. Its card folds away under "Closed requests".
func (s RequestState) Closed() bool { return s == RequestRejected || s == RequestCancelled }

// Open reports whether the request waits for the API team.
func (s RequestState) Open() bool { return s == RequestPending || s == RequestNeedsInfo }

// NotifiesMerchant reports whether entering this state gives the merchant a
// notice (approved, rejected, a question), which stays on their pages until
// they dismiss it or the request moves on.
func (s RequestState) NotifiesMerchant() bool {
	return s == RequestApproved || s == RequestRejected || s == RequestNeedsInfo
}

// requestTransitions lists every allowed move; anything else is refused. An
// approved request may still be cancelled, by the merchant or by deleting its
// API account, which gives back the cap slot it reserved.
var requestTransitions = map[RequestState][]RequestState{
	RequestPending:   {RequestNeedsInfo, RequestApproved, RequestRejected, RequestCancelled},
	RequestNeedsInfo: {RequestPending, RequestRejected, RequestCancelled},
	RequestApproved:  {RequestIssued, RequestCancelled},
}

// CanMove reports whether a request may go from one state to another.
func CanMove(from, to RequestState) bool {
	for _, s := range requestTransitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// RequestFilter is one of the approval queue's filters: the value in its
// URL, its label, and the request states it shows.
type RequestFilter struct {
	Value, Label string
	States       []RequestState
}

// RequestFilters are the approval queue's filters, the first being the default.
var RequestFilters = []RequestFilter{
	{"open", "Waiting (pending and needs information)", []RequestState{RequestPending, RequestNeedsInfo}},
	{"pending", RequestPending.Label(), []RequestState{RequestPending}},
	{"needs_info", RequestNeedsInfo.Label(), []RequestState{RequestNeedsInfo}},
	{"approved", RequestApproved.Label(), []RequestState{RequestApproved}},
	{"issued", RequestIssued.Label(), []RequestState{RequestIssued}},
	{"rejected", RequestRejected.Label(), []RequestState{RequestRejected}},
	{"cancelled", RequestCancelled.Label(), []RequestState{RequestCancelled}},
	{"all", "All", []RequestState{RequestPending, RequestNeedsInfo, RequestApproved, RequestIssued, RequestRejected, RequestCancelled}},
}

// RequestFilterNamed returns the queue filter of a URL value, the default
// for "", and false for a value that names none.
func RequestFilterNamed(value string) (RequestFilter, bool) {
	if value == "" {
		return RequestFilters[0], true
	}
	for _, f := range RequestFilters {
		if f.Value == value {
			return f, true
		}
	}
	return RequestFilter{}, false
}

// LiveKeyRequest is a merchant's request for a live secret key.
type LiveKeyRequest struct {
	ID               int64
	AccountID        int64
	AccountName      string
	MerchantID       int64
	MerchantName     string
	RequestedBy      string
	TokenName        string
	IntendedUse      string
	Website          string
	MonthlyShipments int
	KeyType          KeyType
	Access           Access
	Permissions      []string
	SuppressCosts    bool
	// AllowedOrigins are the web origins the publishable key asked for may be used from; empty allows any.
	AllowedOrigins []string
	State          RequestState
	Question       string
	Reply          string
	RejectReason   string
	DecidedBy      string
	IssuedKeyID    int64
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// LiveKeyRequestInput is the merchant's form for a live key.
type LiveKeyRequestInput struct {
	TokenName        string
	IntendedUse      string
	Website          string
	MonthlyShipments string
	// Access is the type and access the live key will have, already resolved.
	Access KeyAccess
}

// MinIntendedUse is the shortest description of intended use accepted.
const MinIntendedUse = 20

// Validate checks the form and returns the shipments number.
func (in LiveKeyRequestInput) Validate() (int, error) {
	var v ValidationError
	if msg := CheckKeyName(in.TokenName); msg != "" {
		v.Add("token_name", msg)
	}
	if msg := CheckText(in.IntendedUse, "Intended use", MinIntendedUse, 2000); msg != "" {
		v.Add("intended_use", msg)
	}
	if msg := CheckWebsite(in.Website); msg != "" {
		v.Add("website", msg)
	}
	n, err := strconv.Atoi(strings.TrimSpace(in.MonthlyShipments))
	switch {
	case strings.TrimSpace(in.MonthlyShipments) == "":
		v.Add("monthly_shipments", "Expected monthly shipments is required.")
	case err != nil || n < 0:
		v.Add("monthly_shipments", "Enter a whole number of shipments, like 500.")
	case n > 100_000_000:
		v.Add("monthly_shipments", "Enter at most 100,000,000 shipments a month.")
	}
	return n, v.OrNil()
}

// CheckText returns a message when a required free text is missing, too short,
// too long or not valid text: invalid UTF-8 or control characters other than
// tabs and line breaks.
func CheckText(text, label string, minLen, maxLen int) string {
	n := utf8.RuneCountInString(strings.TrimSpace(text))
	switch {
	case n == 0:
		return label + " is required."
	case !CleanText(text, true):
		return label + " contains characters that are not allowed."
	case n < minLen:
		return label + " must be at least " + strconv.Itoa(minLen) + " characters."
	case n > maxLen:
		return label + " must be at most " + strconv.Itoa(maxLen) + " characters."
	}
	return ""
}

// CheckWebsite returns a message unless website is an absolute http(s) URL with a host.
func CheckWebsite(website string) string {
	if website == "" {
		return "Company website is required."
	}
	u, err := url.Parse(website)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(website, " \t\n") || len(website) > 500 || u.User != nil {
		return "Enter a valid URL, like https://example.com."
	}
	return ""
}

// RequestActivity is what the API team sees of a merchant's use so far.
type RequestActivity struct {
	AccountCreated time.Time
	TestKeys       int
	TestShipments  int
	TestCalls      int64
}

// RequestWithActivity is a live key request in the approval queue.
type RequestWithActivity struct {
	LiveKeyRequest
	Activity RequestActivity
}

// ErrIllegalTransition refuses a request action its current state does not allow.
var ErrIllegalTransition = ErrConflict

// AsKey is the key the request asks for, as far as its type and access go.
func (r LiveKeyRequest) AsKey() APIKey {
	n := NewKey{Type: r.KeyType, Access: r.Access}.WithDefaults()
	return APIKey{Type: n.Type, Access: n.Access, Permissions: r.Permissions, SuppressCosts: r.SuppressCosts, AllowedOrigins: r.AllowedOrigins}
}
