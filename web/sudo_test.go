package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"keyport"
)

// TestSensitiveActionsAskWhoYouAreAfterTenMinutes walks every sensitive
// action 11 minutes after sign-in: each sends the browser to confirm who the
// user is, runs nothing, and runs after the password.
func TestSensitiveActionsAskWhoYouAreAfterTenMinutes(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	app.merchant("Globex", "hank@globex.test")
	authID := owner.registerDPD(res, "Acme Ltd")
	app.newKey(res, keyport.NewKey{Mode: keyport.ModeLive, Name: "Live"})
	liveID := app.keyIDs(res.Account.ID, "mode = 'live'")[0]
	app.newKey(res, keyport.NewKey{Name: "Test"})
	testID := app.keyIDs(res.Account.ID, "mode = 'test'")[0]
	dev := app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	admin := app.adminClient()
	requestID := dev.file(res, "Production")
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", requestID), nil), http.StatusSeeOther)
	devUser := app.userID("dev@acme.test")
	hank := app.userID("hank@globex.test")
	app.enableTwoFactor("hank@globex.test")

	app.advance(11 * time.Minute)
	acct := fmt.Sprintf("/accounts/%d", res.Account.ID)
	actions := []struct {
		c      *client
		path   string
		form   url.Values
		action keyport.SensitiveAction
	}{
		{owner, fmt.Sprintf("%s/auths/%d/reveal", acct, authID), url.Values{"field": {"password"}}, keyport.SudoRevealSecret},
		{owner, fmt.Sprintf("%s/keys/%d/roll", acct, liveID), url.Values{"grace": {"now"}}, keyport.SudoLiveKey},
		{dev, fmt.Sprintf("%s/requests/%d/issue", acct, requestID), nil, keyport.SudoLiveKey},
		{owner, fmt.Sprintf("/team/members/%d/role", devUser), url.Values{"role": {"reviewer"}}, keyport.SudoTeamRole},
		{admin, "/admin/settings", url.Values{"token_cap": {"9"}}, keyport.SudoPlatformSettings},
		{admin, fmt.Sprintf("/admin/merchants/%d/disable", res.Merchant.ID), nil, keyport.SudoMerchantAccess},
		{admin, fmt.Sprintf("/admin/merchants/%d/users/%d/two-factor/reset", app.merchantOf("hank@globex.test"), hank), nil,
			keyport.SudoTwoFactorReset},
	}
	before := app.count(`SELECT count(*) FROM audit_events`) + app.count(`SELECT count(*) FROM api_keys`)
	for _, a := range actions {
		res := a.c.post(a.path, a.form)
		if res.Code != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/sudo?action="+string(a.action)) {
			t.Fatalf("POST %s after 11 minutes: %d %q, want the confirmation page", a.path, res.Code, res.Header.Get("Location"))
		}
	}
	if after := app.count(`SELECT count(*) FROM audit_events`) + app.count(`SELECT count(*) FROM api_keys`); after != before {
		t.Fatal("a sensitive action ran without confirmation")
	}
	wantStatus(t, owner.post(fmt.Sprintf("%s/keys/%d/roll", acct, testID), url.Values{"grace": {"now"}}), http.StatusOK)

	page := owner.getURL("/sudo?action=reveal_secret&next=" + url.QueryEscape(acct+"/auths"))
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Confirm it's you", "You are about to reveal a secret of a registered auth.")
	wrong := owner.post("/sudo", url.Values{"action": {"reveal_secret"}, "next": {acct + "/auths"}, "password": {"not-my-password-at-all"}})
	wantStatus(t, wrong, http.StatusUnprocessableEntity)
	wantContains(t, wrong.Body, "This is not your current password.")
	for _, next := range []string{"https://evil.test/", "//evil.test/x"} {
		res := owner.post("/sudo", url.Values{"action": {"reveal_secret"}, "next": {next}, "password": {testPassword}})
		if loc := res.Header.Get("Location"); res.Code != http.StatusSeeOther || !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") {
			t.Fatalf("next %q sent the browser to %q", next, loc)
		}
	}
	done := owner.post("/sudo", url.Values{"action": {"reveal_secret"}, "next": {acct + "/auths"}, "password": {testPassword}})
	if done.Header.Get("Location") != acct+"/auths" {
		t.Fatalf("after confirming: %d %q", done.Code, done.Header.Get("Location"))
	}
	wantStatus(t, owner.post(fmt.Sprintf("%s/auths/%d/reveal", acct, authID), url.Values{"field": {"password"}}), http.StatusOK)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.identity_confirmed' AND detail = 'reveal_secret'`); n != 3 {
		t.Fatalf("%d audit events of confirmations, want 3", n)
	}

	app.advance(11 * time.Minute)
	if loc := owner.post(fmt.Sprintf("%s/auths/%d/reveal", acct, authID), url.Values{"field": {"password"}}).Header.Get("Location"); !strings.HasPrefix(loc, "/sudo?") {
		t.Fatalf("the confirmation lasted more than 10 minutes: %q", loc)
	}
}

func TestASecondFactorCodeConfirmsIdentity(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	secret := owner.setUpApp()
	authID := owner.registerDPD(res, "Acme Ltd")
	app.advance(11 * time.Minute)
	page := owner.getURL("/sudo?action=reveal_secret&next=/accounts")
	wantContains(t, page.Body, "Or a code of your authenticator app")
	bad := owner.post("/sudo", url.Values{"action": {"reveal_secret"}, "next": {"/accounts"}, "code": {"000000"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, "This code is not valid.")
	wantStatus(t, owner.post("/sudo", url.Values{"action": {"reveal_secret"}, "next": {"/accounts"}, "code": {app.totpCode(secret)}}),
		http.StatusSeeOther)
	wantStatus(t, owner.post(fmt.Sprintf("/accounts/%d/auths/%d/reveal", res.Account.ID, authID), url.Values{"field": {"password"}}),
		http.StatusOK)
}

// userID is the id of the user of email.
func (a *testApp) userID(email string) int64 {
	a.t.Helper()
	u, err := a.db.UserByEmail(context.Background(), email)
	if err != nil {
		a.t.Fatal(err)
	}
	return u.ID
}

// merchantOf is the merchant id of the user of email.
func (a *testApp) merchantOf(email string) int64 {
	a.t.Helper()
	u, err := a.db.UserByEmail(context.Background(), email)
	if err != nil {
		a.t.Fatal(err)
	}
	return u.MerchantID
}
