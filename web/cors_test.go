package web

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"keyport"
)

func TestPublishableKeysAnswerBrowsersOnTheirAllowedOrigins(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	anySite := app.newKey(m.res, keyport.NewKey{Name: "Any site", Type: keyport.KeyPublishable, Access: keyport.AccessRestricted,
		Permissions: keyport.PermissionCatalog.Public()})
	shopOnly := app.newKey(m.res, keyport.NewKey{Name: "Shop only", Type: keyport.KeyPublishable, Access: keyport.AccessRestricted,
		Permissions: keyport.PermissionCatalog.Public(), AllowedOrigins: []string{"https://shop.example", "http://localhost:3000"}})
	tests := []struct {
		name, method, path, key, origin, body string
		status                                int
		allowed                               bool
		code                                  string
	}{
		{"any site, couriers", "GET", "/v1/couriers", anySite, "https://anywhere.example", "", 200, true, ""},
		{"any site, rates", "POST", "/v1/rates", anySite, "https://anywhere.example", rateBody, 200, true, ""},
		{"any site, a bad rate request can be read", "POST", "/v1/rates", anySite, "https://anywhere.example", `{}`, 400, true, "invalid_request"},
		{"listed origin", "GET", "/v1/couriers", shopOnly, "https://shop.example", "", 200, true, ""},
		{"listed origin in other letter case", "GET", "/v1/couriers", shopOnly, "https://Shop.Example", "", 200, true, ""},
		{"listed origin with a port", "GET", "/v1/couriers", shopOnly, "http://localhost:3000", "", 200, true, ""},
		{"another origin", "GET", "/v1/couriers", shopOnly, "https://evil.example", "", 403, false, "origin_not_allowed"},
		{"another port", "GET", "/v1/couriers", shopOnly, "http://localhost:3001", "", 403, false, "origin_not_allowed"},
		{"no origin: a server", "GET", "/v1/couriers", shopOnly, "", "", 200, false, ""},
		{"secret key from a browser", "GET", "/v1/couriers", m.key, "https://shop.example", "", 200, false, ""},
		{"publishable key on a secret endpoint", "GET", "/v1/shipments", anySite, "https://shop.example", "", 403, false, "publishable_key_not_allowed"},
		{"unknown key", "GET", "/v1/couriers", "pk_test_nope", "https://shop.example", "", 401, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{"Authorization": "Bearer " + tt.key}
			if tt.origin != "" {
				header["Origin"] = tt.origin
			}
			var r response
			if tt.method == "POST" {
				r = app.postAPI(tt.path, tt.key, tt.body, header)
			} else {
				rec := app.send(tt.method, tt.path, header)
				r = response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
			}
			wantStatus(t, r, tt.status)
			got := r.Header.Get("Access-Control-Allow-Origin")
			if (tt.allowed && got != tt.origin) || (!tt.allowed && got != "") {
				t.Fatalf("Access-Control-Allow-Origin %q for origin %q, allowed %v", got, tt.origin, tt.allowed)
			}
			if tt.allowed && !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), "X-Request-Id") {
				t.Fatalf("exposed headers %q", r.Header.Get("Access-Control-Expose-Headers"))
			}
			if r.Header.Get("Access-Control-Allow-Credentials") != "" {
				t.Fatal("credentials allowed")
			}
			if tt.code != "" && !strings.Contains(r.Body, `"error": "`+tt.code+`"`) {
				t.Fatalf("body %s, want %s", r.Body, tt.code)
			}
			if strings.HasPrefix(tt.path, "/v1/couriers") && !strings.Contains(strings.Join(r.Header.Values("Vary"), ","), "Origin") {
				t.Fatalf("Vary %q lacks Origin", r.Header.Values("Vary"))
			}
			if tt.origin != "" && r.Header.Get("Cache-Control") != "no-store" {
				t.Fatalf("an answer to a page on another origin may be cached: %q", r.Header.Get("Cache-Control"))
			}
		})
	}
}

func TestPreflightsOpenOnlyThePublicEndpoints(t *testing.T) {
	app := newTestApp(t)
	tests := []struct {
		path, method string
		allowed      bool
		methods      string
	}{
		{"/v1/couriers", "GET", true, "GET, HEAD"},
		{"/v1/rates", "POST", true, "POST"},
		{"/v1/tracking/KP123", "GET", true, "GET, HEAD"},
		{"/v1/shipments", "POST", false, ""},
		{"/v1/shipments", "GET", false, ""},
		{"/v1/shipments/1/cancel", "POST", false, ""},
		{"/v1/couriers", "DELETE", false, ""},
	}
	for _, tt := range tests {
		rec := app.send("OPTIONS", tt.path, map[string]string{"Origin": "https://shop.example", "Access-Control-Request-Method": tt.method,
			"Access-Control-Request-Headers": "authorization, content-type"})
		if rec.Code != http.StatusNoContent || rec.Header().Get("Allow") == "" {
			t.Fatalf("%s preflight of %s: status %d, Allow %q", tt.path, tt.method, rec.Code, rec.Header().Get("Allow"))
		}
		h := rec.Header()
		if got := h.Get("Access-Control-Allow-Origin") == "https://shop.example"; got != tt.allowed {
			t.Errorf("%s preflight of %s: allowed %v, want %v", tt.path, tt.method, got, tt.allowed)
		}
		if !tt.allowed {
			continue
		}
		if h.Get("Access-Control-Allow-Methods") != tt.methods || !strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Idempotency-Key") || h.Get("Access-Control-Max-Age") != "600" {
			t.Errorf("%s preflight headers %v", tt.path, h)
		}
	}
	if rec := app.send("OPTIONS", "/v1/couriers", nil); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Error("an OPTIONS without Origin got CORS headers")
	}
}

func TestAllowedOriginsAreSetWithThePublishableKeyAndKept(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	path := keysPath(res)
	form := owner.htmxGet(path + "/new")
	wantContains(t, form.Body, `name="allowed_origins"`, "Allowed origins of a publishable key")
	bad := []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"type": {"secret"}, "allowed_origins": {"https://shop.example"}}, "Allowed origins apply to publishable keys only"},
		{url.Values{"type": {"publishable"}, "allowed_origins": {"shop.example"}}, `&#34;shop.example&#34; is not.`},
		{url.Values{"type": {"publishable"}, "allowed_origins": {"https://shop.example/checkout"}}, "without a path"},
		{url.Values{"type": {"publishable"}, "allowed_origins": {"ftp://shop.example"}}, "such as https://shop.example.com"},
		{url.Values{"type": {"publishable"}, "allowed_origins": {strings.Repeat("https://a.example\n", 1) + strings.Repeat("https://b.example ", 1) +
			"https://c1.example https://c2.example https://c3.example https://c4.example https://c5.example https://c6.example https://c7.example " +
			"https://c8.example https://c9.example https://c10.example https://c11.example https://c12.example https://c13.example " +
			"https://c14.example https://c15.example https://c16.example https://c17.example https://c18.example https://c19.example"}}, "List at most 20 origins."},
	}
	for _, b := range bad {
		b.form.Set("name", "Bad")
		b.form.Set("expiry", "never")
		r := owner.htmxPost(path, b.form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.Body, `id="f-allowed_origins-error"`, b.msg)
	}
	if n := app.count(`SELECT count(*) FROM api_keys`); n != 0 {
		t.Fatalf("keys created from bad input: %d", n)
	}
	r := owner.htmxPost(path, url.Values{"name": {"Checkout"}, "expiry": {"never"}, "type": {"publishable"},
		"allowed_origins": {"https://Shop.example\r\nhttp://localhost:3000, https://shop.example"}})
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.Body, "This publishable key is not a secret: it stays visible in your key lists")
	if strings.Contains(r.Body, "This is the only time it will be shown") {
		t.Fatal("a publishable key's reveal says it is shown only once")
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE name = 'Checkout' AND allowed_origins = 'https://shop.example http://localhost:3000'`); n != 1 {
		t.Fatal("the allowed origins are not stored in lower case, once each")
	}
	id := app.keyIDs(res.Account.ID, "name = 'Checkout'")[0]
	rolled, err := app.db.RollKey(context.Background(), keyport.SystemActor, res.Merchant.ID, res.Account.ID, id, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rolled.Key.AllowedOrigins, " ") != "https://shop.example http://localhost:3000" {
		t.Fatalf("the rolled key allows %v", rolled.Key.AllowedOrigins)
	}
	k, err := app.db.LookupKey(context.Background(), sha256.Sum256([]byte(rolled.Plaintext)))
	if err != nil || strings.Join(k.AllowedOrigins, " ") != "https://shop.example http://localhost:3000" {
		t.Fatalf("the verifier reads %v (%v)", k.AllowedOrigins, err)
	}
}
