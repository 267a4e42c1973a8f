package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport"
	"keyport/store"
)

func dismissPath(requestID int64) string { return fmt.Sprintf("/notices/%d/dismiss", requestID) }

// approvedRequest files a request as the Owner client and has an admin approve it.
func approvedRequest(t *testing.T, owner *client, admin *client, res store.SignupResult, name string) int64 {
	t.Helper()
	id := owner.file(res, name)
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusSeeOther)
	return id
}

func TestRequestNoticeStaysUntilDismissed(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	id := approvedRequest(t, owner, admin, res, "Production")
	for range 3 {
		page := owner.get("/accounts")
		wantContains(t, page.Body, approvalNotice, `action="`+dismissPath(id)+`"`, `name="back" value="/accounts"`)
	}
	wantContains(t, owner.getURL("/secrets?mode=live").Body, approvalNotice, `name="back" value="/secrets?mode=live"`)
	// A form answered with a page offers no way back to the form's URL.
	failed := owner.post("/accounts", url.Values{"name": {""}})
	wantContains(t, failed.Body, approvalNotice, `name="back" value=""`)
	// A cross-site form has no CSRF token: refused, the notice stays.
	wantStatus(t, owner.postRaw(dismissPath(id), url.Values{}), http.StatusForbidden)
	wantContains(t, owner.get(keysPath(res)).Body, approvalNotice)

	r := owner.post(dismissPath(id), url.Values{"back": {keysPath(res)}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != keysPath(res) {
		t.Fatalf("redirected to %q, want back to %q", loc, keysPath(res))
	}
	for _, path := range []string{"/accounts", keysPath(res)} {
		if strings.Contains(owner.get(path).Body, approvalNotice) {
			t.Fatalf("%s still shows the dismissed notice", path)
		}
	}
	if s := app.requestState(id); s != keyport.RequestApproved {
		t.Fatalf("dismissing moved the request to %s", s)
	}
	wantStatus(t, owner.post(dismissPath(id), nil), http.StatusSeeOther)
}

func TestDismissWithHTMXSwapsTheNoticeAway(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	id := approvedRequest(t, owner, app.adminClient(), res, "Production")
	owner.get("/accounts")
	r := owner.htmxPost(dismissPath(id), nil)
	wantStatus(t, r, http.StatusOK)
	if strings.TrimSpace(r.Body) != "" || r.Header.Get("Location") != "" {
		t.Fatalf("htmx answer %q, Location %q: want an empty body that replaces the notice", r.Body, r.Header.Get("Location"))
	}
	if strings.Contains(owner.get("/accounts").Body, approvalNotice) {
		t.Fatal("the notice is back")
	}
}

func TestDismissIsScopedToTheMerchantAndItsManagers(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	id := approvedRequest(t, owner, admin, res, "Production")
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	other, _ := app.merchant("Bolt", "owner@bolt.test")
	cases := []struct {
		name string
		c    *client
		path string
		want int
	}{
		{"another merchant's Owner", other, dismissPath(id), http.StatusNotFound},
		{"another merchant's Owner, htmx", other, dismissPath(id), http.StatusNotFound},
		{"a request that does not exist", other, dismissPath(id + 100), http.StatusNotFound},
		{"a malformed id", owner, "/notices/abc/dismiss", http.StatusNotFound},
		{"the merchant's Reviewer", reviewer, dismissPath(id), http.StatusForbidden},
		{"an admin", admin, dismissPath(id), http.StatusForbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.c.post(tc.path, nil)
			if strings.HasSuffix(tc.name, "htmx") {
				r = tc.c.htmxPost(tc.path, nil)
			}
			wantStatus(t, r, tc.want)
			if n := app.count(`SELECT count(*) FROM live_key_requests WHERE id = $1 AND notify_merchant = TRUE`, id); n != 1 {
				t.Fatal("the notice was dismissed")
			}
		})
	}
	page := reviewer.get("/accounts")
	wantContains(t, page.Body, approvalNotice)
	if strings.Contains(page.Body, dismissPath(id)) {
		t.Fatal("the Reviewer is offered a Dismiss form")
	}
	if strings.Contains(other.get("/accounts").Body, approvalNotice) {
		t.Fatal("another merchant sees the notice")
	}
}

func TestDismissNeverRedirectsOffTheSite(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	if err := app.db.SetTokenCap(t.Context(), keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ back, want string }{
		{"", "/accounts"},
		{"/secrets?mode=live", "/secrets?mode=live"},
		{"//evil.example/accounts", "/accounts"},
		{"https://evil.example/", "/accounts"},
		{"/\\evil.example", "/accounts"},
		{"\\\\evil.example", "/accounts"},
		{"javascript:alert(1)", "/accounts"},
		{"accounts", "/accounts"},
		{"/accounts\r\nSet-Cookie: x=1", "/accounts"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"},
	}
	for _, tc := range cases {
		t.Run(tc.back, func(t *testing.T) {
			id := approvedRequest(t, owner, admin, res, "Production")
			r := owner.post(dismissPath(id), url.Values{"back": {tc.back}})
			wantStatus(t, r, http.StatusSeeOther)
			if loc := r.Header.Get("Location"); loc != tc.want {
				t.Fatalf("back %q redirected to %q, want %q", tc.back, loc, tc.want)
			}
		})
	}
}
