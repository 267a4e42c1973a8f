package keyport

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// APIKey is a credential of an API account, as stored: never its plaintext.
type APIKey struct {
	ID             int64
	AccountID      int64
	AccountName    string
	MerchantID     int64
	Type           KeyType
	Mode           Mode
	Name           string
	Prefix         string
	First4         string
	Last4          string
	Access         Access
	Permissions    []string
	SuppressCosts  bool
	Legacy         bool
	RequestID      int64
	CreatedByLabel string
	CreatedAt      time.Time
	ExpiresAt      time.Time
	RolledAt       time.Time
	RevokedAt      time.Time
	RevokedBy      string
	RevokeReason   string
	LastUsedAt     time.Time
	LastUsedIP     string
	UseCount       int64
	// PublicValue is the whole value of a publishable key, which is not secret; empty for secret keys.
	PublicValue string
	// AllowedOrigins are the web origins a publishable key may be used from; empty allows any.
	AllowedOrigins []string
}

// Access is how much of the API a key may call.
type Access string

// The two kinds of access.
const (
	AccessFull       Access = "full"
	AccessRestricted Access = "restricted"
)

// KeyStatus is where a key stands at a moment.
type KeyStatus string

// Key statuses. A rolled key is Active until its grace period ends, then Expired.
const (
	KeyActive  KeyStatus = "active"
	KeyExpired KeyStatus = "expired"
	KeyRevoked KeyStatus = "revoked"
)

// Redacted is the key as shown in lists: prefix, first and last four characters.
func (k APIKey) Redacted() string { return Redact(k.Prefix, k.First4, k.Last4) }

// StatusAt tells whether the key is active, expired or revoked at now.
func (k APIKey) StatusAt(now time.Time) KeyStatus {
	switch {
	case !k.RevokedAt.IsZero():
		return KeyRevoked
	case !k.ExpiresAt.IsZero() && !now.Before(k.ExpiresAt):
		return KeyExpired
	}
	return KeyActive
}

// CountsTowardCap reports whether the key takes one of its mode's slots at now:
// an active secret key that is not in a roll's grace period.
func (k APIKey) CountsTowardCap(now time.Time) bool {
	return k.Type == KeySecret && k.RolledAt.IsZero() && k.StatusAt(now) == KeyActive
}

// DefaultTokenCap is the number of active secret keys per mode and account unless an admin changes it.
const DefaultTokenCap = 2

// CapError refuses a key or request that would exceed the token cap.
type CapError struct {
	Cap  int
	Mode Mode
	// Approving is set when the API team's approval of a live key request is refused.
	Approving bool
}

// Error says what the cap is and what to do.
func (e *CapError) Error() string {
	if e.Approving {
		return fmt.Sprintf("This API account already has %d active live tokens and approved requests, the token cap. "+
			"Ask the merchant to remove a live token first, or raise the token cap in Platform settings.", e.Cap)
	}
	return fmt.Sprintf("Max of %d %s tokens reached. Remove a token before creating another.", e.Cap, e.Mode)
}

// CapStatus is how many of one mode's cap slots an API account uses: its
// active secret keys that are not in a roll's grace period (CountsTowardCap)
// and, in live mode, the approved live key requests not yet issued.
type CapStatus struct {
	Mode Mode
	Used int
	// Cap is the platform's token cap (0 = no cap).
	Cap int
}

// Full reports whether no slot is left; a cap of 0 means no cap.
func (s CapStatus) Full() bool { return s.Cap > 0 && s.Used >= s.Cap }

// Check is the one token-cap rule: it refuses, with the CapError people see,
// a change that would take a slot when none is left. Creating a secret key,
// filing, approving and issuing a live key request all take a slot; rolling
// a key replaces its slot, and publishable keys take none (see TakesSlot).
func (s CapStatus) Check() error {
	if s.Full() {
		return &CapError{Cap: s.Cap, Mode: s.Mode}
	}
	return nil
}

// NewKey is what a caller asks for when creating a key.
type NewKey struct {
	AccountID  int64
	MerchantID int64
	// Type defaults to KeySecret.
	Type KeyType
	Mode Mode
	Name string
	// ExpiresAt is zero for a key that never expires.
	ExpiresAt time.Time
	// Access defaults to AccessFull.
	Access        Access
	Permissions   []string
	SuppressCosts bool
	Legacy        bool
	RequestID     int64
	// Replaces is the key this one replaces in a roll; a roll takes no new cap slot.
	Replaces int64
	// AllowedOrigins are the web origins a publishable key may be used from; empty allows any.
	AllowedOrigins []string
}

// WithDefaults is the key with the defaults of what it leaves unsaid: a
// secret key with full access. It is the one place those defaults live.
func (n NewKey) WithDefaults() NewKey {
	if n.Type == "" {
		n.Type = KeySecret
	}
	if n.Access == "" {
		n.Access = AccessFull
	}
	return n
}

// TakesSlot reports whether creating the key takes a new slot under the
// token cap: a secret key that does not replace another in a roll.
func (n NewKey) TakesSlot() bool {
	return n.WithDefaults().Type == KeySecret && n.Replaces == 0
}

// Expiry choices offered when creating a key.
var ExpiryChoices = []struct{ Value, Label string }{
	{"never", "No expiry"},
	{"7", "7 days"},
	{"30", "30 days"},
	{"60", "60 days"},
	{"90", "90 days"},
	{"date", "On a date…"},
}

// MaxExpiry is the furthest a chosen expiry date may be.
const MaxExpiry = 5 * 365 * 24 * time.Hour

// ParseExpiry turns an expiry choice (and a date for "date", as YYYY-MM-DD) into
// a time; the zero time means no expiry. Bad input is a ValidationError on
// "expiry" or "expiry_date"; a date given with another choice is refused, as
// the form shows the date only for "On a date…".
func ParseExpiry(choice, date string, now time.Time) (time.Time, error) {
	date = strings.TrimSpace(date)
	switch choice {
	case "", "never", "7", "30", "60", "90":
		if date != "" {
			return time.Time{}, FieldError("expiry_date", "A date applies only to “On a date…”: choose it, or clear the date.")
		}
		if choice == "" || choice == "never" {
			return time.Time{}, nil
		}
		days, _ := strconv.Atoi(choice)
		return now.Add(time.Duration(days) * 24 * time.Hour), nil
	case "date":
		d, err := time.Parse("2006-01-02", date)
		if err != nil {
			return time.Time{}, FieldError("expiry_date", "Enter the expiry date as YYYY-MM-DD.")
		}
		end := d.Add(24*time.Hour - time.Second)
		if !end.After(now.Add(time.Hour)) {
			return time.Time{}, FieldError("expiry_date", "The expiry date must be in the future.")
		}
		if end.After(now.Add(MaxExpiry)) {
			return time.Time{}, FieldError("expiry_date", "The expiry date must be within 5 years.")
		}
		return end, nil
	}
	return time.Time{}, FieldError("expiry", "Choose an expiry from the list.")
}

// MaxKeyNameLength is the longest key name.
const MaxKeyNameLength = 100

// CheckKeyName returns a message when a key name is empty, too long or not text.
func CheckKeyName(name string) string {
	switch {
	case name == "":
		return "Token name is required."
	case !CleanText(name, false):
		return "Token name contains characters that are not allowed."
	case utf8.RuneCountInString(name) > MaxKeyNameLength:
		return "Token name must be at most 100 characters."
	}
	return ""
}

// GraceChoices are the periods a rolled key may keep working after its replacement is created.
var GraceChoices = []struct {
	Value, Label string
	Grace        time.Duration
}{
	{"now", "Stop it now", 0},
	{"1h", "In 1 hour", time.Hour},
	{"24h", "In 24 hours", 24 * time.Hour},
	{"7d", "In 7 days", 7 * 24 * time.Hour},
}

// ParseGrace returns the grace period of a choice, or a message for anything else.
func ParseGrace(choice string) (time.Duration, string) {
	for _, c := range GraceChoices {
		if c.Value == choice {
			return c.Grace, ""
		}
	}
	return 0, "Choose when the old key stops working."
}

// Rollable reports whether a key may be rolled at now: active and not rolled already.
func (k APIKey) Rollable(now time.Time) bool {
	return k.RolledAt.IsZero() && k.StatusAt(now) == KeyActive
}
