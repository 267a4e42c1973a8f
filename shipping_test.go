package keyport_test

import (
	"strings"
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

func TestServicesTakeOnlyParcelsWithinTheirLimits(t *testing.T) {
	dpd := keyport.Courier{Code: "dpd", Name: "DPD", Presets: []keyport.Preset{
		{ServiceCode: "DPD_NEXT_DAY", Name: "Next Day", WeightGrams: 2000, BasePriceMinor: 675, Currency: "GBP", MaxWeightGrams: 30000, MaxLengthCM: 175},
	}}
	evri := keyport.Courier{Code: "evri", Name: "Evri", Presets: []keyport.Preset{
		{ServiceCode: "EVRI_48", Name: "Standard 48", WeightGrams: 1000, BasePriceMinor: 285, Currency: "GBP", MaxWeightGrams: 15000, MaxLengthCM: 120},
	}}
	gb := keyport.Address{Postcode: "M1 1AE", Country: "GB"}
	tests := []struct {
		name     string
		parcel   keyport.Parcel
		field    string
		services []string
	}{
		{"small parcel", keyport.Parcel{WeightGrams: 1800, LengthCM: 30, WidthCM: 20, HeightCM: 10}, "", []string{"DPD_NEXT_DAY", "EVRI_48"}},
		{"at both limits of the smaller", keyport.Parcel{WeightGrams: 15000, LengthCM: 120}, "", []string{"DPD_NEXT_DAY", "EVRI_48"}},
		{"too heavy for Evri", keyport.Parcel{WeightGrams: 15001}, "", []string{"DPD_NEXT_DAY"}},
		{"too long for Evri", keyport.Parcel{WeightGrams: 100, LengthCM: 10, WidthCM: 121, HeightCM: 5}, "", []string{"DPD_NEXT_DAY"}},
		{"too heavy for all", keyport.Parcel{WeightGrams: 30001}, "parcel", nil},
		{"too long for all", keyport.Parcel{WeightGrams: 100, HeightCM: 176}, "parcel", nil},
		{"volumetric weight too high for all", keyport.Parcel{WeightGrams: 100, LengthCM: 100, WidthCM: 100, HeightCM: 100}, "parcel", nil},
		{"the 300 cm cube", keyport.Parcel{WeightGrams: 1000, LengthCM: 300, WidthCM: 300, HeightCM: 300}, "parcel", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rates, err := keyport.Quotes([]keyport.Courier{dpd, evri}, gb, gb, tt.parcel)
			var got []string
			for _, r := range rates {
				got = append(got, r.ServiceCode)
			}
			if tt.field != "" {
				ve, ok := err.(*keyport.ValidationError)
				if !ok || ve.Fields[tt.field] == "" || rates != nil {
					t.Fatalf("rates %v, err %v; want none and an error on %s", got, err, tt.field)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != strings.Join(tt.services, " ") {
				t.Fatalf("rates %v, err %v; want %v", got, err, tt.services)
			}
		})
	}
	limits := []struct {
		parcel keyport.Parcel
		field  string
	}{
		{keyport.Parcel{WeightGrams: 15001}, "parcel.weight_grams"},
		{keyport.Parcel{WeightGrams: 10, LengthCM: 121}, "parcel.length_cm"},
		{keyport.Parcel{WeightGrams: 10, WidthCM: 121}, "parcel.width_cm"},
		{keyport.Parcel{WeightGrams: 10, HeightCM: 121}, "parcel.height_cm"},
		{keyport.Parcel{WeightGrams: 10, LengthCM: 100, WidthCM: 100, HeightCM: 10}, "parcel"},
	}
	for _, l := range limits {
		_, err := keyport.Quote(evri, evri.Presets[0], gb, gb, l.parcel)
		ve, ok := err.(*keyport.ValidationError)
		if !ok || !strings.Contains(ve.Fields[l.field], "Evri Standard 48 takes parcels up to") {
			t.Errorf("parcel %+v: %v, want a message on %s", l.parcel, err, l.field)
		}
	}
}
