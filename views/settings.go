package views

import (
	"slices"

	"keyport"
)

// SettingsView is a signed-in user's own settings page.
type SettingsView struct {
	CSRF string
	// Sessions is how many sessions of the user are active, this one included.
	Sessions int
	// Password holds the change-password form's errors.
	Password Form
	// MailOff are the optional email topics the user turned off.
	MailOff []keyport.MailTopic
	// Mail holds the email preferences form's errors.
	Mail Form
}

// Receives reports whether the user receives the optional topic t.
func (v SettingsView) Receives(t keyport.MailTopic) bool { return !slices.Contains(v.MailOff, t) }
