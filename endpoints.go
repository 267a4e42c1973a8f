package keyport

import "strings"

// Endpoint documents one route of the shipping API.
type Endpoint struct {
	Method string
	// Path uses {name} for path parameters, as OpenAPI does.
	Path       string
	Permission string
	// Title names the call in a few words, as a client's method documentation does.
	Title string
	// Description says what the call does and the rules it follows.
	Description string
	// Tag is the group of the call, one of APITags.
	Tag string
	// Params are the path and query parameters.
	Params []EndpointParam
	// Request is an example JSON body, empty when the endpoint takes none.
	Request string
	// Status is the status of a successful call.
	Status int
	// Response is an example JSON answer of a successful call.
	Response string
	// Errors are the statuses beyond the authentication ones the endpoint may answer.
	Errors []int
}

// EndpointParam is a path or query parameter of an endpoint.
type EndpointParam struct {
	Name        string
	In          string
	Description string
	Integer     bool
	// Min and Max bound an integer parameter; 0 means no bound beyond 1.
	Min, Max int
}

// RoutePath is the path in the router's syntax: {name} becomes :name.
func (e Endpoint) RoutePath() string {
	var b strings.Builder
	for _, part := range strings.SplitAfter(e.Path, "/") {
		if strings.HasPrefix(part, "{") {
			part = ":" + strings.NewReplacer("{", "", "}", "").Replace(part)
		}
		b.WriteString(part)
	}
	return b.String()
}

// Public reports whether publishable keys may call the endpoint.
func (e Endpoint) Public() bool {
	p, ok := PermissionCatalog.Lookup(e.Permission)
	return ok && p.Public
}

const exampleShipment = `{
  "id": 4211,
  "mode": "test",
  "status": "created",
  "courier": "dpd",
  "courier_name": "DPD",
  "service_code": "DPD_NEXT_DAY",
  "service_name": "Next Day",
  "tracking_number": "KP4093817265501937",
  "label_ref": "LBL-KP4093817265501937",
  "amount_minor": 675,
  "currency": "GBP",
  "from": {"postcode": "M1 1AE", "country": "GB"},
  "to": {"postcode": "EH1 1YZ", "country": "GB"},
  "weight_grams": 1800,
  "created_at": "2026-11-23T10:15:00Z",
  "updated_at": "2026-11-23T10:15:00Z"
}`

// APITag is a group of API calls, as OpenAPI's tags and the clients
// generated from them group their methods.
type APITag struct {
	Name, Description string
}

// APITags are the groups of the shipping API's calls, in the documentation's order.
var APITags = []APITag{
	{Name: "Couriers", Description: "The courier catalog: couriers, their services and the parcels each takes"},
	{Name: "Rates", Description: "Quotes for a parcel from every courier service"},
	{Name: "Tracking", Description: "A shipment's progress, by its tracking number"},
	{Name: "Shipments", Description: "Create, list, read and cancel the shipments of the key's API account"},
	{Name: "Leaks", Description: "Reports of API keys found in public, which need no key"},
}

// APIEndpoints lists every route of the shipping API, in the order the
// documentation shows them.
var APIEndpoints = []Endpoint{
	{
		Method: "GET", Path: "/v1/couriers", Permission: "couriers:read", Status: 200,
		Title: "List couriers", Tag: "Couriers",
		Description: "List the couriers and their services, with each service's default parcel and the largest parcel it takes " +
			"(by billable weight and longest side).",
		Response: `{
  "data": [
    {
      "code": "dpd",
      "name": "DPD",
      "services": [
        {"service_code": "DPD_NEXT_DAY", "name": "Next Day",
         "default_parcel": {"weight_grams": 2000, "length_cm": 40, "width_cm": 30, "height_cm": 20},
         "max_weight_grams": 30000, "max_length_cm": 175}
      ]
    }
  ]
}`,
	},
	{
		Method: "POST", Path: "/v1/rates", Permission: "rates:read", Status: 200, Errors: []int{400},
		Title: "Quote a parcel", Tag: "Rates",
		Description: "Quote a parcel with every courier service, or one courier's. A service's base price covers its default parcel weight; " +
			"each started 500 g of billable weight above it adds 50 (minor units); a parcel crossing a border costs twice as much. " +
			"Billable weight is the larger of the weight and length × width × height ÷ 5 (cm³ to grams). " +
			"Services that do not take the parcel (see max_weight_grams and max_length_cm in GET /v1/couriers) are left out; " +
			"when none takes it, the answer is a 400 on parcel.",
		Request: `{
  "from": {"postcode": "M1 1AE", "country": "GB"},
  "to": {"postcode": "EH1 1YZ", "country": "GB"},
  "parcel": {"weight_grams": 1800, "length_cm": 30, "width_cm": 20, "height_cm": 10},
  "courier": "dpd"
}`,
		Response: `{
  "data": [
    {"courier": "dpd", "courier_name": "DPD", "service_code": "DPD_NEXT_DAY", "service_name": "Next Day",
     "billable_weight_grams": 1800, "amount_minor": 675, "currency": "GBP"}
  ]
}`,
	},
	{
		Method: "GET", Path: "/v1/tracking/{number}", Permission: "tracking:read", Status: 200, Errors: []int{404},
		Title: "Track a shipment", Tag: "Tracking",
		Description: "Track a shipment of the key's API account and mode by its tracking number.",
		Params:      []EndpointParam{{Name: "number", In: "path", Description: "The shipment's tracking number"}},
		Response: `{
  "tracking_number": "KP4093817265501937",
  "status": "created",
  "courier": "dpd",
  "courier_name": "DPD",
  "events": [
    {"status": "created", "description": "Label created, awaiting collection", "location": "M1 1AE",
     "occurred_at": "2026-11-23T10:15:00Z"}
  ]
}`,
	},
	{
		Method: "GET", Path: "/v1/shipments", Permission: "shipments:read", Status: 200, Errors: []int{400},
		Title: "List shipments", Tag: "Shipments",
		Description: "List the shipments of the key's API account and mode, newest first.",
		Params: []EndpointParam{
			{Name: "limit", In: "query", Description: "Shipments per page, 1 to 100 (default 20)", Integer: true, Min: 1, Max: MaxShipmentsLimit},
			{Name: "cursor", In: "query", Description: "The next_cursor of the previous page"},
		},
		Response: `{
  "data": [` + exampleShipment + `],
  "has_more": true,
  "next_cursor": "4211"
}`,
	},
	{
		Method: "POST", Path: "/v1/shipments", Permission: "shipments:write", Status: 201, Errors: []int{400, 422},
		Title: "Create a shipment", Tag: "Shipments",
		Description: "Create a shipment with a courier service. The API account needs a registered auth for the courier " +
			"whose Testing flag matches the key's mode (Testing: Yes for test keys). A parcel heavier or longer than the service " +
			"takes (max_weight_grams, max_length_cm in GET /v1/couriers) is a 400 naming the field.",
		Request: `{
  "courier": "dpd",
  "service_code": "DPD_NEXT_DAY",
  "from": {"postcode": "M1 1AE", "country": "GB"},
  "to": {"postcode": "EH1 1YZ", "country": "GB"},
  "parcel": {"weight_grams": 1800, "length_cm": 30, "width_cm": 20, "height_cm": 10}
}`,
		Response: exampleShipment,
	},
	{
		Method: "GET", Path: "/v1/shipments/{id}", Permission: "shipments:read", Status: 200, Errors: []int{404},
		Title: "Read a shipment", Tag: "Shipments",
		Description: "Read one shipment of the key's API account and mode.",
		Params:      []EndpointParam{{Name: "id", In: "path", Description: "The shipment's id", Integer: true}},
		Response:    exampleShipment,
	},
	{
		Method: "POST", Path: "/v1/shipments/{id}/cancel", Permission: "shipments:write", Status: 200, Errors: []int{404, 409},
		Title: "Cancel a shipment", Tag: "Shipments",
		Description: "Cancel a shipment that has not been collected yet (status created); any other status is a 409.",
		Params:      []EndpointParam{{Name: "id", In: "path", Description: "The shipment's id", Integer: true}},
		Response:    exampleShipment,
	},
}
