package views

import (
	"time"

	"keyport"
)

// TeamView is what the Team page shows its Owner.
type TeamView struct {
	Members     []keyport.User
	Invitations []keyport.Invitation
	Me          *keyport.User
	CSRF        string
	Now         time.Time
	// Form holds the invitation form's values and errors.
	Form Form
	// InviteLink is a new invitation's one-time link, shown only in the response
	// that created it, and only when no mail server is configured.
	InviteLink string
	// InviteEmail is the address of the new invitation.
	InviteEmail string
	// InviteEmailed tells that the new invitation is emailed: its link goes
	// only to the invited address, so the answer is the same whether or not
	// that address has an account.
	InviteEmailed bool
}

// LastOwner reports whether m is the merchant's only Owner, whom the rules
// keep from being demoted or removed.
func (v TeamView) LastOwner(m keyport.User) bool {
	owners := 0
	for _, u := range v.Members {
		if u.Role == keyport.RoleOwner {
			owners++
		}
	}
	return keyport.IsLastOwner(m, owners)
}

// InvitePageView is the page where an invited person sets their name and password.
type InvitePageView struct {
	Invitation keyport.Invitation
	Token      string
	Form       Form
}
