package keyport

import (
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// Address is where a parcel leaves from or goes to, as far as pricing needs.
// Its tags bound the fields for the API's OpenAPI document; Validate applies the same bounds.
type Address struct {
	Postcode string `json:"postcode" minLength:"1" maxLength:"12" pattern:"^[A-Za-z0-9 -]+$"`
	Country  string `json:"country" minLength:"2" maxLength:"2" doc:"ISO 3166-1 alpha-2 country code, such as GB"`
}

// Parcel is the size and weight of one package. Dimensions are optional.
type Parcel struct {
	WeightGrams int `json:"weight_grams" minimum:"1" maximum:"70000"`
	LengthCM    int `json:"length_cm" minimum:"0" maximum:"300" openapi:"optional"`
	WidthCM     int `json:"width_cm" minimum:"0" maximum:"300" openapi:"optional"`
	HeightCM    int `json:"height_cm" minimum:"0" maximum:"300" openapi:"optional"`
}

// Limits of a parcel accepted by the API.
const (
	MaxParcelGrams = 70_000
	MaxParcelCM    = 300
)

// RateRequest asks for prices of a parcel, from every courier service or one courier's.
type RateRequest struct {
	From    *Address `json:"from"`
	To      *Address `json:"to"`
	Parcel  *Parcel  `json:"parcel"`
	Courier string   `json:"courier,omitempty" doc:"A courier code from GET /v1/couriers; without it, every courier's services are quoted"`
}

// ShipmentRequest asks to create a shipment with one courier service.
type ShipmentRequest struct {
	Courier     string   `json:"courier" minLength:"1" doc:"A courier code from GET /v1/couriers"`
	ServiceCode string   `json:"service_code" minLength:"1" doc:"A service code of the courier from GET /v1/couriers"`
	From        *Address `json:"from"`
	To          *Address `json:"to"`
	Parcel      *Parcel  `json:"parcel"`
}

// Validate checks the route and parcel, normalising country codes to upper case.
func (r *RateRequest) Validate() error {
	return validateRoute(r.From, r.To, r.Parcel)
}

// Validate checks the service, route and parcel, normalising country codes to upper case.
func (r *ShipmentRequest) Validate() error {
	if strings.TrimSpace(r.Courier) == "" {
		return FieldError("courier", "is required: a courier code from GET /v1/couriers")
	}
	if strings.TrimSpace(r.ServiceCode) == "" {
		return FieldError("service_code", "is required: a service code of the courier from GET /v1/couriers")
	}
	return validateRoute(r.From, r.To, r.Parcel)
}

func validateRoute(from, to *Address, p *Parcel) error {
	if err := validateAddress("from", from); err != nil {
		return err
	}
	if err := validateAddress("to", to); err != nil {
		return err
	}
	if p == nil {
		return FieldError("parcel", "is required")
	}
	if p.WeightGrams <= 0 || p.WeightGrams > MaxParcelGrams {
		return FieldError("parcel.weight_grams", fmt.Sprintf("must be between 1 and %d grams", MaxParcelGrams))
	}
	dims := []struct {
		name  string
		value int
	}{{"length_cm", p.LengthCM}, {"width_cm", p.WidthCM}, {"height_cm", p.HeightCM}}
	for _, d := range dims {
		if d.value < 0 || d.value > MaxParcelCM {
			return FieldError("parcel."+d.name, fmt.Sprintf("must be between 1 and %d centimetres, or left out", MaxParcelCM))
		}
	}
	return nil
}

func validateAddress(field string, a *Address) error {
	if a == nil {
		return FieldError(field, "is required")
	}
	pc := strings.TrimSpace(a.Postcode)
	if pc == "" {
		return FieldError(field+".postcode", "is required")
	}
	if len(pc) > 12 || !postcodeChars(pc) {
		return FieldError(field+".postcode", "must be at most 12 letters, digits, spaces or hyphens")
	}
	a.Postcode = strings.ToUpper(pc)
	c := strings.ToUpper(strings.TrimSpace(a.Country))
	if c == "" {
		return FieldError(field+".country", "is required")
	}
	if !IsCountryCode(c) {
		return FieldError(field+".country", "must be a two-letter ISO 3166-1 country code, such as GB (not UK)")
	}
	a.Country = c
	return nil
}

// notAssignedCountries are the codes the region data knows as countries that
// ISO 3166-1 only reserves: Ascension, Clipperton, Diego Garcia and Tristan da
// Cunha (their territories' codes are SH, FR, IO and SH).
var notAssignedCountries = map[string]bool{"AC": true, "CP": true, "DG": true, "TA": true}

// IsCountryCode reports whether code is an ISO 3166-1 alpha-2 code of a
// country or territory, in upper case: assigned codes and XK (Kosovo), which
// couriers use. Reserved codes (UK, EU, UN) and unknown ones (ZZ) are not.
func IsCountryCode(code string) bool {
	if len(code) != 2 || code[0] < 'A' || code[0] > 'Z' || code[1] < 'A' || code[1] > 'Z' || notAssignedCountries[code] {
		return false
	}
	r, err := language.ParseRegion(code)
	return err == nil && r.String() == code && r.IsCountry() && r.ISO3() != "ZZZ"
}

func postcodeChars(s string) bool {
	for _, r := range s {
		ok := r == ' ' || r == '-' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z')
		if !ok {
			return false
		}
	}
	return true
}

// Rate is the price of one courier service for a parcel.
type Rate struct {
	Courier     string
	CourierName string
	ServiceCode string
	ServiceName string
	AmountMinor int64
	Currency    string
}

// Pricing rules of Quote.
const (
	// ExtraWeightStepGrams is the step of weight charged above a service's default parcel.
	ExtraWeightStepGrams = 500
	// ExtraWeightStepMinor is the charge per started step, in minor units.
	ExtraWeightStepMinor = 50
	// VolumetricDivisor turns cubic centimetres into volumetric grams.
	VolumetricDivisor = 5
)

// BillableGrams is the larger of a parcel's weight and its volumetric weight
// (length × width × height in cm³ divided by VolumetricDivisor, in grams).
func (p Parcel) BillableGrams() int {
	volumetric := p.LengthCM * p.WidthCM * p.HeightCM / VolumetricDivisor
	return max(p.WeightGrams, volumetric)
}

// Quote prices a parcel with one service, refusing a parcel the service does
// not take (Preset.Takes): the service's base price covers its default parcel
// weight; every started 500 g above it adds 0.50; a parcel crossing a border
// costs twice as much. The result is deterministic.
func Quote(c Courier, s Preset, from, to Address, p Parcel) (Rate, error) {
	if err := s.Takes(c.Name, p); err != nil {
		return Rate{}, err
	}
	amount := s.BasePriceMinor
	if over := p.BillableGrams() - s.WeightGrams; over > 0 {
		steps := (over + ExtraWeightStepGrams - 1) / ExtraWeightStepGrams
		amount += int64(steps) * ExtraWeightStepMinor
	}
	if from.Country != to.Country {
		amount *= 2
	}
	return Rate{Courier: c.Code, CourierName: c.Name, ServiceCode: s.ServiceCode, ServiceName: s.Name, AmountMinor: amount, Currency: s.Currency}, nil
}

// Quotes prices the parcel with every service of the couriers that takes it,
// in their order; when none does, the error says so.
func Quotes(couriers []Courier, from, to Address, p Parcel) ([]Rate, error) {
	var out []Rate
	for _, c := range couriers {
		for _, s := range c.Presets {
			if r, err := Quote(c, s, from, to, p); err == nil {
				out = append(out, r)
			}
		}
	}
	if len(out) == 0 {
		scope := "every courier service"
		if len(couriers) == 1 {
			scope = "every service of " + couriers[0].Name
		}
		return nil, FieldError("parcel", "is too heavy or too large for "+scope+": see max_weight_grams and max_length_cm in GET /v1/couriers")
	}
	return out, nil
}

// Takes returns nil when the service takes the parcel: its billable weight is
// at most MaxWeightGrams and its longest side at most MaxLengthCM. Otherwise
// it is a field error naming the limit the parcel passes.
func (s Preset) Takes(courierName string, p Parcel) error {
	service := courierName + " " + s.Name
	if p.WeightGrams > s.MaxWeightGrams {
		return FieldError("parcel.weight_grams", fmt.Sprintf("is %d g: %s takes parcels up to %d g", p.WeightGrams, service, s.MaxWeightGrams))
	}
	longest, side := p.LengthCM, "length_cm"
	if p.WidthCM > longest {
		longest, side = p.WidthCM, "width_cm"
	}
	if p.HeightCM > longest {
		longest, side = p.HeightCM, "height_cm"
	}
	if longest > s.MaxLengthCM {
		return FieldError("parcel."+side, fmt.Sprintf("is %d cm: %s takes parcels up to %d cm on their longest side", longest, service, s.MaxLengthCM))
	}
	if billable := p.BillableGrams(); billable > s.MaxWeightGrams {
		return FieldError("parcel", fmt.Sprintf("has a volumetric weight of %d g (length × width × height ÷ %d): %s takes parcels up to %d g",
			billable, VolumetricDivisor, service, s.MaxWeightGrams))
	}
	return nil
}

// Service returns the courier's preset with the service code.
func (c Courier) Service(code string) (Preset, bool) {
	for _, p := range c.Presets {
		if p.ServiceCode == code {
			return p, true
		}
	}
	return Preset{}, false
}

// MissingAuthError refuses a shipment whose courier has no registered auth
// on the key's API account in the key's mode.
type MissingAuthError struct {
	CourierName string
	AccountName string
	Mode        Mode
}

// Error says which auth to register.
func (e *MissingAuthError) Error() string {
	kind := "live (Testing: No)"
	if e.Mode == ModeTest {
		kind = "testing (Testing: Yes)"
	}
	return fmt.Sprintf("No %s registered auth for %s on API account %q. Register one under View Registered Auths, then try again.",
		kind, e.CourierName, e.AccountName)
}

// TrackingEvent is one step of a shipment's journey.
type TrackingEvent struct {
	Status      string
	Description string
	Location    string
	At          time.Time
}

// TrackingEvents simulates the journey of a shipment from its status and
// creation time: the same shipment always yields the same events.
func TrackingEvents(s Shipment) []TrackingEvent {
	at := s.CreatedAt
	events := []TrackingEvent{{Status: ShipmentCreated, Description: "Label created, awaiting collection", Location: s.FromPostcode, At: at}}
	switch s.Status {
	case ShipmentCancelled:
		events = append(events, TrackingEvent{Status: ShipmentCancelled, Description: "Shipment cancelled before collection",
			Location: s.FromPostcode, At: s.UpdatedAt})
	case ShipmentInTransit, ShipmentDelivered:
		events = append(events,
			TrackingEvent{Status: ShipmentInTransit, Description: "Collected by " + s.CourierName, Location: s.FromPostcode, At: at.Add(4 * time.Hour)},
			TrackingEvent{Status: ShipmentInTransit, Description: "Arrived at sorting hub", Location: s.FromCountry + " hub", At: at.Add(10 * time.Hour)})
		if s.Status == ShipmentDelivered {
			events = append(events,
				TrackingEvent{Status: ShipmentInTransit, Description: "Out for delivery", Location: s.ToPostcode, At: at.Add(26 * time.Hour)},
				TrackingEvent{Status: ShipmentDelivered, Description: "Delivered", Location: s.ToPostcode, At: at.Add(30 * time.Hour)})
		}
	}
	return events
}

// MaxShipmentsLimit is the largest page of GET /v1/shipments.
const MaxShipmentsLimit = 100

// DefaultShipmentsLimit is the page size of GET /v1/shipments without a limit.
const DefaultShipmentsLimit = 20
