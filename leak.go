package keyport

import (
	"strconv"
	"strings"
	"time"
)

// LeakAction is what a leak report does to a secret key that verifies.
type LeakAction string

// The leak actions a platform may choose.
const (
	// LeakRevoke revokes the key at once and tells its merchant (the default).
	LeakRevoke LeakAction = "revoke"
	// LeakNotify only tells the merchant, who decides.
	LeakNotify LeakAction = "notify"
)

// LeakActions lists the actions in the order the settings page offers them.
var LeakActions = []LeakAction{LeakRevoke, LeakNotify}

// Valid reports whether a is one of LeakActions.
func (a LeakAction) Valid() bool { return a == LeakRevoke || a == LeakNotify }

// Label is the action as the settings page offers it.
func (a LeakAction) Label() string {
	switch a {
	case LeakRevoke:
		return "Revoke the key at once, and tell its merchant"
	case LeakNotify:
		return "Only tell its merchant"
	}
	return string(a)
}

// LeakReport is one token reported found in public, and where.
type LeakReport struct {
	Token string
	URL   string
}

// Leak report limits: how many tokens one report may carry, and how long
// its fields may be.
const (
	MaxLeakReports   = 100
	maxLeakTokenLen  = 200
	maxLeakURLLength = 2000
)

// CheckLeakReports refuses a report that carries no token or more than
// MaxLeakReports, a token that is missing or too long, or a URL that is not
// clean text of at most 2,000 characters. A token that is not a Keyport key
// is not refused: it is ignored, like a key that does not verify, so the
// answer never tells which tokens are keys.
func CheckLeakReports(reports []LeakReport) error {
	if len(reports) == 0 {
		return FieldError("body", "holds no report: send {\"token\": …, \"url\": …} or a list of them")
	}
	if len(reports) > MaxLeakReports {
		return FieldError("body", "holds more than "+strconv.Itoa(MaxLeakReports)+" reports: send them in several requests")
	}
	for i, r := range reports {
		prefix := ""
		if len(reports) > 1 {
			prefix = strconv.Itoa(i) + "."
		}
		switch {
		case strings.TrimSpace(r.Token) == "":
			return FieldError(prefix+"token", "is required: the secret found in public")
		case len(r.Token) > maxLeakTokenLen || !CleanText(r.Token, false):
			return FieldError(prefix+"token", "must be one line of at most "+strconv.Itoa(maxLeakTokenLen)+" characters")
		case len(r.URL) > maxLeakURLLength || !CleanText(r.URL, false):
			return FieldError(prefix+"url", "must be one line of at most "+strconv.Itoa(maxLeakURLLength)+" characters")
		}
	}
	return nil
}

// LeakRevokeReason is the revocation reason of a key found public at url.
func LeakRevokeReason(url string) string {
	if url == "" {
		return "found public"
	}
	return "found public at " + url
}

// LeakReporter is the actor of what a leak report does: no user, and the
// reporter's address.
func LeakReporter(ip string) Actor { return Actor{Label: "leak report", IP: ip} }

// LeakIPScope names the leak reports counted against the client IP ip.
func LeakIPScope(ip string) string { return "leak-ip:" + ip }

// NewLeakThrottle returns the limit of leak reports: 60 requests per client
// IP in a minute (each may carry MaxLeakReports tokens).
func NewLeakThrottle() *LoginThrottle {
	return &LoginThrottle{PerIP: 60, Window: time.Minute}
}
