package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport"
)

func TestGenerateTokenWithTypeAndAccess(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	path := keysPath(res)
	form := owner.htmxGet(path + "/new")
	wantContains(t, form.Body, `name="type" value="publishable"`, `name="access" value="restricted"`, `name="perm_shipments" value="write"`,
		"Suppress shipping costs in responses")
	if strings.Contains(form.Body, `name="perm_rates" value="write"`) {
		t.Fatal("a read-only resource offers Write")
	}

	bad := []struct {
		form url.Values
		msg  string
	}{
		{url.Values{"access": {"restricted"}, "perm_shipments": {"none"}}, "Select at least one endpoint permission."},
		{url.Values{"access": {"restricted"}, "perm_rates": {"write"}}, "Choose None, Read or Write for each resource."},
		{url.Values{"type": {"root"}}, "Choose Secret or Publishable."},
		{url.Values{"suppress_costs": {"on"}}, "Costs can be hidden only for restricted secret keys and publishable keys."},
		{url.Values{"type": {"publishable"}, "access": {"restricted"}, "perm_shipments": {"write"}},
			`<p class="field-error" id="f-access-error">Publishable keys always get the public permissions listed: Full access and Restricted are for secret keys.</p>`},
		{url.Values{"type": {"publishable"}, "perm_shipments": {"write"}},
			`<p class="field-error" id="f-permissions-error">Publishable keys always get the public permissions listed (couriers, rates, tracking): set every resource to None.</p>`},
		{url.Values{"access": {"full"}, "perm_shipments": {"read"}}, "Permissions are chosen only for a restricted key"},
		{url.Values{"expiry_date": {"2030-01-01"}}, `<p class="field-error" id="f-expiry_date-error">A date applies only to “On a date…”: choose it, or clear the date.</p>`},
	}
	for _, b := range bad {
		b.form.Set("name", "Bad")
		if b.form.Get("expiry") == "" {
			b.form.Set("expiry", "never")
		}
		r := owner.htmxPost(path, b.form)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.Body, b.msg)
	}
	if n := app.count(`SELECT count(*) FROM api_keys`); n != 0 {
		t.Fatalf("keys created from bad input: %d", n)
	}

	restricted := owner.htmxPost(path, url.Values{"name": {"Reporting"}, "expiry": {"never"}, "access": {"restricted"},
		"perm_shipments": {"read"}, "suppress_costs": {"on"}})
	wantStatus(t, restricted, http.StatusOK)
	if !strings.HasPrefix(plaintextKey.FindString(restricted.Body), "sk_test_") {
		t.Fatal("no secret key revealed")
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE name = 'Reporting' AND type = 'secret' AND access = 'restricted'
		AND permissions = 'shipments:read' AND suppress_costs = TRUE`); n != 1 {
		t.Fatal("the restricted key is not stored with exactly shipments:read and costs hidden")
	}
	public := owner.htmxPost(path, url.Values{"name": {"Checkout widget"}, "expiry": {"never"}, "type": {"publishable"},
		"access": {"full"}, "perm_shipments": {"none"}})
	wantStatus(t, public, http.StatusOK)
	if !strings.HasPrefix(plaintextKey.FindString(public.Body), "pk_test_") {
		t.Fatal("no publishable key revealed")
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE type = 'publishable' AND access = 'restricted'
		AND permissions = 'couriers:read rates:read tracking:read'`); n != 1 {
		t.Fatal("the publishable key does not hold exactly the public permissions")
	}
	full := owner.htmxPost(path, url.Values{"name": {"Everything"}, "expiry": {"never"}})
	wantStatus(t, full, http.StatusOK)
	if n := app.count(`SELECT count(*) FROM api_keys WHERE name = 'Everything' AND access = 'full' AND permissions = ''`); n != 1 {
		t.Fatal("the default is not a full-access secret")
	}
}

func TestLiveRequestCarriesItsAccessToTheQueueAndTheIssuedKey(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	none := goodRequest("Reporting")
	none.Set("access", "restricted")
	r := owner.htmxPost(requestsPath(res), none)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.Body, "Select at least one endpoint permission.")
	if n := app.count(`SELECT count(*) FROM live_key_requests`); n != 0 {
		t.Fatalf("requests filed from bad input: %d", n)
	}

	form := goodRequest("Reporting")
	form.Set("access", "restricted")
	form.Set("perm_shipments", "read")
	form.Set("suppress_costs", "on")
	wantStatus(t, owner.post(requestsPath(res), form), http.StatusSeeOther)
	var id int64
	if err := app.db.SQL().QueryRow(`SELECT id FROM live_key_requests WHERE token_name = 'Reporting'`).Scan(&id); err != nil {
		t.Fatal(err)
	}

	admin := app.adminClient()
	queue := admin.get("/admin/requests")
	wantContains(t, queue.Body, "Secret · 1 permission", "<code class=\"mono\">shipments:read</code>", "Costs hidden")
	detail := admin.get(fmt.Sprintf("/admin/requests/%d", id))
	wantContains(t, detail.Body, "Access asked for", "shipments:read", "Costs hidden")
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusSeeOther)

	issued := owner.htmxPost(fmt.Sprintf("%s/%d/issue", requestsPath(res), id), nil)
	wantStatus(t, issued, http.StatusOK)
	if !strings.HasPrefix(plaintextKey.FindString(issued.Body), "sk_live_") {
		t.Fatal("no live key revealed")
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE mode = 'live' AND access = 'restricted' AND permissions = 'shipments:read'
		AND suppress_costs = TRUE AND request_id = $1`, id); n != 1 {
		t.Fatal("the issued key does not have the access the request asked for")
	}
}

func TestLivePublishableRequestCarriesItsAllowedOrigins(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	form := goodRequest("Checkout")
	form.Set("type", "publishable")
	form.Set("allowed_origins", "https://shop.acme.example")
	wantStatus(t, owner.post(requestsPath(res), form), http.StatusSeeOther)
	var id int64
	if err := app.db.SQL().QueryRow(`SELECT id FROM live_key_requests WHERE token_name = 'Checkout'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	admin := app.adminClient()
	wantContains(t, admin.get("/admin/requests").Body, `<code class="mono">https://shop.acme.example</code>`)
	wantContains(t, admin.get(fmt.Sprintf("/admin/requests/%d", id)).Body, `<code class="mono">https://shop.acme.example</code>`)
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusSeeOther)
	issued := owner.htmxPost(fmt.Sprintf("%s/%d/issue", requestsPath(res), id), nil)
	wantStatus(t, issued, http.StatusOK)
	if n := app.count(`SELECT count(*) FROM api_keys WHERE mode = 'live' AND type = 'publishable'
		AND allowed_origins = 'https://shop.acme.example' AND request_id = $1`, id); n != 1 {
		t.Fatal("the issued key does not allow the origin the request asked for")
	}
	kid := app.keyIDs(res.Account.ID, "name = 'Checkout'")[0]
	panel := owner.get(fmt.Sprintf("/secrets/%d", kid))
	wantContains(t, panel.Body, "<dt>Allowed origins</dt>", `<code class="mono">https://shop.acme.example</code>`)
}

func TestPublishableKeysStayVisibleSecretKeysNever(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	secret := owner.generate(res, "Server")
	r := owner.htmxPost(keysPath(res), url.Values{"name": {"Checkout widget"}, "expiry": {"never"}, "type": {"publishable"}})
	wantStatus(t, r, http.StatusOK)
	public := plaintextKey.FindString(r.Body)
	if !strings.HasPrefix(public, "pk_test_") {
		t.Fatalf("no publishable key revealed:\n%s", r.Body)
	}
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	for _, page := range []response{owner.get(keysPath(res)), owner.get("/secrets"), reviewer.get("/secrets"),
		owner.htmxGet(accountPath(res) + "/tokens")} {
		wantContains(t, page.Body, public, "Copy publishable key Checkout widget")
		if strings.Contains(page.Body, secret) || strings.Contains(page.Body, secret[8:]) {
			t.Fatal("a secret key is shown whole")
		}
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE public_value <> '' AND type = 'secret'`); n != 0 {
		t.Fatal("a secret key's value is stored")
	}
	if _, err := app.db.SQL().Exec(`INSERT INTO api_keys (account_id, merchant_id, type, mode, name, hash, prefix, first4, last4,
		created_at, public_value) VALUES ($1, $2, 'secret', 'test', 'x', x'00', 'sk_test_', 'a', 'b', 1, 'sk_test_leak')`,
		res.Account.ID, res.Merchant.ID); err == nil {
		t.Fatal("the database accepted a secret key's value")
	}
}
