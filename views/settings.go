package views

import (
	"slices"
	"time"

	"keyport"
	"keyport/store"
)

// SettingsView is a signed-in user's own settings page.
type SettingsView struct {
	CSRF string
	// Sessions are the user's active sessions, this one included, the newest first.
	Sessions []store.SessionInfo
	Now      time.Time
	// Password holds the change-password form's errors.
	Password Form
	// MailOff are the optional email topics the user turned off.
	MailOff []keyport.MailTopic
	// Mail holds the email preferences form's errors.
	Mail Form
	// TwoFactor is the Two-factor authentication section.
	TwoFactor TwoFactorSettings
}

// Receives reports whether the user receives the optional topic t.
func (v SettingsView) Receives(t keyport.MailTopic) bool { return !slices.Contains(v.MailOff, t) }

// sessionBrowser is a session's browser as listed, for sessions stored before browsers were recorded too.
func sessionBrowser(b string) string {
	if b == "" {
		return "A browser"
	}
	return b
}
