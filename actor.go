package keyport

// Actor is who performs a change, recorded in the audit log.
type Actor struct {
	// UserID is the signed-in user, zero for system actions.
	UserID int64
	// Label names the actor for people: an email, "system", or a key's redacted form.
	Label string
	// IP is the client address the request came from.
	IP string
}

// SystemActor is the actor of changes made by the command line or the demo data.
var SystemActor = Actor{Label: "system"}

// UserActor is the actor for a signed-in user acting from ip.
func UserActor(u *User, ip string) Actor {
	return Actor{UserID: u.ID, Label: u.Email, IP: ip}
}
