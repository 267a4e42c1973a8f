package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport"
)

// accountPageReadRoutes are the routes of this account's pop-ups and pages that every merchant role may read.
func accountPageReadRoutes(accountID, shipmentID int64) []route {
	acct := fmt.Sprintf("/accounts/%d", accountID)
	return []route{
		{http.MethodGet, acct + "/tokens"},
		{http.MethodGet, acct + "/auths"},
		{http.MethodGet, acct + "/shipments"},
		{http.MethodGet, acct + "/shipments?mode=live"},
		{http.MethodGet, fmt.Sprintf("%s/shipments/%d", acct, shipmentID)},
	}
}

// accountChangeRoutes are the routes of an account that change it or its auths: Owners and Developers only.
func accountChangeRoutes(accountID, authID int64) []route {
	acct := fmt.Sprintf("/accounts/%d", accountID)
	return []route{
		{http.MethodPost, acct + "/disable"},
		{http.MethodPost, acct + "/enable"},
		{http.MethodGet, acct + "/delete"},
		{http.MethodPost, acct + "/delete"},
		{http.MethodGet, acct + "/auths/new"},
		{http.MethodGet, acct + "/auths/fields?courier=dpd"},
		{http.MethodPost, acct + "/auths"},
		{http.MethodPost, fmt.Sprintf("%s/auths/%d/reveal", acct, authID)},
		{http.MethodPost, fmt.Sprintf("%s/auths/%d/delete", acct, authID)},
	}
}

// sendAccountForm sends a route with a form that would succeed for its owner.
func (c *client) sendAccountForm(r route, accountName string) response {
	c.app.t.Helper()
	if r.method != http.MethodPost {
		return c.getURL(r.path)
	}
	form := goodDPD("Intruder Ltd")
	form.Set("confirm_name", accountName)
	form.Set("field", "password")
	form.Set("name", "Intruder account")
	return c.post(r.path, form)
}

// accountState is everything the routes of this issue could change.
func (a *testApp) accountState() string {
	a.t.Helper()
	return fmt.Sprint(
		a.count(`SELECT count(*) FROM api_accounts WHERE deleted_at IS NULL AND disabled_at IS NULL`),
		a.count(`SELECT count(*) FROM api_accounts`),
		a.count(`SELECT count(*) FROM registered_auths WHERE deleted_at IS NULL`),
		a.count(`SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`),
		a.count(`SELECT count(*) FROM audit_events WHERE action LIKE 'auth.%' OR action LIKE 'account.%'`),
	)
}

func TestAnotherMerchantGetsNotFoundOnEveryAccountRoute(t *testing.T) {
	app := newTestApp(t)
	a, resA := app.merchant("Acme", "owner@acme.test")
	a.generate(resA, "A's key")
	authID := a.registerDPD(resA, "Alpha Co")
	shipmentID := app.addShipments(resA, keyport.ModeTest, 1)
	keyID := app.keyIDs(resA.Account.ID, "TRUE")[0]

	b, resB := app.merchant("Bolt", "owner@bolt.test")
	bAuth := b.registerDPD(resB, "Bravo Co")
	mine := fmt.Sprintf("/accounts/%d", resB.Account.ID)
	routes := append(accountPageReadRoutes(resA.Account.ID, shipmentID), accountChangeRoutes(resA.Account.ID, authID)...)
	routes = append(routes,
		route{http.MethodGet, fmt.Sprintf("/accounts/%d/keys/new?from=tokens", resA.Account.ID)},
		route{http.MethodPost, fmt.Sprintf("/accounts/%d/keys/%d/revoke", resA.Account.ID, keyID)},
		// B's own account with A's auth, key and shipment ids.
		route{http.MethodPost, fmt.Sprintf("%s/auths/%d/reveal", mine, authID)},
		route{http.MethodPost, fmt.Sprintf("%s/auths/%d/delete", mine, authID)},
		route{http.MethodPost, fmt.Sprintf("%s/keys/%d/revoke", mine, keyID)},
		route{http.MethodGet, fmt.Sprintf("%s/shipments/%d", mine, shipmentID)},
		// Ids that are not ids.
		route{http.MethodGet, "/accounts/abc/tokens"},
		route{http.MethodGet, "/accounts/-1/auths"},
		route{http.MethodPost, mine + "/auths/abc/delete"},
		route{http.MethodGet, mine + "/shipments/0"},
		route{http.MethodGet, mine + "/shipments/99999999999999999999"},
	)
	before := app.accountState()
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			res := b.sendAccountForm(r, "Default")
			wantStatus(t, res, http.StatusNotFound)
			for _, leak := range []string{"A&#39;s", "Alpha Co", resA.Account.AccountKey} {
				if strings.Contains(res.Body, leak) {
					t.Fatalf("the response shows A's data (%s)", leak)
				}
			}
		})
	}
	if after := app.accountState(); after != before {
		t.Fatalf("state changed from %s to %s", before, after)
	}
	if n := app.count(`SELECT count(*) FROM registered_auths WHERE id = $1 AND deleted_at IS NULL`, bAuth); n != 1 {
		t.Fatal("B's own auth changed")
	}
}

func TestReviewerGetsForbiddenOnEveryAccountChange(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	owner.generate(res, "CI")
	authID := owner.registerDPD(res, "Acme Ltd")
	shipmentID := app.addShipments(res, keyport.ModeTest, 1)
	keyID := app.keyIDs(res.Account.ID, "TRUE")[0]
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)

	for _, r := range accountPageReadRoutes(res.Account.ID, shipmentID) {
		wantStatus(t, reviewer.getURL(r.path), http.StatusOK)
	}
	changes := append(accountChangeRoutes(res.Account.ID, authID),
		route{http.MethodGet, "/accounts/new"},
		route{http.MethodPost, "/accounts"},
		route{http.MethodGet, fmt.Sprintf("/accounts/%d/keys/new?from=tokens", res.Account.ID)},
		route{http.MethodPost, fmt.Sprintf("/accounts/%d/keys", res.Account.ID)},
		route{http.MethodPost, fmt.Sprintf("/accounts/%d/keys/%d/revoke", res.Account.ID, keyID)},
	)
	before := app.accountState()
	for _, r := range changes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			res := reviewer.sendAccountForm(r, "Default")
			wantStatus(t, res, http.StatusForbidden)
			if strings.Contains(res.Body, "Secret-DPD-pass-77") {
				t.Fatal("the reviewer saw the courier password")
			}
		})
	}
	if after := app.accountState(); after != before {
		t.Fatalf("state changed from %s to %s", before, after)
	}

	developer := app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	wantStatus(t, developer.post("/accounts", url.Values{"name": {"Dev's account"}}), http.StatusOK)
	developer.registerDPD(res, "Dev Ltd")
	wantStatus(t, developer.post(fmt.Sprintf("/accounts/%d/disable", res.Account.ID), nil), http.StatusSeeOther)

	admin := app.adminClient()
	for _, r := range append(accountPageReadRoutes(res.Account.ID, shipmentID), route{http.MethodGet, "/accounts"}) {
		wantStatus(t, admin.getURL(r.path), http.StatusForbidden)
	}
	anonymous := app.client()
	for _, r := range accountPageReadRoutes(res.Account.ID, shipmentID) {
		got := anonymous.getURL(r.path)
		if !sentToLogin(got, r.path) {
			t.Fatalf("anonymous %s: %d %s", r.path, got.Code, got.Header.Get("Location"))
		}
	}
}
