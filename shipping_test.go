package keyport_test

import (
	"testing"

	"keyport"
)

func TestIsCountryCode(t *testing.T) {
	tests := []struct {
		code string
		want bool
	}{
		{"GB", true}, {"FR", true}, {"US", true}, {"DE", true}, {"AQ", true}, {"XK", true}, {"SH", true},
		{"UK", false}, {"ZZ", false}, {"EU", false}, {"UN", false}, {"AA", false}, {"QO", false}, {"XA", false},
		{"AC", false}, {"TA", false}, {"EZ", false}, {"gb", false}, {"G", false}, {"GBR", false}, {"", false}, {"G1", false},
	}
	for _, tt := range tests {
		if got := keyport.IsCountryCode(tt.code); got != tt.want {
			t.Errorf("IsCountryCode(%q) = %v, want %v", tt.code, got, tt.want)
		}
	}
}

func TestRateRequestNormalisesAndChecksCountries(t *testing.T) {
	tests := []struct {
		from, to string
		field    string
	}{
		{"gb", " fr ", ""},
		{"UK", "FR", "from.country"},
		{"GB", "ZZ", "to.country"},
		{"GB", "EU", "to.country"},
	}
	for _, tt := range tests {
		r := keyport.RateRequest{From: &keyport.Address{Postcode: "M1 1AE", Country: tt.from}, To: &keyport.Address{Postcode: "75001", Country: tt.to},
			Parcel: &keyport.Parcel{WeightGrams: 100}}
		err := r.Validate()
		if tt.field == "" {
			if err != nil || r.From.Country != "GB" || r.To.Country != "FR" {
				t.Errorf("%s -> %s: %v, countries %q %q", tt.from, tt.to, err, r.From.Country, r.To.Country)
			}
			continue
		}
		ve, ok := err.(*keyport.ValidationError)
		if !ok || ve.Fields[tt.field] == "" {
			t.Errorf("%s -> %s: %v, want an error on %s", tt.from, tt.to, err, tt.field)
		}
	}
}
