package keyport

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Courier is a carrier of the catalog with the credential fields it needs and its service presets.
type Courier struct {
	Code    string
	Name    string
	Fields  []CourierField
	Presets []Preset
}

// CourierField is one credential field a courier asks for.
type CourierField struct {
	Name     string
	Label    string
	Secret   bool
	Required bool
	Hint     string
}

// Preset is a courier service with its default parcel.
type Preset struct {
	ServiceCode    string
	Name           string
	WeightGrams    int
	LengthCM       int
	WidthCM        int
	HeightCM       int
	BasePriceMinor int64
	Currency       string
	// MaxWeightGrams is the heaviest parcel the service takes, by billable weight.
	MaxWeightGrams int
	// MaxLengthCM is the longest side of a parcel the service takes.
	MaxLengthCM int
}

// MaxFieldLength is the longest value of a courier credential field.
const MaxFieldLength = 500

// NewAuth is what a merchant user submits to register courier credentials on
// an API account, or to change those of a registered auth.
type NewAuth struct {
	Courier string
	Company string
	// Testing is "yes" or "no" as submitted.
	Testing string
	Values  map[string]string
	// Kept names the secret fields of a change left blank to keep the value
	// the auth holds; a kept field meets its required rule.
	Kept map[string]bool
}

// KeepBlankSecrets marks the secret fields left blank that the registered
// auth holds a value for as kept: a change leaves those values as they are.
func (a *NewAuth) KeepBlankSecrets(current RegisteredAuth) {
	a.Kept = map[string]bool{}
	for _, f := range current.Courier.Fields {
		if f.Secret && a.Values[f.Name] == "" && current.SecretsSet[f.Name] {
			a.Kept[f.Name] = true
		}
	}
}

// Normalize trims the company and every field value.
func (a *NewAuth) Normalize() {
	a.Company = strings.TrimSpace(a.Company)
	for k, v := range a.Values {
		a.Values[k] = strings.TrimSpace(v)
	}
}

// Validate checks the submission against the courier's field schema, for a
// new auth and a change alike; field errors are keyed "courier", "company",
// "testing" or "field_" + the field name.
func (a NewAuth) Validate(c *Courier) error {
	var v ValidationError
	if c == nil {
		v.Add("courier", "Choose a courier.")
	}
	if msg := CheckName(a.Company, "Company"); msg != "" {
		v.Add("company", msg)
	}
	if a.Testing != "yes" && a.Testing != "no" {
		v.Add("testing", "Choose whether these are testing credentials.")
	}
	if c != nil {
		for _, f := range c.Fields {
			val := a.Values[f.Name]
			switch {
			case val == "" && f.Required && !a.Kept[f.Name]:
				v.Add("field_"+f.Name, f.Label+" is required.")
			case !CleanText(val, false):
				v.Add("field_"+f.Name, f.Label+" contains characters that are not allowed.")
			case utf8.RuneCountInString(val) > MaxFieldLength:
				v.Add("field_"+f.Name, f.Label+" must be at most 500 characters.")
			}
		}
	}
	return v.OrNil()
}

// IsTesting reports whether the submission marks testing credentials.
func (a NewAuth) IsTesting() bool { return a.Testing == "yes" }

// RegisteredAuth is a set of courier credentials on an API account. Secret
// field values are never loaded into it: only which secret fields are set.
type RegisteredAuth struct {
	ID         int64
	AccountID  int64
	MerchantID int64
	Courier    Courier
	Company    string
	Testing    bool
	Values     map[string]string
	SecretsSet map[string]bool
	CreatedBy  string
	CreatedAt  time.Time
}

// AuthFieldView is one field of a registered auth as the portal shows it.
type AuthFieldView struct {
	CourierField
	// Value is the value of a non-secret field; secret fields are never filled in.
	Value string
	// Set reports whether a value was given.
	Set bool
}

// Details lists the courier's fields in catalog order with what the auth holds.
func (a RegisteredAuth) Details() []AuthFieldView {
	out := make([]AuthFieldView, 0, len(a.Courier.Fields))
	for _, f := range a.Courier.Fields {
		fv := AuthFieldView{CourierField: f}
		if f.Secret {
			fv.Set = a.SecretsSet[f.Name]
		} else {
			fv.Value = a.Values[f.Name]
			fv.Set = fv.Value != ""
		}
		out = append(out, fv)
	}
	return out
}
