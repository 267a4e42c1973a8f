//go:build !loadtest

package web

import (
	"net/http"
	"strings"
	"testing"

	"keyport"
)

// The load-test routes exist only in a build with -tags loadtest: the shipped
// binary answers them as any unknown /v1 path.
func TestShippedBuildHasNoLoadTestRoutes(t *testing.T) {
	app := newTestApp(t)
	key := app.newKey(app.signupMerchant("Acme", "owner@acme.test"), keyport.NewKey{})
	for _, rt := range app.srv.Echo().Routes() {
		if strings.Contains(rt.Path, "loadtest") {
			t.Errorf("route %s %s is in the shipped build", rt.Method, rt.Path)
		}
	}
	cases := []struct {
		name, path string
		auth       []string
	}{
		{"twin of the couriers", "/v1/loadtest/couriers", nil},
		{"twin of the couriers with a key", "/v1/loadtest/couriers", []string{"Bearer " + key}},
		{"stats", "/v1/loadtest/stats", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := app.callAPI(http.MethodGet, tc.path, tc.auth, "")
			wantJSON(t, r, http.StatusNotFound, nil)
			if strings.Contains(r.Body, "key_lookups") || strings.Contains(r.Body, "couriers") {
				t.Fatalf("body %s", r.Body)
			}
		})
	}
}
