//go:build loadtest

package web

import (
	"encoding/json"
	"maps"
	"net/http"
	"slices"
	"testing"

	"keyport"
)

// The unauthenticated twin answers the very bytes of GET /v1/couriers with a
// key, headers included (but the request id), so that the load test compares
// the key check and nothing else.
func TestLoadTestTwinAnswersWhatCouriersAnswers(t *testing.T) {
	app := newTestApp(t)
	key := app.newKey(app.signupMerchant("Acme", "owner@acme.test"), keyport.NewKey{})
	keyed := app.api(http.MethodGet, "/v1/couriers", key, "")
	wantJSON(t, keyed, http.StatusOK, nil)
	cases := []struct {
		name string
		auth []string
	}{
		{"without a key", nil},
		{"with a key, which it ignores", []string{"Bearer " + key}},
		{"with an unknown key, which it ignores", []string{"Bearer sk_test_unknown"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			twin := app.callAPI(http.MethodGet, "/v1/loadtest/couriers", tc.auth, "")
			if twin.Code != keyed.Code || twin.Body != keyed.Body {
				t.Fatalf("twin answered %d with %d bytes, /v1/couriers %d with %d bytes", twin.Code, len(twin.Body), keyed.Code, len(keyed.Body))
			}
			want, got := maps.Clone(keyed.Header), maps.Clone(twin.Header)
			for _, h := range []http.Header{want, got} {
				if len(h.Get("X-Request-Id")) != 16 {
					t.Fatalf("request id %q", h.Get("X-Request-Id"))
				}
				h.Del("X-Request-Id")
			}
			for name, values := range want {
				if !slices.Equal(got[name], values) {
					t.Errorf("header %s: twin %q, /v1/couriers %q", name, got[name], values)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("twin sends header %s that /v1/couriers does not", name)
				}
			}
		})
	}
}

// The stats count every key the verifier reads from the database: once per
// key until a write empties its cache.
func TestLoadTestStatsCountKeyLookups(t *testing.T) {
	app := newTestApp(t)
	res := app.signupMerchant("Acme", "owner@acme.test")
	first, second := app.newKey(res, keyport.NewKey{Name: "first"}), app.newKey(res, keyport.NewKey{Name: "second"})
	lookups := func() int64 {
		t.Helper()
		var body struct {
			KeyLookups *int64 `json:"key_lookups"`
		}
		r := app.callAPI(http.MethodGet, "/v1/loadtest/stats", nil, "")
		wantJSON(t, r, http.StatusOK, nil)
		if err := json.Unmarshal([]byte(r.Body), &body); err != nil || body.KeyLookups == nil {
			t.Fatalf("stats %s: %v", r.Body, err)
		}
		return *body.KeyLookups
	}
	start := lookups()
	cases := []struct {
		name string
		key  string
		want int64
	}{
		{"first key read", first, 1},
		{"first key again, from the cache", first, 1},
		{"second key read", second, 2},
		{"both from the cache", first, 2},
		{"twin reads no key", "", 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.key == "" {
				wantStatus(t, app.callAPI(http.MethodGet, "/v1/loadtest/couriers", nil, ""), http.StatusOK)
			} else {
				wantStatus(t, app.api(http.MethodGet, "/v1/couriers", tc.key, ""), http.StatusOK)
			}
			if got := lookups() - start; got != tc.want {
				t.Fatalf("lookups = %d, want %d", got, tc.want)
			}
		})
	}
}
