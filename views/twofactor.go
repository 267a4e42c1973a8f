package views

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/boombuler/barcode/qr"

	"keyport"
	"keyport/store"
)

// TwoFactorSetupView is the page that sets up an authenticator app: its QR
// code, its secret as text, and the form of its first code.
type TwoFactorSetupView struct {
	// Secret is the new secret, base32.
	Secret string
	// URL is the secret's otpauth:// address, drawn as the QR code.
	URL  string
	Form Form
}

// RecoveryCodesView shows new recovery codes once.
type RecoveryCodesView struct {
	Codes []string
	// Enabled tells the codes came with turning two-factor authentication on.
	Enabled bool
	// Note says what else just happened ("Added the passkey …").
	Note string
}

// SecondFactorView is the second step of a sign-in.
type SecondFactorView struct {
	Form Form
	// PasskeyOptions are the WebAuthn request options in JSON, when the user
	// has passkeys and the site can use them.
	PasskeyOptions string
	// HasTOTP tells the user has an authenticator app.
	HasTOTP bool
}

// NewPasskeyView is the page that adds a passkey.
type NewPasskeyView struct {
	// Options are the WebAuthn creation options in JSON; empty when passkeys
	// cannot be used under the site's address.
	Options string
	Form    Form
}

// TwoFactorSettings is the Two-factor authentication section of Your settings.
type TwoFactorSettings struct {
	State store.TwoFactor
	// Form holds the turn-off form's errors.
	Form Form
}

// qrPath draws text as a QR code: an SVG path of one unit square per dark
// module, inside a quiet zone of 4 modules, and the drawing's size. Inline
// SVG needs no image request and nothing the Content-Security-Policy forbids.
func qrPath(text string) (string, int, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", 0, err
	}
	size := code.Bounds().Dx()
	var b strings.Builder
	for y := range size {
		for x := range size {
			if r, _, _, _ := code.At(x, y).RGBA(); r == 0 {
				fmt.Fprintf(&b, "M%d %dh1v1h-1z", x+4, y+4)
			}
		}
	}
	return b.String(), size + 8, nil
}

func joinLines(lines []string) string { return strings.Join(lines, "\n") }

// SudoView is the page that asks a user to confirm who they are before a
// sensitive action.
type SudoView struct {
	Action keyport.SensitiveAction
	// Next is the page to go back to.
	Next string
	// TwoFactor offers a code of the user's second factor instead of the password.
	TwoFactor bool
	Form      Form
}

// SudoURL is the path of the page that confirms who the user is before
// action, then sends them to next.
func SudoURL(action keyport.SensitiveAction, next string) string {
	return "/sudo?" + url.Values{"action": {string(action)}, "next": {next}}.Encode()
}
