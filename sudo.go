package keyport

import "time"

// SudoWindow is how long after a user last proved who they are (signing in,
// or confirming with their password or second factor) sensitive actions run
// without asking again.
const SudoWindow = 10 * time.Minute

// SensitiveAction names an action that asks the user to confirm who they are
// unless they did within SudoWindow.
type SensitiveAction string

// The sensitive actions.
const (
	// SudoLiveKey generates or rolls a live key.
	SudoLiveKey SensitiveAction = "live_key"
	// SudoRevealSecret reveals a secret field of a registered auth.
	SudoRevealSecret SensitiveAction = "reveal_secret"
	// SudoTeamRole changes the role of a member of the team.
	SudoTeamRole SensitiveAction = "team_role"
	// SudoPlatformSettings changes the token cap or the two-factor requirement.
	SudoPlatformSettings SensitiveAction = "platform_settings"
	// SudoMerchantAccess disables a merchant.
	SudoMerchantAccess SensitiveAction = "merchant_access"
	// SudoTwoFactorReset resets the second factors of another user.
	SudoTwoFactorReset SensitiveAction = "two_factor_reset"
)

// Label is what the action does, as the confirmation page says it
// ("You are about to …").
func (a SensitiveAction) Label() string {
	switch a {
	case SudoLiveKey:
		return "generate or roll a live key"
	case SudoRevealSecret:
		return "reveal a secret of a registered auth"
	case SudoTeamRole:
		return "change the role of a team member"
	case SudoPlatformSettings:
		return "change the platform settings"
	case SudoMerchantAccess:
		return "disable a merchant"
	case SudoTwoFactorReset:
		return "reset a user's two-factor authentication"
	}
	return ""
}

// Valid reports whether a is one of the sensitive actions.
func (a SensitiveAction) Valid() bool { return a.Label() != "" }

// SudoFresh reports whether a user who last proved who they are at proved may
// run a sensitive action at now without confirming again.
func SudoFresh(proved, now time.Time) bool {
	return !proved.IsZero() && now.Sub(proved) <= SudoWindow
}
