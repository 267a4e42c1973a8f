package web

import (
	"time"

	"keyport"
)

// apiList is a JSON list response.
type apiList[T any] struct {
	Data []T `json:"data"`
}

// apiPage is one page of a JSON list with a cursor to the next.
type apiPage[T any] struct {
	Data       []T    `json:"data"`
	HasMore    bool   `json:"has_more"`
	NextCursor string `json:"next_cursor,omitempty"`
}

type apiCourier struct {
	Code     string       `json:"code"`
	Name     string       `json:"name"`
	Services []apiService `json:"services"`
}

type apiService struct {
	ServiceCode    string    `json:"service_code"`
	Name           string    `json:"name"`
	DefaultParcel  apiParcel `json:"default_parcel"`
	MaxWeightGrams int       `json:"max_weight_grams"`
	MaxLengthCM    int       `json:"max_length_cm"`
}

type apiParcel struct {
	WeightGrams int `json:"weight_grams"`
	LengthCM    int `json:"length_cm"`
	WidthCM     int `json:"width_cm"`
	HeightCM    int `json:"height_cm"`
}

func apiCouriers(list []keyport.Courier) []apiCourier {
	out := make([]apiCourier, 0, len(list))
	for _, c := range list {
		ac := apiCourier{Code: c.Code, Name: c.Name, Services: make([]apiService, 0, len(c.Presets))}
		for _, p := range c.Presets {
			ac.Services = append(ac.Services, apiService{ServiceCode: p.ServiceCode, Name: p.Name,
				DefaultParcel:  apiParcel{WeightGrams: p.WeightGrams, LengthCM: p.LengthCM, WidthCM: p.WidthCM, HeightCM: p.HeightCM},
				MaxWeightGrams: p.MaxWeightGrams, MaxLengthCM: p.MaxLengthCM})
		}
		out = append(out, ac)
	}
	return out
}

// apiRate is one price; AmountMinor and Currency are left out for keys that suppress costs.
type apiRate struct {
	Courier             string `json:"courier"`
	CourierName         string `json:"courier_name"`
	ServiceCode         string `json:"service_code"`
	ServiceName         string `json:"service_name"`
	BillableWeightGrams int    `json:"billable_weight_grams"`
	AmountMinor         *int64 `json:"amount_minor,omitempty" minimum:"0" doc:"Price in minor units; left out for keys that suppress shipping costs"`
	Currency            string `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"ISO 4217 code; left out for keys that suppress shipping costs"`
}

func newAPIRate(r keyport.Rate, billable int, suppressCosts bool) apiRate {
	out := apiRate{Courier: r.Courier, CourierName: r.CourierName, ServiceCode: r.ServiceCode, ServiceName: r.ServiceName,
		BillableWeightGrams: billable}
	if !suppressCosts {
		out.AmountMinor, out.Currency = &r.AmountMinor, r.Currency
	}
	return out
}

// apiShipment is a shipment as the API shows it; AmountMinor and Currency are
// left out for keys that suppress costs.
type apiShipment struct {
	ID             int64           `json:"id" minimum:"1"`
	Mode           keyport.Mode    `json:"mode" enum:"test|live"`
	Status         string          `json:"status" enum:"created|in_transit|delivered|cancelled"`
	Courier        string          `json:"courier"`
	CourierName    string          `json:"courier_name"`
	ServiceCode    string          `json:"service_code"`
	ServiceName    string          `json:"service_name"`
	TrackingNumber string          `json:"tracking_number"`
	LabelRef       string          `json:"label_ref"`
	AmountMinor    *int64          `json:"amount_minor,omitempty" minimum:"0" doc:"Price in minor units; left out for keys that suppress shipping costs"`
	Currency       string          `json:"currency,omitempty" pattern:"^[A-Z]{3}$" doc:"ISO 4217 code; left out for keys that suppress shipping costs"`
	From           keyport.Address `json:"from"`
	To             keyport.Address `json:"to"`
	WeightGrams    int             `json:"weight_grams"`
	CreatedAt      time.Time       `json:"created_at"`
	UpdatedAt      time.Time       `json:"updated_at"`
}

func newAPIShipment(s keyport.Shipment, suppressCosts bool) apiShipment {
	out := apiShipment{ID: s.ID, Mode: s.Mode, Status: s.Status, Courier: s.Courier, CourierName: s.CourierName,
		ServiceCode: s.ServiceCode, ServiceName: s.ServiceName, TrackingNumber: s.TrackingNumber, LabelRef: s.LabelRef,
		From: keyport.Address{Postcode: s.FromPostcode, Country: s.FromCountry}, To: keyport.Address{Postcode: s.ToPostcode, Country: s.ToCountry},
		WeightGrams: s.WeightGrams, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
	if !suppressCosts {
		amount := s.AmountMinor
		out.AmountMinor, out.Currency = &amount, s.Currency
	}
	return out
}

type apiTracking struct {
	TrackingNumber string             `json:"tracking_number"`
	Status         string             `json:"status" enum:"created|in_transit|delivered|cancelled"`
	Courier        string             `json:"courier"`
	CourierName    string             `json:"courier_name"`
	Events         []apiTrackingEvent `json:"events"`
}

type apiTrackingEvent struct {
	Status      string    `json:"status" enum:"created|in_transit|delivered|cancelled"`
	Description string    `json:"description"`
	Location    string    `json:"location"`
	OccurredAt  time.Time `json:"occurred_at"`
}

func newAPITracking(s keyport.Shipment) apiTracking {
	out := apiTracking{TrackingNumber: s.TrackingNumber, Status: s.Status, Courier: s.Courier, CourierName: s.CourierName}
	for _, e := range keyport.TrackingEvents(s) {
		out.Events = append(out.Events, apiTrackingEvent{Status: e.Status, Description: e.Description, Location: e.Location, OccurredAt: e.At})
	}
	return out
}
