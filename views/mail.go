package views

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/a-h/templ"

	"keyport"
)

// Email is a message of the outbox rendered for its recipient.
type Email struct {
	Subject string
	// Text is the plain-text part.
	Text string
	// HTML is the HTML part.
	HTML string
}

// RenderEmail renders a message of the outbox, with its links under baseURL
// (the portal's public URL, without a trailing slash).
func RenderEmail(ctx context.Context, m keyport.Message, baseURL string) (Email, error) {
	var mail interface {
		subject() string
		text() string
		html() templ.Component
	}
	d := m.Data
	switch m.Kind {
	case keyport.MessageInvitation:
		mail = invitationEmail{Inviter: d["inviter"], Merchant: d["merchant"], Role: keyport.Role(d["role"]).Label(),
			Expires: mailTime(d["expires"]), Link: baseURL + InvitationURL(d["token"])}
	case keyport.MessageInvitationHasAccount:
		mail = noticeEmail{Subject: fmt.Sprintf("%s invited you to %s on Keyport", d["inviter"], d["merchant"]), Name: d["name"],
			Lines: []string{fmt.Sprintf("%s invited you to join %s on Keyport as %s.", d["inviter"], d["merchant"], keyport.Role(d["role"]).Label()),
				"This email address already has a Keyport account, and an account belongs to one merchant, so the invitation cannot be " +
					"accepted with it. To join, ask them to invite another of your addresses."},
			Button: "Log in to your account", Link: baseURL + "/login",
			Footer: "If you did not expect this invitation, ignore this email: your account is unchanged."}
	case keyport.MessagePasswordReset:
		mail = passwordResetEmail{Name: d["name"], Link: baseURL + PasswordResetURL(d["token"])}
	case keyport.MessageVerifyEmail:
		mail = noticeEmail{Subject: "Verify your email address for Keyport", Name: d["name"],
			Lines:  []string{"Welcome to Keyport. Open this link to verify your email address; you need it to request live API keys. It works once, for 7 days."},
			Button: "Verify my email", Link: baseURL + VerifyEmailURL(d["token"]),
			Footer: "If you did not sign up for Keyport, ignore this email: nothing is done without the link."}
	case keyport.MessageAccountExists:
		mail = noticeEmail{Subject: "You already have a Keyport account", Name: d["name"],
			Lines: []string{"Someone, maybe you, tried to sign up for Keyport with this email address. You already have an account: " +
				"log in, or reset your password if you forgot it."},
			Button: "Reset my password", Link: baseURL + "/password/forgot",
			Footer: "If this wasn't you, you can ignore this email: no account was created and yours is unchanged."}
	case keyport.MessagePasswordChanged:
		mail = passwordChangedEmail{Name: d["name"], IP: d["ip"], At: mailTime(d["at"]), ResetLink: baseURL + "/password/forgot"}
	default:
		n, ok := notice(m, baseURL)
		if !ok {
			return Email{}, fmt.Errorf("no email for messages of kind %q", m.Kind)
		}
		mail = n
	}
	var html strings.Builder
	if err := mail.html().Render(ctx, &html); err != nil {
		return Email{}, err
	}
	return Email{Subject: mail.subject(), Text: mail.text() + mailFooter, HTML: html.String()}, nil
}

// InvitationURL is the path of the page that accepts the invitation of token.
func InvitationURL(token string) string {
	return "/invite?" + url.Values{"token": {token}}.Encode()
}

// VerifyEmailURL is the path of the page that verifies an email address with token.
func VerifyEmailURL(token string) string {
	return "/verify-email?" + url.Values{"token": {token}}.Encode()
}

// PasswordResetURL is the path of the page that sets a new password with token.
func PasswordResetURL(token string) string {
	return "/password/reset?" + url.Values{"token": {token}}.Encode()
}

const mailFooter = "\n\n-- \nKeyport: API keys for the shipping API.\n"

// mailTime writes an RFC 3339 time of a message's data for people, in UTC.
func mailTime(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2 January 2006 at 15:04 UTC")
}

type invitationEmail struct{ Inviter, Merchant, Role, Expires, Link string }

func (e invitationEmail) subject() string {
	return fmt.Sprintf("%s invited you to %s on Keyport", e.Inviter, e.Merchant)
}

func (e invitationEmail) text() string {
	return fmt.Sprintf("%s invited you to join %s on Keyport as %s.\n\nAccept the invitation:\n%s\n\n"+
		"The link works once, until %s. If you did not expect this invitation, ignore this email.",
		e.Inviter, e.Merchant, e.Role, e.Link, e.Expires)
}

func (e invitationEmail) html() templ.Component { return invitationMail(e) }

type passwordResetEmail struct{ Name, Link string }

func (passwordResetEmail) subject() string { return "Reset your Keyport password" }

func (e passwordResetEmail) text() string {
	return fmt.Sprintf("Hello %s,\n\nSomeone asked to reset the password of your Keyport account. "+
		"Choose a new one with this link; it works once, for 30 minutes:\n%s\n\n"+
		"If you did not ask for this, ignore this email: your password stays as it is.", e.Name, e.Link)
}

func (e passwordResetEmail) html() templ.Component { return passwordResetMail(e) }

type passwordChangedEmail struct{ Name, IP, At, ResetLink string }

func (passwordChangedEmail) subject() string { return "Your Keyport password was changed" }

func (e passwordChangedEmail) text() string {
	return fmt.Sprintf("Hello %s,\n\nThe password of your Keyport account was changed on %s from the IP address %s. "+
		"Every other session was signed out.\n\nIf this wasn't you, choose a new password at once and tell your "+
		"platform's API team:\n%s", e.Name, e.At, e.IP, e.ResetLink)
}

func (e passwordChangedEmail) html() templ.Component { return passwordChangedMail(e) }

// noticeEmail is a message that tells of something that happened: a few
// lines, a link to act on it, and a footer saying why the reader got it.
type noticeEmail struct {
	Subject, Name string
	Lines         []string
	Button, Link  string
	Footer        string
}

func (e noticeEmail) subject() string { return e.Subject }

func (e noticeEmail) text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n%s", e.Name, strings.Join(e.Lines, "\n\n"))
	if e.Link != "" {
		fmt.Fprintf(&b, "\n\n%s:\n%s", e.Button, e.Link)
	}
	fmt.Fprintf(&b, "\n\n%s", e.Footer)
	return b.String()
}

func (e noticeEmail) html() templ.Component { return noticeMail(e) }

// The footers of notices: why the reader received one.
const (
	optionalFooter = "You receive this because of your email preferences in Your settings, where you can turn it off."
	securityFooter = "Keyport always sends this security notice."
)

// notice renders the messages about requests, keys and merchants.
func notice(m keyport.Message, baseURL string) (noticeEmail, bool) {
	d := m.Data
	n := noticeEmail{Name: d["name"], Footer: securityFooter}
	if m.Kind.Topic() != "" {
		n.Footer = optionalFooter
	}
	keysLink := baseURL + "/accounts/" + d["account_id"] + "/keys"
	key := fmt.Sprintf("%s (%s, API account %s)", d["key_name"], d["key"], d["account"])
	switch m.Kind {
	case keyport.MessageNewSignIn:
		n.Subject = "New sign-in to your Keyport account"
		n.Lines = []string{fmt.Sprintf("Someone signed in to your Keyport account on %s from the IP address %s, with %s, a browser "+
			"this account had not signed in from before.", mailTime(d["at"]), d["ip"], d["browser"]),
			"If this was you, there is nothing to do. If this wasn't you, choose a new password at once: every session then ends."}
		n.Button, n.Link = "Reset my password", baseURL+"/password/forgot"
	case keyport.MessageRequestFiled:
		n.Subject = fmt.Sprintf("Live key request from %s: %s", d["merchant"], d["token_name"])
		n.Lines = []string{fmt.Sprintf("%s of %s asks for a live key named %q for the API account %s.", d["requested_by"], d["merchant"],
			d["token_name"], d["account"])}
		n.Button, n.Link = "Review the request", baseURL+"/admin/requests/"+d["request_id"]
	case keyport.MessageRequestAnswered:
		switch keyport.RequestState(d["state"]) {
		case keyport.RequestApproved:
			n.Subject = fmt.Sprintf("Your live key request %q was approved", d["token_name"])
			n.Lines = []string{fmt.Sprintf("The API team approved your request for the live key %q of the API account %s. "+
				"Generate the key from the Live keys section: it is shown once.", d["token_name"], d["account"])}
		case keyport.RequestRejected:
			n.Subject = fmt.Sprintf("Your live key request %q was rejected", d["token_name"])
			n.Lines = []string{fmt.Sprintf("The API team rejected your request for the live key %q of the API account %s.", d["token_name"], d["account"]),
				"Their reason: " + d["text"]}
		default:
			n.Subject = fmt.Sprintf("A question about your live key request %q", d["token_name"])
			n.Lines = []string{fmt.Sprintf("The API team has a question about your request for the live key %q of the API account %s:",
				d["token_name"], d["account"]), d["text"], "Reply from the Live keys section; the request waits for your answer."}
		}
		n.Button, n.Link = "Open the live keys", keysLink
	case keyport.MessageKeyExpiring:
		n.Subject = fmt.Sprintf("Your key %s expires on %s", d["key_name"], mailDate(d["expires"]))
		n.Lines = []string{fmt.Sprintf("The key %s expires on %s. Requests with it will then be refused.", key, mailTime(d["expires"])),
			"Roll it to get a new key with the same access, and give the old one a grace period while you deploy the new one."}
		n.Button, n.Link = "Roll the key", keysLink
	case keyport.MessageKeyExpired:
		n.Subject = fmt.Sprintf("Your key %s expired", d["key_name"])
		n.Lines = []string{fmt.Sprintf("The key %s expired on %s: requests with it are refused.", key, mailTime(d["expires"]))}
		n.Button, n.Link = "Open the keys", keysLink
	case keyport.MessageKeyRevoked:
		n.Subject = fmt.Sprintf("The API team revoked your key %s", d["key_name"])
		n.Lines = []string{fmt.Sprintf("The platform's API team revoked the key %s: requests with it are refused from now on.", key),
			"Their reason: " + d["reason"], "Create a new key and replace the old one wherever it is used."}
		n.Button, n.Link = "Open the keys", keysLink
	case keyport.MessageMerchantDisabled:
		n.Subject = fmt.Sprintf("%s was disabled on Keyport", d["merchant"])
		n.Lines = []string{fmt.Sprintf("The platform's API team disabled %s: its API keys are refused and its users cannot sign in "+
			"until it is enabled again. Contact the platform team to know why.", d["merchant"])}
	case keyport.MessageMerchantEnabled:
		n.Subject = fmt.Sprintf("%s was enabled again on Keyport", d["merchant"])
		n.Lines = []string{fmt.Sprintf("The platform's API team enabled %s again: its API keys work and its users can sign in.", d["merchant"])}
		n.Button, n.Link = "Log in", baseURL+"/login"
	case keyport.MessageWebhookDisabled:
		n.Subject = "A webhook endpoint was disabled"
		n.Lines = []string{fmt.Sprintf("Every delivery to the webhook endpoint %s failed for 3 days, so Keyport disabled it: "+
			"it receives no events until it is enabled again.", d["url"]),
			"Its delivery log shows each attempt and what the endpoint answered. Fix the endpoint, enable it, then resend what it missed."}
		n.Button, n.Link = "Open the endpoint", baseURL+"/webhooks/"+d["endpoint_id"]
	case keyport.MessageKeyLeaked:
		n.Subject = fmt.Sprintf("Your key %s was found in public", d["key_name"])
		n.Lines = []string{fmt.Sprintf("The key %s was reported found in public at %s.", key, d["url"])}
		if d["revoked"] == "true" {
			n.Lines = append(n.Lines, "Keyport revoked it at once: requests with it are refused. Create a new key and replace the old one wherever it is used.")
		} else {
			n.Lines = append(n.Lines, "It was not revoked. If it is a secret key, roll or revoke it now, then find how it became public.")
		}
		n.Button, n.Link = "Open the keys", keysLink
	default:
		return n, false
	}
	return n, true
}

// mailDate writes the day of an RFC 3339 time of a message's data, in UTC.
func mailDate(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.UTC().Format("2 January 2006")
}
