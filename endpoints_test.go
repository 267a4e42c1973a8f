package keyport

import "testing"

func TestEndpointRoutePath(t *testing.T) {
	cases := map[string]string{
		"/v1/couriers":              "/v1/couriers",
		"/v1/tracking/{number}":     "/v1/tracking/:number",
		"/v1/shipments/{id}/cancel": "/v1/shipments/:id/cancel",
	}
	for path, want := range cases {
		if got := (Endpoint{Path: path}).RoutePath(); got != want {
			t.Errorf("RoutePath(%s) = %s, want %s", path, got, want)
		}
	}
}
