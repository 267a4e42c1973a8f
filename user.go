package keyport

import (
	"net/mail"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Role is what a user may do.
type Role string

// The roles of DESIGN.md: three inside a merchant, and platform Admin.
const (
	RoleOwner     Role = "owner"
	RoleDeveloper Role = "developer"
	RoleReviewer  Role = "reviewer"
	RoleAdmin     Role = "admin"
)

// Label is the role's name as shown to people.
func (r Role) Label() string {
	switch r {
	case RoleOwner:
		return "Owner"
	case RoleDeveloper:
		return "Developer"
	case RoleReviewer:
		return "Reviewer"
	case RoleAdmin:
		return "Admin"
	}
	return string(r)
}

// Valid reports whether r is one of the known roles.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleDeveloper, RoleReviewer, RoleAdmin:
		return true
	}
	return false
}

// IsMerchantRole reports whether r is a role inside a merchant.
func (r Role) IsMerchantRole() bool { return slices.Contains(MemberRoles, r) }

// MemberRoles are the roles of a merchant's members, the ones an Owner may give.
var MemberRoles = []Role{RoleOwner, RoleDeveloper, RoleReviewer}

// CanManageKeys reports whether r may create and change API accounts, keys and auths.
func (r Role) CanManageKeys() bool { return r == RoleOwner || r == RoleDeveloper }

// Merchant is a customer organisation of the shipping API.
type Merchant struct {
	ID        int64
	Name      string
	Disabled  bool
	CreatedAt time.Time
}

// User is a person who signs in: a member of one merchant, or platform staff.
type User struct {
	ID           int64
	MerchantID   int64
	MerchantName string
	Name         string
	Email        string
	Role         Role
	PasswordHash string
	CreatedAt    time.Time
	// MerchantDisabled is true when the platform disabled the user's merchant: they may not sign in.
	MerchantDisabled bool
	// EmailVerified is true once the user opened a link sent to their email
	// (an invitation counts); a sign-up starts unverified.
	EmailVerified bool
	// TwoFactor is true when signing in asks the user for a second factor.
	TwoFactor bool
}

// IsAdmin reports whether the user is platform staff.
func (u *User) IsAdmin() bool { return u.Role == RoleAdmin }

// APIAccount is a named unit of a merchant that owns credentials.
type APIAccount struct {
	ID         int64
	MerchantID int64
	Name       string
	AccountKey string
	Disabled   bool
	CreatedAt  time.Time
}

// DefaultAccountName is the name of the API account created at signup.
const DefaultAccountName = "Default"

// Signup is the form a new merchant fills in.
type Signup struct {
	MerchantName string
	Name         string
	Email        string
	Password     string
}

// Normalize trims the text fields and lower-cases the email.
func (s *Signup) Normalize() {
	s.MerchantName = strings.TrimSpace(s.MerchantName)
	s.Name = strings.TrimSpace(s.Name)
	s.Email = NormalizeEmail(s.Email)
}

// Validate checks every field and reports all problems at once.
func (s Signup) Validate() error {
	var v ValidationError
	if msg := CheckName(s.MerchantName, "Merchant name"); msg != "" {
		v.Add("merchant_name", msg)
	}
	if msg := CheckName(s.Name, "Your name"); msg != "" {
		v.Add("name", msg)
	}
	if msg := CheckEmail(s.Email); msg != "" {
		v.Add("email", msg)
	}
	if msg := CheckPassword(s.Password, s.Name, s.MerchantName, s.Email); msg != "" {
		v.Add("password", msg)
	}
	return v.OrNil()
}

// MaxNameLength is the longest name of a merchant, person or account.
const MaxNameLength = 100

// CheckName returns a message when a required display name is empty, too long or not text.
func CheckName(name, label string) string {
	switch {
	case name == "":
		return label + " is required."
	case !CleanText(name, false):
		return label + " contains characters that are not allowed."
	case utf8.RuneCountInString(name) > MaxNameLength:
		return label + " must be at most 100 characters."
	}
	return ""
}

// StorableText reports whether s is text every supported database stores as
// it is: valid UTF-8 without NUL bytes (PostgreSQL refuses both).
func StorableText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// CleanText reports whether s is valid UTF-8 without control characters such
// as NUL, escape or line breaks; a multi-line text may hold tabs and line breaks.
func CleanText(s string, multiLine bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && !(multiLine && (r == '\n' || r == '\r' || r == '\t')) {
			return false
		}
	}
	return true
}

// NormalizeEmail trims and lower-cases an email address.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// CheckEmail returns a message when email is not a plain address.
func CheckEmail(email string) string {
	if email == "" {
		return "Email is required."
	}
	if len(email) > 254 || !utf8.ValidString(email) {
		return "Enter a valid email address, like name@example.com."
	}
	addr, err := mail.ParseAddress(email)
	if err != nil || addr.Address != email || addr.Name != "" || !strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return "Enter a valid email address, like name@example.com."
	}
	return ""
}

// MerchantSummary is a merchant with the counts an admin sees in the list.
type MerchantSummary struct {
	Merchant
	Users    int
	Accounts int
}
