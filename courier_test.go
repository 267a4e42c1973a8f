package keyport

import (
	"strings"
	"testing"
)

var dpd = Courier{Code: "dpd", Name: "DPD", Fields: []CourierField{
	{Name: "username", Label: "Username", Required: true},
	{Name: "password", Label: "Password", Secret: true, Required: true},
	{Name: "account_number", Label: "Account number", Required: true},
	{Name: "depot", Label: "Depot", Required: false},
}}

func TestNewAuthValidateAgainstTheCourierSchema(t *testing.T) {
	full := func() map[string]string {
		return map[string]string{"username": "acme", "password": "pw", "account_number": "123"}
	}
	tests := []struct {
		name    string
		courier *Courier
		in      NewAuth
		fields  []string
	}{
		{"valid", &dpd, NewAuth{Company: "Acme", Testing: "yes", Values: full()}, nil},
		{"optional field empty", &dpd, NewAuth{Company: "Acme", Testing: "no", Values: full()}, nil},
		{"no courier", nil, NewAuth{Company: "Acme", Testing: "yes"}, []string{"courier"}},
		{"missing secret", &dpd, NewAuth{Company: "Acme", Testing: "yes", Values: map[string]string{"username": "a", "account_number": "1"}},
			[]string{"field_password"}},
		{"blank required", &dpd, NewAuth{Company: "Acme", Testing: "yes", Values: map[string]string{"username": "  ", "password": "p", "account_number": "1"}},
			[]string{"field_username"}},
		{"no company", &dpd, NewAuth{Company: " ", Testing: "yes", Values: full()}, []string{"company"}},
		{"testing missing", &dpd, NewAuth{Company: "Acme", Values: full()}, []string{"testing"}},
		{"testing other", &dpd, NewAuth{Company: "Acme", Testing: "maybe", Values: full()}, []string{"testing"}},
		{"value too long", &dpd, NewAuth{Company: "Acme", Testing: "yes", Values: map[string]string{"username": strings.Repeat("u", 501), "password": "p", "account_number": "1"}},
			[]string{"field_username"}},
		{"NUL in optional", &dpd, NewAuth{Company: "Acme", Testing: "yes", Values: map[string]string{"username": "u", "password": "p", "account_number": "1", "depot": "a\x00"}},
			[]string{"field_depot"}},
		{"line break in a value", &dpd, NewAuth{Company: "Acme", Testing: "yes", Values: map[string]string{"username": "u\r\nx", "password": "p", "account_number": "1"}},
			[]string{"field_username"}},
		{"escape in company", &dpd, NewAuth{Company: "Acme\x1b[0m", Testing: "yes", Values: full()}, []string{"company"}},
		{"everything missing", &dpd, NewAuth{}, []string{"company", "testing", "field_username", "field_password", "field_account_number"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.Values == nil {
				tt.in.Values = map[string]string{}
			}
			tt.in.Normalize()
			wantFields(t, tt.in.Validate(tt.courier), tt.fields)
		})
	}
}

func TestRegisteredAuthDetailsNeverHoldSecrets(t *testing.T) {
	a := RegisteredAuth{Courier: dpd, Values: map[string]string{"username": "acme", "account_number": "123", "password": "leak"},
		SecretsSet: map[string]bool{"password": true}}
	got := a.Details()
	if len(got) != 4 {
		t.Fatalf("details: %+v", got)
	}
	if got[0].Value != "acme" || !got[0].Set || got[1].Value != "" || !got[1].Set || got[3].Set {
		t.Fatalf("details: %+v", got)
	}
}

func TestAChangeKeepsOnlyTheSecretsTheAuthHolds(t *testing.T) {
	current := RegisteredAuth{Courier: Courier{Fields: append(append([]CourierField(nil), dpd.Fields...),
		CourierField{Name: "api_key", Label: "API key", Secret: true, Required: true},
		CourierField{Name: "pin", Label: "PIN", Secret: true})},
		SecretsSet: map[string]bool{"password": true, "pin": true}}
	change := NewAuth{Company: "Acme", Testing: "yes", Values: map[string]string{"username": "acme", "password": " ", "account_number": "1", "pin": "4321"}}
	change.Normalize()
	change.KeepBlankSecrets(current)
	if !change.Kept["password"] || change.Kept["pin"] || change.Kept["api_key"] || change.Kept["username"] {
		t.Fatalf("kept %v: want only the blank secret the auth holds", change.Kept)
	}
	wantFields(t, change.Validate(&current.Courier), []string{"field_api_key"})
	change.Values["api_key"] = "k"
	wantFields(t, change.Validate(&current.Courier), nil)
	change.Values["username"] = ""
	wantFields(t, change.Validate(&current.Courier), []string{"field_username"})
}
