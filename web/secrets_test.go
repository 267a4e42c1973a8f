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

func TestSecretsPageListsEveryKeyRedactedWithFilters(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	ci := owner.generate(res, "CI server")
	created := owner.htmxPost("/accounts", url.Values{"name": {"EU warehouse"}})
	legacy := plaintextKey.FindString(created.Body)
	restricted, err := app.db.CreateKey(context.Background(), keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID,
		MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeLive, Name: "Reporting", Access: keyport.AccessRestricted,
		Permissions: []string{"shipments:read"}, SuppressCosts: true})
	if err != nil {
		t.Fatal(err)
	}

	page := owner.get("/secrets")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, ">CI server<", ">Legacy API Secret<", ">Reporting<", "EU warehouse", "Default", "Unrestricted",
		"1 permission", "Costs hidden", `<span class="badge">sk_live_</span>`, restricted.Key.First4+"********"+restricted.Key.Last4,
		"Permissions of Reporting", "Revoke Reporting")
	for _, plain := range []string{ci, legacy, restricted.Plaintext} {
		if strings.Contains(page.Body, plain) || strings.Contains(page.Body, plain[8:]) {
			t.Fatal("the page shows a whole key")
		}
	}
	eu := app.count(`SELECT id FROM api_accounts WHERE name = 'EU warehouse'`)
	tests := []struct {
		query      string
		want, lack []string
	}{
		{fmt.Sprintf("account=%d", eu), []string{"Legacy API Secret"}, []string{"CI server", "Reporting"}},
		{"mode=live", []string{"Reporting"}, []string{"CI server", "Legacy API Secret"}},
		{"type=publishable", []string{"No keys match this filter."}, []string{"CI server"}},
		{"status=revoked", []string{"No keys match this filter."}, []string{"Reporting"}},
		{"status=active&mode=test", []string{"CI server", "Legacy API Secret"}, []string{"Reporting"}},
		{"mode=prod&status=<script>", []string{"CI server", "Reporting"}, []string{"<script>"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			r := owner.getURL("/secrets?" + tt.query)
			wantStatus(t, r, http.StatusOK)
			wantContains(t, r.Body, tt.want...)
			for _, l := range tt.lack {
				if strings.Contains(r.Body, ">"+l+"<") || (l == "<script>" && strings.Contains(r.Body, l)) {
					t.Fatalf("shows %s", l)
				}
			}
		})
	}
}

func TestEyePanelShowsExactlyTheGrantedPermissions(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	restricted, err := app.db.CreateKey(context.Background(), keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID,
		MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeLive, Name: "Reporting", Access: keyport.AccessRestricted,
		Permissions: []string{"shipments:read"}, SuppressCosts: true})
	if err != nil {
		t.Fatal(err)
	}
	owner.generate(res, "Full")
	full := app.keyIDs(res.Account.ID, "name = 'Full'")[0]
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)

	panel := reviewer.htmxGet(fmt.Sprintf("/secrets/%d", restricted.Key.ID))
	wantStatus(t, panel, http.StatusOK)
	wantContains(t, panel.Body, "shipments:read", "shipments:write", "couriers:read", "Costs hidden", "1 permission")
	if n := strings.Count(panel.Body, `badge-ok">Granted<`); n != 1 {
		t.Fatalf("%d permissions shown granted, want exactly shipments:read", n)
	}
	row := panel.Body[strings.Index(panel.Body, "shipments:read"):]
	if !strings.HasPrefix(row[strings.Index(row, "badge"):], `badge badge-ok">Granted`) {
		t.Fatal("shipments:read is not the granted one")
	}
	fullPanel := owner.htmxGet(fmt.Sprintf("/secrets/%d", full))
	if n := strings.Count(fullPanel.Body, `badge-ok">Granted<`); n != len(keyport.PermissionCatalog) {
		t.Fatalf("full access shows %d granted", n)
	}
	wantContains(t, fullPanel.Body, "Unrestricted", "Shown")

	app.signupMerchant("Bolt", "owner@bolt.test")
	bolt := app.client()
	bolt.login("owner@bolt.test")
	wantStatus(t, bolt.htmxGet(fmt.Sprintf("/secrets/%d", restricted.Key.ID)), http.StatusNotFound)
	if strings.Contains(bolt.getURL(fmt.Sprintf("/secrets?account=%d", res.Account.ID)).Body, "Reporting") {
		t.Fatal("another merchant lists Acme's keys")
	}
}

func TestRevokeFromTheSecretsPage(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	owner.generate(res, "CI server")
	id := app.keyIDs(res.Account.ID, "TRUE")[0]
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	page := reviewer.get("/secrets")
	wantContains(t, page.Body, "Permissions of CI server")
	if strings.Contains(page.Body, "Revoke CI server") {
		t.Fatal("the reviewer is offered the trash icon")
	}
	wantStatus(t, reviewer.post(fmt.Sprintf("/secrets/%d/revoke", id), nil), http.StatusForbidden)
	app.signupMerchant("Bolt", "owner@bolt.test")
	bolt := app.client()
	bolt.login("owner@bolt.test")
	wantStatus(t, bolt.post(fmt.Sprintf("/secrets/%d/revoke", id), nil), http.StatusNotFound)
	if n := app.count(`SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`); n != 1 {
		t.Fatal("the key was revoked by someone who may not")
	}

	r := owner.post(fmt.Sprintf("/secrets/%d/revoke", id), url.Values{"back": {"/secrets?mode=test&status=active"}})
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != "/secrets?mode=test&status=active" {
		t.Fatalf("back to %s", loc)
	}
	wantContains(t, owner.getURL("/secrets?status=revoked").Body, "Revoked “CI server”", "CI server")
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'key.revoked' AND actor = 'owner@acme.test'`); n != 1 {
		t.Fatalf("revoke events: %d", n)
	}
	wantStatus(t, owner.post(fmt.Sprintf("/secrets/%d/revoke", id), nil), http.StatusConflict)
}

func TestSecretsBackStaysOnTheSecretsPage(t *testing.T) {
	for back, want := range map[string]string{
		"":                               "/secrets",
		"/secrets?mode=live":             "/secrets?mode=live",
		"https://evil.example/secrets?x": "/secrets",
		"//evil.example/secrets?x=1":     "/secrets",
		"/accounts?mode=live":            "/secrets",
		"/secrets/../admin?x=1":          "/secrets",
		"javascript:alert(1)":            "/secrets",
	} {
		if got := secretsBack(back); got != want {
			t.Errorf("%q: %q, want %q", back, got, want)
		}
	}
}

func TestReviewerLandsOnTheSecretsPage(t *testing.T) {
	app := newTestApp(t)
	_, res := app.merchant("Acme", "owner@acme.test")
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	r := reviewer.get("/")
	if r.Code != http.StatusSeeOther || r.Header.Get("Location") != "/secrets" {
		t.Fatalf("reviewer home: %d %s", r.Code, r.Header.Get("Location"))
	}
	wantContains(t, reviewer.get("/secrets").Body, `href="/secrets" aria-current="page"`)
}

func TestAdminSupportViewRevokesWithAReasonTheMerchantSees(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	leaked := owner.generate(res, "Leaked key")
	id := app.keyIDs(res.Account.ID, "TRUE")[0]
	_, other := app.merchant("Bolt", "owner@bolt.test")
	admin := app.adminClient()
	base := fmt.Sprintf("/admin/merchants/%d/secrets", res.Merchant.ID)

	wantContains(t, admin.get("/admin/merchants").Body, "API secrets of Acme")
	page := admin.get(base)
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "API secrets of Acme", "Support view, read-only", ">Leaked key<", "Revoke Leaked key with a reason")
	if strings.Contains(page.Body, leaked) || strings.Contains(page.Body, fmt.Sprintf(`action="%s/%d/revoke"`, base, id)) {
		t.Fatal("the support view shows the key or a revoke without a reason")
	}
	wantStatus(t, admin.htmxGet(fmt.Sprintf("%s/%d", base, id)), http.StatusOK)
	wantStatus(t, admin.getURL(fmt.Sprintf("/admin/merchants/%d/secrets/%d", other.Merchant.ID, id)), http.StatusNotFound)
	wantStatus(t, admin.get("/admin/merchants/999/secrets"), http.StatusNotFound)

	for _, reason := range []string{"", "   "} {
		r := admin.htmxPost(fmt.Sprintf("%s/%d/revoke", base, id), url.Values{"reason": {reason}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.Body, "Reason is required.")
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL`); n != 0 {
		t.Fatal("revoked without a reason")
	}
	r := admin.post(fmt.Sprintf("%s/%d/revoke", base, id), url.Values{"reason": {"Found in a public repository"}})
	wantStatus(t, r, http.StatusSeeOther)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'key.revoked' AND actor = 'staff@keyport.test'
		AND merchant_id = $1 AND detail LIKE '%Found in a public repository'`, res.Merchant.ID); n != 1 {
		t.Fatal("the admin's revocation is not audited for the merchant")
	}
	wantContains(t, owner.getURL("/secrets?status=revoked").Body, "Found in a public repository")
	wantContains(t, owner.get(keysPath(res)).Body, "Reason: Found in a public repository")

	for _, path := range []string{base, fmt.Sprintf("%s/%d", base, id), fmt.Sprintf("%s/%d/revoke", base, id)} {
		wantStatus(t, owner.get(path), http.StatusForbidden)
	}
	wantStatus(t, owner.post(fmt.Sprintf("%s/%d/revoke", base, id), url.Values{"reason": {"x"}}), http.StatusForbidden)
}

func TestCreateAKeyFromTheSecretsPage(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	page := owner.get("/secrets")
	wantContains(t, page.Body, "Create a test key in", `action="/secrets/new"`)
	form := owner.htmxGet(fmt.Sprintf("/secrets/new?from=secrets&account=%d", res.Account.ID))
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, `name="from" value="secrets"`, ">Create key</button>", `name="access" value="restricted"`, "Create a test key · Default")
	created := owner.htmxPost(keysPath(res), url.Values{"name": {"Nightly export"}, "expiry": {"never"}, "from": {"secrets"},
		"access": {"restricted"}, "perm_shipments": {"read"}})
	wantStatus(t, created, http.StatusOK)
	if plaintextKey.FindString(created.Body) == "" {
		t.Fatal("no key revealed")
	}
	wantContains(t, created.Body, `<a class="btn btn-primary" href="/secrets">Done</a>`)
	wantContains(t, owner.get("/secrets").Body, ">Nightly export<", "1 permission")

	_, other := app.merchant("Bolt", "owner@bolt.test")
	wantStatus(t, owner.htmxGet(fmt.Sprintf("/secrets/new?from=secrets&account=%d", other.Account.ID)), http.StatusNotFound)
	wantStatus(t, owner.htmxGet("/secrets/new?account=abc"), http.StatusNotFound)
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	if strings.Contains(reviewer.get("/secrets").Body, "Create a test key in") {
		t.Fatal("the reviewer is offered key creation")
	}
	wantStatus(t, reviewer.htmxGet(fmt.Sprintf("/secrets/new?account=%d", res.Account.ID)), http.StatusForbidden)
}
