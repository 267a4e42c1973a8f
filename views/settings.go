package views

// SettingsView is a signed-in user's own settings page.
type SettingsView struct {
	CSRF string
	// Sessions is how many sessions of the user are active, this one included.
	Sessions int
	// Password holds the change-password form's errors.
	Password Form
}
