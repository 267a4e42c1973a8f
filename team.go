package keyport

import (
	"time"
)

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// Invitation asks someone to join a merchant with a role, through a one-time link.
type Invitation struct {
	ID           int64
	MerchantID   int64
	MerchantName string
	Email        string
	Role         Role
	InvitedBy    string
	CreatedAt    time.Time
	ExpiresAt    time.Time
	// MerchantDisabled is true when the platform disabled the merchant: nobody can join it.
	MerchantDisabled bool
}

// IsLastOwner reports whether u is the only Owner of their merchant, which
// has owners Owners: they can be neither demoted nor removed.
func IsLastOwner(u User, owners int) bool { return u.Role == RoleOwner && owners <= 1 }

// ErrLastOwner refuses to demote or remove a merchant's last Owner.
var ErrLastOwner = &Error{ECONFLICT, "A merchant needs at least one Owner: make another member Owner first."}

// NewInvitation is what an Owner submits to invite a member.
type NewInvitation struct {
	Email string
	Role  Role
}

// Validate checks the email and that the role is a merchant role.
func (in *NewInvitation) Validate() error {
	in.Email = NormalizeEmail(in.Email)
	var v ValidationError
	if msg := CheckEmail(in.Email); msg != "" {
		v.Add("email", msg)
	}
	if !in.Role.IsMerchantRole() {
		v.Add("role", "Choose Owner, Developer or Reviewer.")
	}
	return v.OrNil()
}
