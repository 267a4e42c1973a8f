package views

import (
	"fmt"
	"strings"
	"time"

	"keyport"
)

// AuthsView is the "View Registered Auths" pop-up of one API account.
type AuthsView struct {
	Frame
	Account   keyport.APIAccount
	Auths     []keyport.RegisteredAuth
	CSRF      string
	CanManage bool
	Now       time.Time
	// Notice is a confirmation line, such as the auth just registered or deleted.
	Notice string
	// Revealed holds secret values revealed in this response, keyed by RevealKey.
	Revealed map[string]string
}

// RevealKey names one secret field of one registered auth.
func RevealKey(authID int64, field string) string { return fmt.Sprintf("%d/%s", authID, field) }

// AuthForm is the data of the "Register a new auth" dialog and of the
// dialog that changes a registered auth.
type AuthForm struct {
	Frame
	Account  keyport.APIAccount
	Couriers []keyport.Courier
	// Courier is the chosen courier, nil until one is chosen.
	Courier *keyport.Courier
	// Auth is the registered auth being changed; nil for a new one.
	Auth *keyport.RegisteredAuth
	CSRF string
	Form Form
}

// SecretsSet names the secret fields the auth being changed holds a value
// for; none for a new auth.
func (f AuthForm) SecretsSet() map[string]bool {
	if f.Auth == nil {
		return nil
	}
	return f.Auth.SecretsSet
}

// SecretField is one masked or revealed secret field of a registered auth.
type SecretField struct {
	AccountID int64
	AuthID    int64
	Field     keyport.CourierField
	CSRF      string
	CanReveal bool
	// Value is the revealed value; Shown reports whether it is revealed.
	Value string
	Shown bool
}

// ID is the element id of the field's value.
func (f SecretField) ID() string { return fmt.Sprintf("auth-%d-%s", f.AuthID, f.Field.Name) }

// Action is the URL that reveals the field.
func (f SecretField) Action() string {
	return AuthURL(f.AccountID, f.AuthID) + "/reveal"
}

// Weight formats grams for people: "2 kg", "750 g".
func Weight(grams int) string {
	if grams >= 1000 && grams%100 == 0 {
		return trimZero(fmt.Sprintf("%.1f", float64(grams)/1000)) + " kg"
	}
	return fmt.Sprintf("%d g", grams)
}

func trimZero(s string) string {
	if len(s) > 2 && s[len(s)-2:] == ".0" {
		return s[:len(s)-2]
	}
	return s
}

// Money formats an amount in minor units: "£3.95", or "12.50 EUR".
func Money(minor int64, currency string) string {
	amount := Decimal(minor)
	if currency == "GBP" {
		return "£" + amount
	}
	return amount + " " + currency
}

// PresetNames lists the presets' names: "Next Day, By 12, Saturday".
func PresetNames(presets []keyport.Preset) string {
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return strings.Join(names, ", ")
}

// Decimal writes an amount in minor units as a decimal number with two places: "12.34", "-0.50".
func Decimal(minor int64) string {
	sign := ""
	if minor < 0 {
		sign, minor = "-", -minor
	}
	return fmt.Sprintf("%s%d.%02d", sign, minor/100, minor%100)
}
