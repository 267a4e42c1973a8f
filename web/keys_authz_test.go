package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport"
)

// route is one request a test sends to every route of a kind.
type route struct {
	method, path string
}

// accountReadRoutes are the routes of an account that every merchant role may read.
func accountReadRoutes(accountID int64) []route {
	acct := fmt.Sprintf("/accounts/%d", accountID)
	return []route{
		{http.MethodGet, acct + "/keys"},
		{http.MethodGet, acct + "/keys/section?mode=test"},
	}
}

// keyManagerRoutes are the routes of an account that only Owners and Developers may use.
func keyManagerRoutes(accountID, keyID, requestID int64) []route {
	acct := fmt.Sprintf("/accounts/%d", accountID)
	return []route{
		{http.MethodGet, acct + "/keys/manage?mode=test"},
		{http.MethodGet, acct + "/keys/new"},
		{http.MethodPost, acct + "/keys"},
		{http.MethodPost, fmt.Sprintf("%s/keys/%d/revoke", acct, keyID)},
		{http.MethodGet, fmt.Sprintf("%s/keys/%d/roll", acct, keyID)},
		{http.MethodPost, fmt.Sprintf("%s/keys/%d/roll", acct, keyID)},
		{http.MethodGet, acct + "/requests/new"},
		{http.MethodPost, acct + "/requests"},
		{http.MethodPost, fmt.Sprintf("%s/requests/%d/reply", acct, requestID)},
		{http.MethodPost, fmt.Sprintf("%s/requests/%d/cancel", acct, requestID)},
		{http.MethodPost, fmt.Sprintf("%s/requests/%d/issue", acct, requestID)},
	}
}

func (c *client) send(r route) response {
	c.app.t.Helper()
	if r.method == http.MethodPost {
		return c.post(r.path, url.Values{"name": {"x"}, "expiry": {"never"}, "reply": {"x"}, "reason": {"x"}, "question": {"x"},
			"token_cap": {"5"}, "token_name": {"x"}, "intended_use": {strings.Repeat("x", 30)}, "website": {"https://x.example"},
			"monthly_shipments": {"1"}, "grace": {"1h"}})
	}
	return c.getURL(r.path)
}

func TestOtherMerchantsObjectsAreNotFound(t *testing.T) {
	app := newTestApp(t)
	a, resA := app.merchant("Acme", "owner@acme.test")
	a.generate(resA, "A's key")
	requestID := a.file(resA, "A's request")
	admin := app.adminClient()
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", requestID), nil), http.StatusSeeOther)
	keyID := app.keyIDs(resA.Account.ID, "TRUE")[0]

	b, resB := app.merchant("Bolt", "owner@bolt.test")
	b.generate(resB, "B's key")
	bRequest := b.file(resB, "B's request")

	mine := fmt.Sprintf("/accounts/%d", resB.Account.ID)
	routes := append(accountReadRoutes(resA.Account.ID), keyManagerRoutes(resA.Account.ID, keyID, requestID)...)
	routes = append(routes,
		// B's own account with A's key and request ids.
		route{http.MethodPost, fmt.Sprintf("%s/keys/%d/revoke", mine, keyID)},
		route{http.MethodPost, fmt.Sprintf("%s/requests/%d/reply", mine, requestID)},
		route{http.MethodPost, fmt.Sprintf("%s/requests/%d/cancel", mine, requestID)},
		route{http.MethodPost, fmt.Sprintf("%s/requests/%d/issue", mine, requestID)},
		// Ids that are not ids.
		route{http.MethodGet, "/accounts/abc/keys"},
		route{http.MethodGet, "/accounts/0/keys"},
		route{http.MethodPost, mine + "/keys/abc/revoke"},
		route{http.MethodGet, mine + "/keys/section?mode=prod"},
		route{http.MethodGet, mine + "/keys/manage?mode="},
	)
	for _, r := range routes {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			res := b.send(r)
			wantStatus(t, res, http.StatusNotFound)
			if strings.Contains(res.Body, "A&#39;s") || strings.Contains(res.Body, "A's") {
				t.Fatal("the response shows A's data")
			}
		})
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL`, resA.Account.ID); n != 1 {
		t.Fatalf("A's active keys: %d", n)
	}
	if s := app.requestState(requestID); s != keyport.RequestApproved {
		t.Fatalf("A's request is %s", s)
	}
	if s := app.requestState(bRequest); s != keyport.RequestPending {
		t.Fatalf("B's request is %s", s)
	}
	if n := app.count(`SELECT count(*) FROM api_keys`); n != 2 {
		t.Fatalf("keys: %d", n)
	}
}

func TestReviewerSeesKeysButCannotChangeThem(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	owner.generate(res, "CI")
	requestID := owner.file(res, "Prod")
	keyID := app.keyIDs(res.Account.ID, "TRUE")[0]
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)

	page := reviewer.get(keysPath(res))
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "CI", "Live token request: Prod")
	for _, label := range []string{">Generate Token<", ">Request Live Token<", ">Manage Your Tokens<", ">Cancel request<"} {
		if strings.Contains(page.Body, label) {
			t.Fatalf("reviewer is offered %s", label)
		}
	}
	for _, r := range keyManagerRoutes(res.Account.ID, keyID, requestID) {
		wantStatus(t, reviewer.send(r), http.StatusForbidden)
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`); n != 1 {
		t.Fatalf("active keys: %d", n)
	}

	developer := app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	developer.generate(res, "Dev's key")
}

func TestAdminRoutesRefuseMerchantRolesAndAdminCannotMint(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	requestID := owner.file(res, "Prod")
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	developer := app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	adminRoutes := []route{
		{http.MethodGet, "/admin/requests"},
		{http.MethodGet, fmt.Sprintf("/admin/requests/%d", requestID)},
		{http.MethodPost, fmt.Sprintf("/admin/requests/%d/approve", requestID)},
		{http.MethodPost, fmt.Sprintf("/admin/requests/%d/reject", requestID)},
		{http.MethodPost, fmt.Sprintf("/admin/requests/%d/ask", requestID)},
		{http.MethodGet, "/admin/settings"},
		{http.MethodPost, "/admin/settings"},
		{http.MethodGet, "/admin/merchants"},
	}
	for name, c := range map[string]*client{"owner": owner, "developer": developer, "reviewer": reviewer} {
		for _, r := range adminRoutes {
			t.Run(name+" "+r.method+" "+r.path, func(t *testing.T) {
				wantStatus(t, c.send(r), http.StatusForbidden)
			})
		}
	}
	if s := app.requestState(requestID); s != keyport.RequestPending {
		t.Fatalf("request is %s", s)
	}
	if n, _ := app.db.TokenCap(t.Context()); n != 2 {
		t.Fatalf("cap = %d", n)
	}

	admin := app.adminClient()
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", requestID), nil), http.StatusSeeOther)
	acct := fmt.Sprintf("/accounts/%d", res.Account.ID)
	for _, r := range []route{
		{http.MethodGet, acct + "/keys"},
		{http.MethodPost, acct + "/keys"},
		{http.MethodPost, fmt.Sprintf("%s/requests/%d/issue", acct, requestID)},
	} {
		wantStatus(t, admin.send(r), http.StatusForbidden)
	}
	if n := app.count(`SELECT count(*) FROM api_keys`); n != 0 {
		t.Fatalf("admin minted %d keys", n)
	}

	anonymous := app.client()
	for _, r := range append(adminRoutes, route{http.MethodGet, acct + "/keys"}) {
		res := anonymous.send(r)
		if r.method == http.MethodGet && !sentToLogin(res, r.path) {
			t.Fatalf("%s %s: %d %q", r.method, r.path, res.Code, res.Header.Get("Location"))
		}
		if r.method == http.MethodPost && res.Code != http.StatusSeeOther && res.Code != http.StatusForbidden {
			t.Fatalf("%s %s: %d", r.method, r.path, res.Code)
		}
	}
}
