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
	case keyport.MessagePasswordReset:
		mail = passwordResetEmail{Name: d["name"], Link: baseURL + PasswordResetURL(d["token"])}
	case keyport.MessagePasswordChanged:
		mail = passwordChangedEmail{Name: d["name"], IP: d["ip"], At: mailTime(d["at"]), ResetLink: baseURL + "/password/forgot"}
	default:
		return Email{}, fmt.Errorf("no email for messages of kind %q", m.Kind)
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
