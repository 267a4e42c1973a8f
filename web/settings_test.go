package web

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"keyport"
)

// sessionCookie returns the value of the client's session cookie.
func (c *client) sessionCookie() string {
	for _, ck := range c.jar.Cookies(testBase) {
		if ck.Name == "keyport_session" {
			return ck.Value
		}
	}
	return ""
}

// wantSignedOut fails unless the client's next page request is sent to the login page.
func wantSignedOut(t *testing.T, c *client, what string) {
	t.Helper()
	r := c.get("/settings")
	if !sentToLogin(r, "/settings") && (r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/login?signed_out=disabled") {
		t.Fatalf("%s: /settings answered %d %s, want a redirect to /login", what, r.Code, r.Header.Get("Location"))
	}
}

func passwordForm(current, next, confirm string) url.Values {
	return url.Values{"current_password": {current}, "new_password": {next}, "confirm_password": {confirm}}
}

func TestEverySignedInUserHasSettings(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	clients := map[string]*client{
		"owner":     owner,
		"developer": app.member(res, "dev@acme.test", keyport.RoleDeveloper),
		"reviewer":  app.member(res, "rita@acme.test", keyport.RoleReviewer),
		"admin":     app.adminClient(),
	}
	for name, c := range clients {
		page := c.get("/settings")
		wantStatus(t, page, http.StatusOK)
		wantContains(t, page.Body, "Your settings", `href="/settings" aria-current="page"`, "Change password", "Current password",
			"Confirm new password", "Sign out of all sessions", `href="/settings/sessions/end"`, "signed in on this device only")
		if name == "admin" {
			wantContains(t, page.Body, "Platform admin", "staff@keyport.test")
		} else {
			wantContains(t, page.Body, "at Acme")
		}
	}
	wantContains(t, owner.get("/accounts").Body, `href="/settings"`, "Your settings")
	anonymous := app.client()
	wantSignedOut(t, anonymous, "anonymous")
	for _, path := range []string{"/settings/password", "/settings/sessions/end"} {
		r := anonymous.post(path, passwordForm(testPassword, "a-new-unusual-passphrase", "a-new-unusual-passphrase"))
		if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/login" {
			t.Fatalf("anonymous POST %s: %d", path, r.Code)
		}
		wantStatus(t, owner.postRaw(path, passwordForm(testPassword, "a-new-unusual-passphrase", "a-new-unusual-passphrase")),
			http.StatusForbidden)
	}
	second := app.client()
	second.login("owner@acme.test")
	wantContains(t, owner.get("/settings").Body, "You have 2 active sessions, this one included.")
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action IN ('user.password_changed', 'user.signed_out_everywhere')`); n != 0 {
		t.Fatalf("%d events from refused requests", n)
	}
}

func TestChangePasswordChecksTheCurrentOneAndEndsOtherSessions(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	phone := app.client()
	phone.login("owner@acme.test")
	const next = "a-new-unusual-passphrase"

	cases := []struct {
		name, current, next, confirm, field, message string
	}{
		{"wrong current", "not-my-password-at-all", next, next, "current_password", "This is not your current password."},
		{"empty current", "", next, next, "current_password", "Enter your current password."},
		{"short new", testPassword, "short", "short", "new_password", "Password must be at least 12 characters."},
		{"common new", testPassword, "Password1234", "Password1234", "new_password", "This password is too common."},
		{"own email in new", testPassword, "owner@acme.test-2026", "owner@acme.test-2026", "new_password", "Password must not contain your name, your email"},
		{"merchant name in new", testPassword, "acme-for-ever-2026", "acme-for-ever-2026", "new_password", "Password must not contain your name, your email"},
		{"confirm differs", testPassword, next, next + "x", "confirm_password", "The two new passwords do not match."},
		{"same as current", testPassword, testPassword, testPassword, "new_password", "Choose a password different from your current one."},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := owner.post("/settings/password", passwordForm(tc.current, tc.next, tc.confirm))
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r.Body, `id="f-`+tc.field+`-error">`+tc.message)
			if u, err := app.db.UserByID(context.Background(), res.Owner.ID); err != nil || u.PasswordHash != passwordHashOnce() {
				t.Fatal("the password changed on bad input")
			}
		})
	}
	wantStatus(t, phone.get("/settings"), http.StatusOK)

	before := owner.sessionCookie()
	r := owner.post("/settings/password", passwordForm(testPassword, next, next))
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/settings" {
		t.Fatalf("after the change: %s", loc)
	}
	after := owner.sessionCookie()
	if after == "" || after == before {
		t.Fatal("the session id was not renewed")
	}
	page := owner.get("/settings")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Your password has been changed. Your 1 other session was signed out.", "signed in on this device only")
	wantSignedOut(t, phone, "the other session")
	stale := app.client()
	stale.jar.SetCookies(testBase, []*http.Cookie{{Name: "keyport_session", Value: before, Path: "/"}})
	wantSignedOut(t, stale, "the replaced session id")

	if r := app.client().post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}}); r.Code != http.StatusUnauthorized {
		t.Fatalf("the old password still logs in: %d", r.Code)
	}
	if r := app.client().post("/login", url.Values{"email": {"owner@acme.test"}, "password": {next}}); r.Code != http.StatusSeeOther {
		t.Fatalf("the new password does not log in: %d", r.Code)
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.password_changed' AND object_id = $1`, res.Owner.ID); n != 1 {
		t.Fatalf("password change events: %d", n)
	}
}

func TestWrongCurrentPasswordsAreThrottled(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	for i := 0; i < 5; i++ {
		wantStatus(t, owner.post("/settings/password", passwordForm("a-wrong-guess-"+string(rune('a'+i)), "a-new-unusual-passphrase",
			"a-new-unusual-passphrase")), http.StatusUnprocessableEntity)
	}
	r := owner.post("/settings/password", passwordForm(testPassword, "a-new-unusual-passphrase", "a-new-unusual-passphrase"))
	wantStatus(t, r, http.StatusTooManyRequests)
	wantContains(t, r.Body, "Too many failed attempts.")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.password_changed'`); n != 0 {
		t.Fatal("the password changed while throttled")
	}
}

func TestSignOutOfAllSessionsEndsThisOneToo(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	laptop := app.client()
	laptop.login("owner@acme.test")
	colleague := app.member(res, "dev@acme.test", keyport.RoleDeveloper)

	r := owner.post("/settings/sessions/end", nil)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/login?signed_out=all" {
		t.Fatalf("signed out to %s", loc)
	}
	wantContains(t, owner.getURL("/login?signed_out=all").Body, "You have been signed out of all sessions")
	wantSignedOut(t, owner, "this session")
	wantSignedOut(t, laptop, "the other session")
	wantStatus(t, colleague.get("/settings"), http.StatusOK)
	if n := app.count(`SELECT count(*) FROM sessions WHERE user_id = $1`, res.Owner.ID); n != 0 {
		t.Fatalf("%d sessions remain", n)
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.signed_out_everywhere' AND object_id = $1`, res.Owner.ID); n != 1 {
		t.Fatalf("sign-out events: %d", n)
	}
	owner.login("owner@acme.test")
	wantStatus(t, owner.get("/settings"), http.StatusOK)
}

// otherSession returns the public id of a session of the user with email
// other than the one c holds.
func (a *testApp) otherSession(c *client, email string) string {
	a.t.Helper()
	page := c.get("/settings")
	m := regexp.MustCompile(`href="/settings/sessions/([0-9a-f]{16})/end"`).FindStringSubmatch(page.Body)
	if m == nil {
		a.t.Fatalf("no other session of %s is listed:\n%s", email, page.Body)
	}
	return m[1]
}

func TestUsersSeeTheirSessionsAndEndOne(t *testing.T) {
	app := newTestApp(t)
	laptop, res := app.merchant("Acme", "owner@acme.test")
	phone := app.client()
	phone.login("owner@acme.test")
	intruder, _ := app.merchant("Bolt", "owner@bolt.test")

	page := laptop.get("/settings")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "You have 2 active sessions, this one included.", "This session", "203.0.113.7", "an unknown browser")
	if n := strings.Count(page.Body, `>Sign out</a>`); n != 1 {
		t.Fatalf("%d Sign out buttons, want one, for the other session only", n)
	}
	other := app.otherSession(laptop, "owner@acme.test")
	wantStatus(t, intruder.post("/settings/sessions/"+other+"/end", nil), http.StatusNotFound)
	wantStatus(t, phone.get("/accounts"), http.StatusOK)

	ended := laptop.post("/settings/sessions/"+other+"/end", nil)
	wantStatus(t, ended, http.StatusSeeOther)
	page = laptop.get("/settings")
	wantContains(t, page.Body, "Signed out of an unknown browser (203.0.113.7).", "You are signed in on this device only.")
	if r := phone.get("/accounts"); r.Code != http.StatusSeeOther {
		t.Fatalf("the ended session still works: %d", r.Code)
	}
	wantStatus(t, laptop.get("/accounts"), http.StatusOK)
	wantStatus(t, laptop.post("/settings/sessions/"+other+"/end", nil), http.StatusNotFound)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.session_ended' AND merchant_id = $1`, res.Merchant.ID); n != 1 {
		t.Fatalf("%d session_ended events, want 1", n)
	}
}
