package web

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestSecurityHeadersOnEveryKindOfResponse(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	signedIn := m.owner
	anon := app.client()
	pageOnly := []string{"Referrer-Policy", "Cross-Origin-Opener-Policy", "Permissions-Policy"}
	cases := []struct {
		name   string
		send   func() response
		status int
		page   bool
	}{
		{"login page", func() response { return anon.get("/login") }, http.StatusOK, true},
		{"signed-in page", func() response { return signedIn.get("/accounts") }, http.StatusOK, true},
		{"not found page", func() response { return signedIn.get("/no-such-page") }, http.StatusNotFound, true},
		{"forbidden page", func() response { return signedIn.get("/admin/merchants") }, http.StatusForbidden, true},
		{"API docs", func() response { return anon.get("/docs/api") }, http.StatusOK, true},
		{"static file", func() response { return anon.get("/static/app.css") }, http.StatusOK, true},
		{"htmx library", func() response { return anon.get("/static/htmx-2.0.11.min.js") }, http.StatusOK, true},
		{"redirect", func() response { return anon.get("/accounts") }, http.StatusSeeOther, true},
		{"health", func() response { return anon.get("/healthz") }, http.StatusOK, false},
		{"readiness", func() response { return anon.get("/readyz") }, http.StatusOK, false},
		{"API answer", func() response { return app.api(http.MethodGet, "/v1/couriers", m.key, "") }, http.StatusOK, false},
		{"API refusal", func() response { return app.callAPI(http.MethodGet, "/v1/couriers", nil, "") }, http.StatusUnauthorized, false},
		{"API not found", func() response { return app.api(http.MethodGet, "/v1/nothing", m.key, "") }, http.StatusNotFound, false},
		{"bare API path", func() response { return app.api(http.MethodGet, "/v1", m.key, "") }, http.StatusNotFound, false},
		{"OpenAPI document", func() response { return anon.get("/v1/openapi.json") }, http.StatusOK, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := tc.send()
			wantStatus(t, res, tc.status)
			csp := res.Header.Get("Content-Security-Policy")
			want := []string{"default-src 'self'", "object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "form-action 'self'"}
			if !tc.page {
				want = []string{"default-src 'none'", "frame-ancestors 'none'"}
			}
			for _, part := range want {
				if !strings.Contains(csp, part) {
					t.Errorf("CSP %q lacks %q", csp, part)
				}
			}
			if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP allows unsafe code: %q", csp)
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
			if res.Header.Get("X-Frame-Options") != "DENY" {
				t.Error("no X-Frame-Options: DENY")
			}
			for _, name := range pageOnly {
				if got := res.Header.Get(name); (got != "") != tc.page {
					t.Errorf("%s = %q on a response where page is %v", name, got, tc.page)
				}
			}
			if res.Header.Get("Strict-Transport-Security") != "" {
				t.Error("HSTS sent over plain http")
			}
		})
	}
}

func TestHTTPSBaseURLTurnsOnSecureCookiesAndHSTS(t *testing.T) {
	app := newTestApp(t)
	base, _ := url.Parse("https://keys.example.com")
	srv := New(app.db, Config{BaseURL: base, SessionKey: make([]byte, 32), IdleTimeout: 1e12, SessionLifetime: 1e13, Logger: discardLogger()})
	app.srv = srv
	app.signupMerchant("Acme", "owner@acme.test")
	rec := httptest.NewRecorder()
	srv.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://keys.example.com/login", nil))
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS over https")
	}
	token := csrfInput.FindStringSubmatch(rec.Body.String())[1]
	req := newFormRequest("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}, "_csrf": {token}})
	for _, ck := range rec.Result().Cookies() {
		if !strings.HasPrefix(ck.Name, "__Host-") || !ck.Secure {
			t.Fatalf("cookie %s is not a secure __Host- cookie", ck.Name)
		}
		req.AddCookie(ck)
	}
	rec = httptest.NewRecorder()
	srv.ServeHTTP(rec, req)
	res := response{Code: rec.Code, Header: rec.Header()}
	wantStatus(t, res, http.StatusSeeOther)
	var found bool
	for _, ck := range res.Header.Values("Set-Cookie") {
		if strings.HasPrefix(ck, "__Host-keyport_session=") {
			found = true
			for _, attr := range []string{"Secure", "HttpOnly", "SameSite=Lax", "Path=/"} {
				if !strings.Contains(ck, attr) {
					t.Errorf("session cookie %q lacks %s", ck, attr)
				}
			}
			if strings.Contains(ck, "Domain=") {
				t.Errorf("__Host- cookie has a Domain: %q", ck)
			}
		}
	}
	if !found {
		t.Fatalf("no __Host- session cookie in %v", res.Header.Values("Set-Cookie"))
	}
}

func TestSessionCookieCarriesOnlySignedID(t *testing.T) {
	app := newTestApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	c := app.client()
	c.login("owner@acme.test")
	value := sessionCookie(c)
	if value == "" {
		t.Fatal("no session cookie")
	}
	forged := app.client()
	forged.jar.SetCookies(testBase, []*http.Cookie{{Name: "keyport_session", Value: value[:len(value)-4] + "AAAA", Path: "/"}})
	res := forged.get("/accounts")
	wantStatus(t, res, http.StatusSeeOther)
}

func TestPagesAreNotCachedAndStaticIs(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	if got := c.get("/login").Header.Get("Cache-Control"); got != "no-store" {
		t.Fatalf("page Cache-Control %q", got)
	}
	if got := c.getURL("/static/app.css?v=abc").Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
		t.Fatalf("versioned static Cache-Control %q", got)
	}
}

func TestHealthAndReadiness(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	wantStatus(t, c.get("/healthz"), http.StatusOK)
	wantStatus(t, c.get("/readyz"), http.StatusOK)
	app.db.Close()
	wantStatus(t, c.get("/healthz"), http.StatusOK)
	wantStatus(t, c.get("/readyz"), http.StatusServiceUnavailable)
}

func TestErrorFragmentsForHTMX(t *testing.T) {
	app := newTestApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	c := app.client()
	c.login("owner@acme.test")
	res := c.htmxGet("/admin/merchants")
	wantStatus(t, res, http.StatusForbidden)
	if strings.Contains(res.Body, "<html") {
		t.Fatal("htmx error got a whole page")
	}
	wantContains(t, res.Body, "notice-error", "You do not have permission")
	if res.Header.Get("HX-Retarget") != "#notices" {
		t.Fatalf("HX-Retarget %q", res.Header.Get("HX-Retarget"))
	}
}

func TestOversizedBodyIsRefused(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	c.get("/signup")
	big := strings.Repeat("x", 2<<20)
	res := c.post("/signup", signupForm(big, "Ada", "ada@example.com", "a-long-unusual-passphrase"))
	wantStatus(t, res, http.StatusRequestEntityTooLarge)
	if n := app.count("SELECT count(*) FROM merchants"); n != 0 {
		t.Fatalf("merchants = %d", n)
	}
}

// TestBodyLimitIsOneMiB checks the limit the API's 413 message names: a body of
// exactly 1 MiB is read, one byte more is refused.
func TestBodyLimitIsOneMiB(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	padded := func(size int) string { return rateBody + strings.Repeat(" ", size-len(rateBody)) }
	wantStatus(t, app.api("POST", "/v1/rates", m.key, padded(maxBodyBytes)), http.StatusOK)
	wantStatus(t, app.api("POST", "/v1/rates", m.key, padded(maxBodyBytes+1)), http.StatusRequestEntityTooLarge)
}

func TestRobotsAreToldToIndexNothing(t *testing.T) {
	app := newTestApp(t)
	for _, c := range []*client{app.client(), func() *client { o, _ := app.merchant("Acme", "owner@acme.test"); return o }()} {
		res := c.get("/robots.txt")
		wantStatus(t, res, http.StatusOK)
		if res.Body != "User-agent: *\nDisallow: /\n" || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("robots.txt: %q (%s)", res.Body, res.Header.Get("Content-Type"))
		}
	}
}
