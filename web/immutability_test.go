package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport"
)

// TestNoRouteChangesAKeysAccess sends every POST route of the app, with every
// path id pointing at a restricted key and its account, a form that asks for
// more access, as the merchant's Owner and as an admin; the key keeps exactly
// the access it was created with.
func TestNoRouteChangesAKeysAccess(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	k, err := app.db.CreateKey(context.Background(), keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID,
		MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeLive, Name: "Reporting", Access: keyport.AccessRestricted,
		Permissions: []string{"shipments:read"}, SuppressCosts: true})
	if err != nil {
		t.Fatal(err)
	}
	admin := app.adminClient()
	ids := map[string]string{":id": fmt.Sprint(res.Account.ID), ":kid": fmt.Sprint(k.Key.ID), ":mid": fmt.Sprint(res.Merchant.ID),
		":rid": "1", ":aid": "1", ":sid": "1"}
	form := url.Values{"access": {"full"}, "type": {"secret"}, "permissions": {"shipments:read shipments:write"},
		"perm_shipments": {"write"}, "perm_couriers": {"read"}, "suppress_costs": {""}, "name": {"Reporting"}, "grace": {"1h"},
		"reason": {"test"}, "expiry": {"never"}}
	state := func() string {
		var typ, access, perms string
		var suppress bool
		if err := app.db.SQL().QueryRow(`SELECT type, access, permissions, suppress_costs FROM api_keys WHERE id = $1`, k.Key.ID).
			Scan(&typ, &access, &perms, &suppress); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(typ, access, perms, suppress)
	}
	want := state()
	posts := 0
	// These end the sessions the walk goes on with; none of them touches a key.
	signsOut := map[string]bool{"/logout": true, "/settings/sessions/end": true, "/admin/merchants/:mid/disable": true}
	for _, r := range app.srv.Echo().Routes() {
		if r.Method != http.MethodPost || signsOut[r.Path] {
			continue
		}
		path := r.Path
		for param, id := range ids {
			path = strings.ReplaceAll(path, param, id)
		}
		for _, c := range []*client{owner, admin} {
			c.post(path, form)
			posts++
		}
		if got := state(); got != want {
			t.Fatalf("POST %s changed the key's access from %s to %s", r.Path, want, got)
		}
	}
	if posts < 30 {
		t.Fatalf("only %d POST requests sent: the route walk is broken", posts)
	}
	wantStatus(t, owner.get("/accounts"), http.StatusOK)
	wantStatus(t, admin.get("/admin/requests"), http.StatusOK)
}

// TestReviewerIsRefusedEveryStateChange sends every state-changing route of
// the app, walked from the router, as a Reviewer with a form that would
// succeed for an Owner, and expects 403 with nothing changed.
func TestReviewerIsRefusedEveryStateChange(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	owner.generate(res, "CI")
	authID := owner.registerDPD(res, "Acme Ltd")
	requestID := owner.file(res, "Production")
	shipmentID := app.addShipments(res, keyport.ModeTest, 1)
	keyID := app.keyIDs(res.Account.ID, "TRUE")[0]
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	ids := map[string]string{":id": fmt.Sprint(res.Account.ID), ":kid": fmt.Sprint(keyID), ":mid": fmt.Sprint(res.Merchant.ID),
		":rid": fmt.Sprint(requestID), ":aid": fmt.Sprint(authID), ":sid": fmt.Sprint(shipmentID)}
	form := goodDPD("Reviewer Ltd")
	for k, v := range goodRequest("Reviewer's") {
		form[k] = v
	}
	for k, v := range map[string]string{"name": "Reviewer's", "expiry": "never", "grace": "now", "reason": "x", "question": "x",
		"reply": "x", "token_cap": "9", "confirm_name": "Default", "field": "password"} {
		form.Set(k, v)
	}
	// Public routes (the leak report included), and the routes where every signed-in user changes their own sign-in.
	public := map[string]bool{"/login": true, "/signup": true, "/logout": true, "/invite": true, "/password/forgot": true,
		"/password/reset": true, "/settings/password": true, "/settings/sessions/end": true, "/settings/email": true,
		"/verify-email": true, "/settings/verify-email": true, "/settings/sessions/:session/end": true, "/login/code": true,
		"/sudo": true, "/login/passkey": true, "/settings/two-factor/passkeys": true, "/settings/two-factor/passkeys/:pid/remove": true,
		"/settings/two-factor/app": true, "/settings/two-factor/app/confirm": true, "/settings/two-factor/recovery-codes": true,
		"/settings/two-factor/off": true, "/v1/leaks": true}
	// Search forms that post only so that a whole key stays out of the address: a Reviewer may search.
	searches := map[string]bool{"/secrets": true}
	state := func() string {
		return fmt.Sprint(app.accountState(), app.count(`SELECT count(*) FROM live_key_requests WHERE state = 'pending'`),
			app.count(`SELECT count(*) FROM audit_events`), app.count(`SELECT count(*) FROM api_keys`))
	}
	before := state()
	checked := 0
	for _, r := range app.srv.Echo().Routes() {
		switch r.Method {
		case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		default:
			continue
		}
		if public[r.Path] {
			continue
		}
		path := r.Path
		for param, id := range ids {
			path = strings.ReplaceAll(path, param, id)
		}
		if isAPIPath(r.Path) {
			if r.Method == http.MethodPost && r.Path != "/v1/*" && r.Path != "/v1" {
				t.Run("session on "+r.Path, func(t *testing.T) {
					wantStatus(t, reviewer.post(path, form), http.StatusUnauthorized)
				})
			}
			continue
		}
		if searches[r.Path] {
			t.Run("search "+r.Path, func(t *testing.T) {
				wantStatus(t, reviewer.post(path, url.Values{"q": {"Default"}}), http.StatusSeeOther)
			})
			continue
		}
		if r.Method != http.MethodPost {
			t.Fatalf("%s %s: only POST routes change state here; extend this test for %s", r.Method, r.Path, r.Method)
		}
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			wantStatus(t, reviewer.post(path, form), http.StatusForbidden)
		})
		checked++
	}
	if after := state(); after != before {
		t.Fatalf("state changed from %s to %s", before, after)
	}
	if checked < 20 {
		t.Fatalf("only %d state-changing routes found: the route walk is broken", checked)
	}
	t.Logf("%d state-changing routes refused to a Reviewer", checked)
}
