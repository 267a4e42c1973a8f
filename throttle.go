package keyport

import (
	"fmt"
	"slices"
	"time"
)

// LoginThrottle is the rule that slows down guessing: a scope (an account as
// tried from one client, for sign-ins; an email or a merchant for the other
// throttles) may have PerAccount attempts and a client IP PerIP attempts
// inside Window, and once either count is reached further attempts are
// refused until the oldest counted one leaves the window. An attempt is
// counted before the password is checked; a good password forgets the
// client's attempts, a wrong one stays counted as a failure. The attempts
// themselves live in the database, so every replica sees the same counts.
//
// Sign-ins also count every attempt on an account, from any client: past
// AccountBurst of them inside Window, clients that are not a known browser of
// the account are slowed to one attempt per AccountSpacing on it. Guessing
// from many addresses is slowed that way, while the account's owner, from a
// browser they signed in with before, is never held back by someone else's
// failures.
type LoginThrottle struct {
	// PerAccount is how many attempts a scope may have inside Window.
	PerAccount int
	// PerIP is how many attempts one client IP may have inside Window.
	PerIP int
	// Window is how long attempts are remembered.
	Window time.Duration
	// AccountBurst is how many sign-in attempts an account takes inside Window,
	// from all clients together, before unknown clients are slowed; 0 is no limit.
	AccountBurst int
	// AccountSpacing is the time an unknown client waits after the account's
	// newest attempt, once the burst is spent.
	AccountSpacing time.Duration
}

// NewLoginThrottle returns a throttle with the default limits of sign-ins: 5
// failures per account and client, 20 per IP in 15 minutes, and past 10
// failures on an account from any clients, one attempt per 30 seconds from a
// browser the account never signed in with.
func NewLoginThrottle() *LoginThrottle {
	return &LoginThrottle{PerAccount: 5, PerIP: 20, Window: 15 * time.Minute, AccountBurst: 10, AccountSpacing: 30 * time.Second}
}

// LoginClient is where a sign-in attempt comes from: its IP address and the
// id of its browser's device cookie (empty when it has none).
type LoginClient struct {
	IP     string
	Device string
}

// ClientScope names the sign-in attempts on the account of email from one
// client: a browser the account signed in with before, by its device id, or
// else the client's IP address.
func ClientScope(email, client string) string { return "account-client:" + email + "\x00" + client }

// LoginWait returns how long a sign-in attempt at now must wait, given the
// times of the recent attempts of its account from its client, of its IP, and
// of its account from any client; known says the client is a browser the
// account signed in with before, which the account-wide limit never holds back.
func (t *LoginThrottle) LoginWait(client, ip, account []time.Time, known bool, now time.Time) time.Duration {
	wait := t.Wait(client, ip, now)
	if known || t.AccountBurst <= 0 {
		return wait
	}
	var newest time.Time
	counted := 0
	for _, at := range account {
		if t.Counts(at, now) {
			counted++
			if at.After(newest) {
				newest = at
			}
		}
	}
	if counted < t.AccountBurst {
		return wait
	}
	return max(wait, newest.Add(t.AccountSpacing).Sub(now))
}

// AccountScope names the attempts counted against the account of email.
func AccountScope(email string) string { return "account:" + email }

// IPScope names the attempts counted against the client IP ip.
func IPScope(ip string) string { return "ip:" + ip }

// ResetScope names the password reset requests counted against email.
func ResetScope(email string) string { return "reset:" + email }

// ResetIPScope names the password reset requests counted against the client IP ip.
func ResetIPScope(ip string) string { return "reset-ip:" + ip }

// SignupScope names the sign-ups counted against an email that already has an
// account, each of which emails its owner.
func SignupScope(email string) string { return "signup:" + email }

// VerifyScope names the verification links sent to an email.
func VerifyScope(email string) string { return "verify:" + email }

// SignupIPScope names the sign-ups counted against the client IP ip.
func SignupIPScope(ip string) string { return "signup-ip:" + ip }

// InviteScope names the invitations counted against a merchant.
func InviteScope(merchantID int64) string { return fmt.Sprintf("invite:%d", merchantID) }

// InviteIPScope names the invitations counted against the client IP ip.
func InviteIPScope(ip string) string { return "invite-ip:" + ip }

// NewInviteThrottle returns the limits of invitations: 50 per merchant and 50
// per client IP in 15 minutes, room for onboarding a whole team at once.
func NewInviteThrottle() *LoginThrottle {
	return &LoginThrottle{PerAccount: 50, PerIP: 50, Window: 15 * time.Minute}
}

// NewResetThrottle returns the limits of password reset requests: 3 per email
// and 10 per client IP in 15 minutes. Requests beyond an email's limit send
// nothing more, with the same answer, so the limit reveals no account.
func NewResetThrottle() *LoginThrottle {
	return &LoginThrottle{PerAccount: 3, PerIP: 10, Window: 15 * time.Minute}
}

// Counts reports whether an attempt at now counts: it does while it is younger than Window.
func (t *LoginThrottle) Counts(attempt, now time.Time) bool {
	return now.Sub(attempt) < t.Window
}

// Wait returns how long a new sign-in attempt at now must wait, given the times
// of the recent attempts of its account and of its client IP (in any order; the
// newest PerAccount and PerIP of them are enough). Zero means it may go ahead.
func (t *LoginThrottle) Wait(account, ip []time.Time, now time.Time) time.Duration {
	return max(t.scopeWait(account, t.PerAccount, now), t.scopeWait(ip, t.PerIP, now))
}

func (t *LoginThrottle) scopeWait(attempts []time.Time, limit int, now time.Time) time.Duration {
	if limit <= 0 {
		return 0
	}
	var recent []time.Time
	for _, at := range attempts {
		if t.Counts(at, now) {
			recent = append(recent, at)
		}
	}
	if len(recent) < limit {
		return 0
	}
	slices.SortFunc(recent, func(a, b time.Time) int { return b.Compare(a) })
	return recent[limit-1].Add(t.Window).Sub(now)
}
