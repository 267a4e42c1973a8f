package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestReturnPathKeepsOnlyPagesOfThisSite(t *testing.T) {
	tests := []struct {
		raw, want string
	}{
		{"/secrets", "/secrets"},
		{"/secrets?status=active&mode=test", "/secrets?status=active&mode=test"},
		{"/admin/requests/7", "/admin/requests/7"},
		{"/accounts/3/shipments?q=KP%20123", "/accounts/3/shipments?q=KP%20123"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"},
		{"", ""},
		{"/", ""},
		{"secrets", ""},
		{"//evil.example/secrets", ""},
		{"///evil.example", ""},
		{"/\\evil.example", ""},
		{"\\\\evil.example", ""},
		{"https://evil.example/", ""},
		{"http:/evil.example", ""},
		{"javascript:alert(1)", ""},
		{"/secrets#top", ""},
		{"/secrets\r\nSet-Cookie: x=1", ""},
		{"/secrets\x00", ""},
		{"/login", ""},
		{"/login/code", ""},
		{"/logout", ""},
		{"/signup", ""},
		{"/password/reset?token=abc", ""},
		{"/invite?token=abc", ""},
		{"/verify-email?token=abc", ""},
		{"/" + strings.Repeat("a", maxReturnPath), ""},
	}
	for _, tt := range tests {
		if got := returnPath(tt.raw); got != tt.want {
			t.Errorf("returnPath(%q) = %q, want %q", tt.raw, got, tt.want)
		}
	}
}

// TestSignInReturnsToThePageAskedFor follows a link from an email into a
// page that needs a session: the login page carries the address, and the
// sign-in, with or without a second factor, ends on it.
func TestSignInReturnsToThePageAskedFor(t *testing.T) {
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	asked := "/secrets?status=active&mode=test"

	anon := app.client()
	res := anon.getURL(asked)
	wantStatus(t, res, http.StatusSeeOther)
	login := res.Header.Get("Location")
	if want := "/login?next=" + url.QueryEscape(asked); login != want {
		t.Fatalf("a signed-out GET %s went to %q, want %q", asked, login, want)
	}
	page := anon.getURL(login)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, `<input type="hidden" name="next" value="/secrets?status=active&amp;mode=test">`)

	wrong := anon.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"not the password"}, "next": {asked}})
	wantStatus(t, wrong, http.StatusUnauthorized)
	wantContains(t, wrong.Body, `name="next" value="/secrets?status=active&amp;mode=test"`)

	res = anon.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}, "next": {asked}})
	wantStatus(t, res, http.StatusSeeOther)
	if to := res.Header.Get("Location"); to != asked {
		t.Fatalf("the sign-in went to %q, want %q", to, asked)
	}
	wantStatus(t, anon.getURL(asked), http.StatusOK)
	if to := anon.getURL(login).Header.Get("Location"); to != asked {
		t.Fatalf("the login page, signed in, sent to %q, want %q", to, asked)
	}

	t.Run("from htmx", func(t *testing.T) {
		req, err := http.NewRequest(http.MethodGet, "http://example.test/accounts/table", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("HX-Request", "true")
		req.Header.Set("HX-Current-URL", "http://example.test/accounts?q=north")
		res := app.client().do(req)
		if to := res.Header.Get("HX-Redirect"); to != "/login?next="+url.QueryEscape("/accounts?q=north") {
			t.Fatalf("HX-Redirect %q", to)
		}
		req.Header.Set("HX-Current-URL", "https://evil.example/accounts")
		if to := app.client().do(req).Header.Get("HX-Redirect"); to != "/login" {
			t.Fatalf("a page of another site gave HX-Redirect %q", to)
		}
	})

	t.Run("a post is not replayed", func(t *testing.T) {
		res := app.client().post("/accounts", url.Values{"name": {"Returned"}})
		if to := res.Header.Get("Location"); to != "/login" {
			t.Fatalf("a signed-out POST went to %q, want /login", to)
		}
	})

	t.Run("another site is refused", func(t *testing.T) {
		for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "/logout"} {
			c := app.client()
			c.get("/login")
			res := c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}, "next": {next}})
			if to := res.Header.Get("Location"); to != "/accounts" {
				t.Errorf("next %q: the sign-in went to %q, want the Owner's home /accounts", next, to)
			}
		}
	})

	t.Run("through the second factor", func(t *testing.T) {
		app := newTestApp(t)
		owner, _ := app.merchant("Bolt", "owner@bolt.test")
		secret := owner.setUpApp()
		c := app.client()
		c.getURL("/login?next=" + url.QueryEscape("/team"))
		res := c.post("/login", url.Values{"email": {"owner@bolt.test"}, "password": {testPassword}, "next": {"/team"}})
		if to := res.Header.Get("Location"); to != "/login/code" {
			t.Fatalf("the password step went to %q", to)
		}
		c.get("/login/code")
		app.advance(30 * time.Second)
		res = c.post("/login/code", url.Values{"code": {app.totpCode(secret)}})
		wantStatus(t, res, http.StatusSeeOther)
		if to := res.Header.Get("Location"); to != "/team" {
			t.Fatalf("the code step went to %q, want /team", to)
		}
	})
}

// TestBrowserSignInReturnsToThePageAskedFor opens a bookmarked page while
// signed out, as a link in an email does, and signs in on the login page it
// leads to: the browser ends on the page it asked for.
func TestBrowserSignInReturnsToThePageAskedFor(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	b := newBrowser(t, app)
	b.open("/team")
	b.seeHeading("Log in to Keyport")
	b.fill("Email", "owner@acme.test")
	b.fill("Password", testPassword)
	b.clickIn("//form", "Log in")
	b.seeHeading("Team")
	if loc := b.location(); loc != "/team" {
		t.Fatalf("signed in on %s, want /team", loc)
	}
}
