package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"keyport"
	"keyport/store"
)

func accountPath(res store.SignupResult) string { return fmt.Sprintf("/accounts/%d", res.Account.ID) }

func goodDPD(company string) url.Values {
	return url.Values{"courier": {"dpd"}, "company": {company}, "testing": {"yes"}, "field_username": {"acme-dpd"},
		"field_password": {"Secret-DPD-pass-77"}, "field_account_number": {"0012345"}, "action": {"save"}}
}

// registerDPD registers a DPD auth through the form and returns its id.
func (c *client) registerDPD(res store.SignupResult, company string) int64 {
	c.app.t.Helper()
	r := c.htmxPost(accountPath(res)+"/auths", goodDPD(company))
	wantStatus(c.app.t, r, http.StatusOK)
	wantContains(c.app.t, r.Body, "Registered the DPD auth of “"+company+"”.")
	var id int64
	if err := c.app.db.SQL().QueryRow(`SELECT max(id) FROM registered_auths`).Scan(&id); err != nil {
		c.app.t.Fatal(err)
	}
	return id
}

// addShipments stores n shipments of a mode on the account, returning the last one's id.
func (a *testApp) addShipments(res store.SignupResult, mode keyport.Mode, n int) int64 {
	a.t.Helper()
	var last int64
	for i := 0; i < n; i++ {
		tn, _ := keyport.NewTrackingNumber()
		s, err := a.db.CreateShipment(context.Background(), keyport.Shipment{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
			Mode: mode, Courier: "royal_mail", ServiceCode: "TPN24", Status: keyport.ShipmentInTransit, TrackingNumber: tn,
			LabelRef: "LBL-" + tn, AmountMinor: 395, Currency: "GBP", FromPostcode: "M1 1AE", FromCountry: "GB",
			ToPostcode: "SW1A 1AA", ToCountry: "GB", WeightGrams: 750}, 0)
		if err != nil {
			a.t.Fatal(err)
		}
		last = s.ID
	}
	return last
}

func TestAccountsPageShowsCountsAndRoleActions(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	owner.generate(res, "CI")
	owner.registerDPD(res, "Acme Ltd")
	app.addShipments(res, keyport.ModeTest, 3)

	page := owner.get("/accounts")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Create New API Account", res.Account.AccountKey, "Enabled", "Keys &amp; Tokens",
		fmt.Sprintf(`<a href="%s">Default</a>`, accountPath(res)), `Manage <span class="sr-only">Default</span>`)
	row := page.Body[strings.Index(page.Body, fmt.Sprintf(`id="account-%d"`, res.Account.ID)):]
	row = row[:strings.Index(row, "</tr>")]
	for _, cell := range []string{`<td data-label="Test keys">1</td>`, `<td data-label="Live keys">0</td>`,
		`<td data-label="Registered auths">1</td>`, `<td data-label="Shipments">3</td>`} {
		if !strings.Contains(row, cell) {
			t.Fatalf("row lacks %s:\n%s", cell, row)
		}
	}
	if n := strings.Count(row, "<td"); n != strings.Count(row, " data-label=")+1 {
		t.Fatalf("a cell other than the actions has no data-label:\n%s", row)
	}
	for _, moved := range []string{"View Registered Auths", "Register a new auth", "Disable Default", "Rename Default", "Delete Default"} {
		if strings.Contains(row, moved) {
			t.Fatalf("the row still offers %s; it belongs on the account's page", moved)
		}
	}

	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	page = reviewer.get("/accounts")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Keys &amp; Tokens", `View <span class="sr-only">Default</span>`)
	for _, hidden := range []string{"Create New API Account", "Register a new auth", "Disable Default", "Delete Default", `/disable"`, ">Manage<"} {
		if strings.Contains(page.Body, hidden) {
			t.Fatalf("reviewer is offered %s", hidden)
		}
	}
	tokens := reviewer.htmxGet(accountPath(res) + "/tokens")
	wantStatus(t, tokens, http.StatusOK)
	wantContains(t, tokens.Body, "CI", res.Account.AccountKey)
	for _, hidden := range []string{"Create Token", "Remove CI"} {
		if strings.Contains(tokens.Body, hidden) {
			t.Fatalf("reviewer's Keys & Tokens offers %s", hidden)
		}
	}
	auths := reviewer.htmxGet(accountPath(res) + "/auths")
	wantStatus(t, auths, http.StatusOK)
	wantContains(t, auths.Body, "DPD · Acme Ltd", "••••••••")
	for _, hidden := range []string{"Reveal Password", "Delete DPD auth", "Register a new auth"} {
		if strings.Contains(auths.Body, hidden) {
			t.Fatalf("reviewer's auths pop-up offers %s", hidden)
		}
	}
}

func TestAccountPageGroupsItsActionsByRole(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	owner.generate(res, "CI")
	owner.registerDPD(res, "Acme Ltd")
	app.addShipments(res, keyport.ModeTest, 3)
	base := accountPath(res)
	everyRole := []string{"<h1>Default</h1>", res.Account.AccountKey, "Copy account key", "Enabled", "1 active key",
		`href="` + base + `/tokens"`, "Developer keys of Default", ">View Registered Auths<", `href="` + base + `/shipments"`,
		`hx-get="` + base + `/summary"`, `href="/accounts">← API Accounts`}
	managing := []string{"Register a new auth for Default", "Rename Default", "Disable Default", "Delete Default",
		`hx-get="` + base + `/disable"`}
	tests := []struct {
		name   string
		client *client
		want   []string
		absent []string
	}{
		{"owner", owner, append(everyRole, managing...), []string{"You can view this API account"}},
		{"developer", app.member(res, "dev@acme.test", keyport.RoleDeveloper), append(everyRole, managing...), []string{"You can view this API account"}},
		{"reviewer", app.member(res, "rita@acme.test", keyport.RoleReviewer), append(everyRole, "You can view this API account; Owners and Developers change it."), managing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := tt.client.get(base)
			wantStatus(t, page, http.StatusOK)
			wantContains(t, page.Body, tt.want...)
			for _, hidden := range tt.absent {
				if strings.Contains(page.Body, hidden) {
					t.Fatalf("%s's account page shows %s", tt.name, hidden)
				}
			}
			summary := tt.client.htmxGet(base + "/summary")
			wantStatus(t, summary, http.StatusOK)
			wantContains(t, summary.Body, `id="account-summary"`, res.Account.AccountKey, "1 active key")
			if strings.Contains(summary.Body, "<html") {
				t.Fatal("the summary fragment is a whole page")
			}
		})
	}

	other, otherRes := app.merchant("Bolt", "owner@bolt.test")
	for _, path := range []string{base, base + "/summary"} {
		wantStatus(t, other.get(path), http.StatusNotFound)
	}
	wantStatus(t, owner.get(accountPath(otherRes)), http.StatusNotFound)

	wantStatus(t, owner.post(base+"/disable", nil), http.StatusSeeOther)
	disabled := owner.get(base)
	wantContains(t, disabled.Body, "This API account is disabled", "Enable Default", `action="`+base+`/enable"`)
	if strings.Contains(disabled.Body, "Disable Default") {
		t.Fatal("a disabled account offers Disable")
	}
	wantStatus(t, owner.htmxPost(base+"/delete", url.Values{"confirm_name": {"Default"}}), http.StatusNoContent)
	wantStatus(t, owner.get(base), http.StatusNotFound)
}

func TestCreateAccountGeneratesKeyAndRevealsLegacySecretOnce(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")

	form := owner.htmxGet("/accounts/new")
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, "Generate key", "Save Changes", `hx-post="/accounts"`)
	gen := owner.htmxPost("/accounts", url.Values{"name": {"EU warehouse"}, "action": {"generate"}})
	wantStatus(t, gen, http.StatusOK)
	key := regexpAccountKey.FindString(gen.Body)
	if key == "" || !strings.Contains(gen.Body, `value="EU warehouse"`) {
		t.Fatalf("generate did not fill in a key and keep the name:\n%s", gen.Body)
	}
	if n := app.count(`SELECT count(*) FROM api_accounts`); n != 1 {
		t.Fatalf("Generate key created an account: %d", n)
	}

	saved := owner.htmxPost("/accounts", url.Values{"name": {"EU warehouse"}, "account_key": {key}, "action": {"save"}})
	wantStatus(t, saved, http.StatusOK)
	plaintext := plaintextKey.FindString(saved.Body)
	if !strings.HasPrefix(plaintext, "sk_test_") {
		t.Fatalf("no Legacy API Secret revealed:\n%s", saved.Body)
	}
	wantContains(t, saved.Body, "Legacy API Secret", "only time it will be shown", key, `data-refresh="accounts-changed"`)
	if got := saved.Header.Get("Cache-Control"); got != "no-store" {
		t.Fatalf("reveal Cache-Control %q", got)
	}
	if saved.Header.Get("HX-Retarget") != "#modal" {
		t.Fatal("the reveal is not shown in the pop-up")
	}
	parsed, _ := keyport.ParseKey(plaintext)
	hash := parsed.Hash()
	if n := app.count(`SELECT count(*) FROM api_keys k JOIN api_accounts a ON a.id = k.account_id
		WHERE a.account_key = $1 AND k.hash = $2 AND k.legacy = TRUE AND k.access = 'full' AND k.mode = 'test'`, key, hash[:]); n != 1 {
		t.Fatal("the Legacy API Secret is not stored by its hash on the new account")
	}
	table := owner.htmxGet("/accounts/table")
	wantStatus(t, table, http.StatusOK)
	wantContains(t, table.Body, "EU warehouse", key)
	if strings.Contains(table.Body, plaintext) || strings.Contains(owner.get("/accounts").Body, plaintext) {
		t.Fatal("the secret is shown again")
	}
	if strings.Contains(app.logs.String(), parsed.String()[8:]) {
		t.Fatal("the secret reached the logs")
	}

	plain := owner.post("/accounts", url.Values{"name": {"No JS"}})
	wantStatus(t, plain, http.StatusOK)
	wantContains(t, plain.Body, "<h1 id=\"modal-title\">API account created</h1>", "Legacy API Secret")
	if n := app.count(`SELECT count(*) FROM api_accounts WHERE merchant_id = $1`, res.Merchant.ID); n != 3 {
		t.Fatalf("accounts: %d", n)
	}
}

func TestCreateAccountBadInputChangesNothing(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	other, _ := app.merchant("Bolt", "owner@bolt.test")
	otherKey := regexpAccountKey.FindString(other.get("/accounts").Body)
	tests := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"empty name", url.Values{"name": {"  "}}, "name", "Account name is required."},
		{"long name", url.Values{"name": {strings.Repeat("a", 101)}}, "name", "Account name must be at most 100 characters."},
		{"NUL", url.Values{"name": {"a\x00b"}}, "name", "Account name contains characters that are not allowed."},
		{"taken name", url.Values{"name": {"DEFAULT"}}, "name", "You already have an API account with this name."},
		{"bad key", url.Values{"name": {"New"}, "account_key": {"acct_<script>"}}, "account_key", "use Generate key"},
		{"key of another merchant", url.Values{"name": {"New"}, "account_key": {otherKey}}, "account_key", "already in use"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := owner.htmxPost("/accounts", tt.form)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			wantContains(t, res.Body, `id="f-`+tt.field+`-error"`, tt.msg)
			if strings.Contains(res.Body, "<script>") {
				t.Fatal("input echoed unescaped")
			}
		})
	}
	if n := app.count(`SELECT count(*) FROM api_accounts`); n != 2 {
		t.Fatalf("accounts: %d", n)
	}
	if n := app.count(`SELECT count(*) FROM api_keys`); n != 0 {
		t.Fatalf("keys: %d", n)
	}
}

func TestKeysAndTokensCreateAndRemoveShareTheKeyRules(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	base := accountPath(res)

	empty := owner.htmxGet(base + "/tokens")
	wantStatus(t, empty, http.StatusOK)
	wantContains(t, empty.Body, "This account has no keys yet.", "Create Token", res.Account.AccountKey)

	form := owner.htmxGet(base + "/keys/new?from=tokens")
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, `name="from" value="tokens"`, ">Create Token</button>")
	bad := owner.htmxPost(base+"/keys", url.Values{"name": {""}, "expiry": {"never"}, "from": {"tokens"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, "Token name is required.", `name="from" value="tokens"`)

	created := owner.htmxPost(base+"/keys", url.Values{"name": {"Laptop"}, "expiry": {"never"}, "from": {"tokens"}})
	wantStatus(t, created, http.StatusOK)
	plaintext := plaintextKey.FindString(created.Body)
	if plaintext == "" {
		t.Fatalf("not revealed:\n%s", created.Body)
	}
	wantContains(t, created.Body, `hx-get="`+base+`/tokens"`)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action IN ('key.created', 'key.revealed')`); n != 2 {
		t.Fatalf("audit events for the new key: %d", n)
	}

	owner.generate(res, "Second")
	list := owner.htmxGet(base + "/tokens")
	wantContains(t, list.Body, "Laptop", "Second", "Remove Laptop", "Max of 2 tokens reached")
	if strings.Contains(list.Body, plaintext) || strings.Contains(list.Body, "keys/new?from=tokens") {
		t.Fatal("the list shows the secret, or offers Create Token at the cap")
	}
	capped := owner.htmxPost(base+"/keys", url.Values{"name": {"Third"}, "expiry": {"never"}, "from": {"tokens"}})
	wantStatus(t, capped, http.StatusUnprocessableEntity)
	wantContains(t, capped.Body, "Max of 2 test tokens reached")

	laptop := app.keyIDs(res.Account.ID, "name = 'Laptop'")[0]
	removed := owner.htmxPost(fmt.Sprintf("%s/keys/%d/revoke", base, laptop), url.Values{"from": {"tokens"}})
	wantStatus(t, removed, http.StatusOK)
	wantContains(t, removed.Body, "Removed “Laptop”", "Keys &amp; Tokens", "Second")
	if strings.Contains(removed.Body, "Remove Laptop") {
		t.Fatal("the removed key is still listed")
	}
	plain := owner.post(fmt.Sprintf("%s/keys/%d/revoke", base, app.keyIDs(res.Account.ID, "name = 'Second'")[0]), url.Values{"from": {"tokens"}})
	wantStatus(t, plain, http.StatusSeeOther)
	if loc := plain.Header.Get("Location"); loc != base+"/tokens" {
		t.Fatalf("redirect to %s", loc)
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`); n != 0 {
		t.Fatalf("active keys: %d", n)
	}
}

func TestRegisterAuthValidatesAgainstTheCourierSchema(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	base := accountPath(res) + "/auths"

	fields := owner.htmxGet(base + "/fields?courier=dpd")
	wantStatus(t, fields, http.StatusOK)
	wantContains(t, fields.Body, "DPD credentials", `name="field_username"`, `name="field_password" type="password"`, `name="field_account_number"`)
	none := owner.htmxGet(base + "/fields?courier=pigeon")
	wantContains(t, none.Body, "Choose a courier")
	noJS := owner.post(base, url.Values{"courier": {"fedex"}, "action": {"fields"}, "company": {"Kept"}})
	wantStatus(t, noJS, http.StatusOK)
	wantContains(t, noJS.Body, `name="field_api_key"`, "Meter number (optional)", `value="Kept"`)

	without := func(name string) url.Values {
		v := goodDPD("Acme Ltd")
		v.Del(name)
		return v
	}
	tests := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"no courier", without("courier"), "courier", "Choose a courier."},
		{"unknown courier", func() url.Values { v := goodDPD("A"); v.Set("courier", "pigeon"); return v }(), "courier", "Choose a courier."},
		{"no password", without("field_password"), "field_password", "Password is required."},
		{"no account number", without("field_account_number"), "field_account_number", "Account number is required."},
		{"no company", without("company"), "company", "Company is required."},
		{"no testing", without("testing"), "testing", "Choose whether these are testing credentials."},
		{"testing garbage", func() url.Values { v := goodDPD("A"); v.Set("testing", "1"); return v }(), "testing", "Choose whether"},
		{"huge username", func() url.Values { v := goodDPD("A"); v.Set("field_username", strings.Repeat("u", 600)); return v }(),
			"field_username", "at most 500 characters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := owner.htmxPost(base, tt.form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r.Body, tt.msg)
			if tt.field != "testing" {
				wantContains(t, r.Body, `id="f-`+tt.field+`-error"`)
			}
			if strings.Contains(r.Body, "Secret-DPD-pass-77") {
				t.Fatal("the password was sent back")
			}
		})
	}
	if n := app.count(`SELECT count(*) FROM registered_auths`); n != 0 {
		t.Fatalf("auths stored from bad input: %d", n)
	}
	owner.registerDPD(res, "Acme Ltd")
	dup := owner.htmxPost(base, goodDPD("ACME LTD"))
	wantStatus(t, dup, http.StatusUnprocessableEntity)
	wantContains(t, dup.Body, "already has a DPD auth for this company")
	if n := app.count(`SELECT count(*) FROM registered_auths`); n != 1 {
		t.Fatalf("auths: %d", n)
	}
}

func TestRegisteredAuthIsMaskedRevealIsAuditedAndDeleteRemovesIt(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	base := accountPath(res) + "/auths"
	id := owner.registerDPD(res, "Acme Ltd")

	list := owner.htmxGet(base)
	wantStatus(t, list, http.StatusOK)
	wantContains(t, list.Body, "DPD · Acme Ltd", "Testing", "acme-dpd", "0012345", "••••••••", "Reveal Password", "DPD presets: Next Day, By 12, Saturday")
	if strings.Contains(list.Body, "Secret-DPD-pass-77") {
		t.Fatal("the password is shown unmasked")
	}
	reveal := owner.htmxPost(fmt.Sprintf("%s/%d/reveal", base, id), url.Values{"field": {"password"}})
	wantStatus(t, reveal, http.StatusOK)
	wantContains(t, reveal.Body, "Secret-DPD-pass-77", fmt.Sprintf(`id="auth-%d-password"`, id), `aria-label="Copy Password"`)
	if reveal.Header.Get("Cache-Control") != "no-store" {
		t.Fatal("a revealed secret may be cached")
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'auth.secret_revealed' AND actor = 'owner@acme.test'
		AND ip = '203.0.113.7' AND detail NOT LIKE '%Secret-DPD%'`); n != 1 {
		t.Fatalf("reveal events: %d", n)
	}
	if strings.Contains(app.logs.String(), "Secret-DPD-pass-77") {
		t.Fatal("the password reached the logs")
	}
	page := owner.post(fmt.Sprintf("%s/%d/reveal", base, id), url.Values{"field": {"password"}})
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Secret-DPD-pass-77", "Registered Auths · Default")
	wantStatus(t, owner.htmxPost(fmt.Sprintf("%s/%d/reveal", base, id), url.Values{"field": {"username"}}), http.StatusNotFound)

	deleted := owner.htmxPost(fmt.Sprintf("%s/%d/delete", base, id), nil)
	wantStatus(t, deleted, http.StatusOK)
	wantContains(t, deleted.Body, "Deleted the registered auth DPD · Acme Ltd (testing).", "No registered auths")
	wantStatus(t, owner.htmxPost(fmt.Sprintf("%s/%d/reveal", base, id), url.Values{"field": {"password"}}), http.StatusNotFound)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action IN ('auth.registered', 'auth.deleted')`); n != 2 {
		t.Fatalf("auth events: %d", n)
	}
}

func TestDisableBlocksKeysAndEnableRestoresThem(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	base := accountPath(res)
	r := owner.post(base+"/disable", nil)
	wantStatus(t, r, http.StatusSeeOther)
	if loc := r.Header.Get("Location"); loc != base {
		t.Fatalf("disabling leads to %q, want the account's page", loc)
	}
	page := owner.get(base)
	wantContains(t, page.Body, "Disabled “Default”", "badge-muted\">Disabled", "Enable Default")
	blocked := owner.htmxPost(base+"/keys", url.Values{"name": {"x"}, "expiry": {"never"}, "from": {"tokens"}})
	wantStatus(t, blocked, http.StatusUnprocessableEntity)
	wantContains(t, blocked.Body, "This API account is disabled.")
	keysTab := owner.get(keysPath(res))
	wantContains(t, keysTab.Body, "This API account is disabled", ">Manage Your Tokens<")
	if strings.Contains(keysTab.Body, ">Generate Token<") || strings.Contains(keysTab.Body, ">Request Live Token<") {
		t.Fatal("the Developer keys tab offers new keys on a disabled account")
	}
	tokens := owner.htmxGet(base + "/tokens")
	wantContains(t, tokens.Body, "This API account is disabled")
	if strings.Contains(tokens.Body, "Create Token") {
		t.Fatal("Create Token offered on a disabled account")
	}
	enabled := owner.post(base+"/enable", nil)
	wantStatus(t, enabled, http.StatusSeeOther)
	if loc := enabled.Header.Get("Location"); loc != base {
		t.Fatalf("enabling leads to %q, want the account's page", loc)
	}
	wantContains(t, owner.get(base).Body, "Enabled “Default”", "Disable Default")
	owner.generate(res, "After enable")
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action IN ('account.disabled', 'account.enabled')`); n != 2 {
		t.Fatalf("events: %d", n)
	}
}

func TestDeleteAccountAsksForItsName(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	base := accountPath(res)
	owner.generate(res, "CI")
	form := owner.htmxGet(base + "/delete")
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, "Type the account name to confirm", "cannot be undone")
	for _, typed := range []string{"", "default", "Defaul"} {
		r := owner.htmxPost(base+"/delete", url.Values{"confirm_name": {typed}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.Body, "Type the account name exactly as shown to confirm.")
	}
	if n := app.count(`SELECT count(*) FROM api_accounts WHERE deleted_at IS NULL`); n != 1 {
		t.Fatal("a wrong confirmation deleted the account")
	}
	r := owner.htmxPost(base+"/delete", url.Values{"confirm_name": {"Default"}})
	wantStatus(t, r, http.StatusNoContent)
	if r.Header.Get("HX-Redirect") != "/accounts" {
		t.Fatalf("HX-Redirect %q", r.Header.Get("HX-Redirect"))
	}
	page := owner.get("/accounts")
	wantContains(t, page.Body, "Deleted “Default” and revoked its 1", "No API accounts yet.")
	for _, p := range []string{base + "/keys", base + "/tokens", base + "/auths", base + "/shipments"} {
		wantStatus(t, owner.get(p), http.StatusNotFound)
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`); n != 0 {
		t.Fatalf("keys still active: %d", n)
	}
}

func TestShipmentsPagesFilterByModeAndShowDetails(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	base := accountPath(res) + "/shipments"
	empty := owner.get(base)
	wantStatus(t, empty, http.StatusOK)
	wantContains(t, empty.Body, "No test shipments on this account yet.")

	app.addShipments(res, keyport.ModeTest, 51)
	liveID := app.addShipments(res, keyport.ModeLive, 1)
	p1 := owner.get(base)
	wantContains(t, p1.Body, "51 test shipments", "Tracked 24", "Royal Mail", "In transit")
	if n := strings.Count(p1.Body, `id="shipment-`); n != 50 || pagerLink(p1.Body, "prev") != "" {
		t.Fatalf("page 1 rows: %d", n)
	}
	next := pagerLink(p1.Body, "next")
	if !strings.HasPrefix(next, base+"?") || !strings.Contains(next, "mode=test") {
		t.Fatalf("Next link %q", next)
	}
	p2 := owner.getURL(next)
	if n := strings.Count(p2.Body, `id="shipment-`); n != 1 || pagerLink(p2.Body, "next") != "" {
		t.Fatalf("page 2 rows: %d", n)
	}
	back := owner.getURL(pagerLink(p2.Body, "prev"))
	if n := strings.Count(back.Body, `id="shipment-`); n != 50 || pagerLink(back.Body, "prev") != "" {
		t.Fatalf("back to page 1: %d rows", n)
	}
	if n := strings.Count(owner.getURL(base+"?mode=test&page=2").Body, `id="shipment-`); n != 50 {
		t.Fatalf("an old page link does not start from the first page: %d rows", n)
	}
	live := owner.getURL(base + "?mode=live")
	if n := strings.Count(live.Body, `id="shipment-`); n != 1 || !strings.Contains(live.Body, fmt.Sprintf(`id="shipment-%d"`, liveID)) {
		t.Fatalf("live rows: %d", n)
	}
	wantStatus(t, owner.getURL(base+"?mode=prod"), http.StatusNotFound)
	detail := owner.get(fmt.Sprintf("%s/%d", base, liveID))
	wantStatus(t, detail, http.StatusOK)
	wantContains(t, detail.Body, "£3.95", "Tracked 24", "SW1A 1AA", "750 g", "Label reference")

	_, other := app.merchant("Bolt", "owner@bolt.test")
	wantStatus(t, owner.get(fmt.Sprintf("/accounts/%d/shipments/%d", other.Account.ID, liveID)), http.StatusNotFound)
}

var regexpAccountKey = regexp.MustCompile(`acct_[0-9A-Za-z]{24}`)

func TestFlashesKeepOnlyTheLatestWhenNoPageShowsThem(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	base := accountPath(res)
	if err := app.db.SetTokenCap(context.Background(), keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		app.newKey(res, keyport.NewKey{Name: fmt.Sprintf("Batch %d", i)})
	}
	for _, id := range app.keyIDs(res.Account.ID, "name LIKE 'Batch %'") {
		wantStatus(t, owner.post(fmt.Sprintf("%s/keys/%d/revoke", base, id), url.Values{"from": {"tokens"}}), http.StatusSeeOther)
	}
	if strings.Contains(app.logs.String(), "encode flashes") {
		t.Fatalf("the flash cookie outgrew its limit:\n%s", app.logs.String())
	}
	page := owner.get(base + "/tokens")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Batch 19")
	if strings.Contains(page.Body, "“Batch 0”") {
		t.Fatal("the oldest of 20 notices was kept")
	}
}

func TestRenameAnAccountKeepsItsKeysAndIsAudited(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	key := app.newKey(res, keyport.NewKey{Name: "CI"})
	if _, err := app.db.CreateAccount(context.Background(), keyport.SystemActor, res.Merchant.ID, keyport.NewAccount{Name: "EU warehouse"}); err != nil {
		t.Fatal(err)
	}
	path := fmt.Sprintf("/accounts/%d/rename", res.Account.ID)
	form := owner.get(path)
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, `value="Default"`, "Only the name changes")
	for name, want := range map[string]string{"": "Account name is required.", "eu WAREHOUSE": "You already have an API account with this name."} {
		res := owner.post(path, url.Values{"name": {name}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantContains(t, res.Body, html.EscapeString(want))
	}
	done := owner.post(path, url.Values{"name": {"  Main shop  "}})
	wantStatus(t, done, http.StatusSeeOther)
	if loc := done.Header.Get("Location"); loc != accountPath(res) {
		t.Fatalf("renaming leads to %q, want the account's page", loc)
	}
	wantContains(t, owner.get(accountPath(res)).Body, "Renamed “Default” to “Main shop”. Its keys keep working.", "<h1>Main shop</h1>")
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'account.renamed' AND detail = 'Default → Main shop'`); n != 1 {
		t.Fatalf("%d audit events for the rename", n)
	}
	wantStatus(t, app.api("GET", "/v1/couriers", key, ""), http.StatusOK)
}

// TestCodeElementsAreNeverNamed: ARIA forbids naming a code element (axe's
// aria-prohibited-attr); masked secrets and revealed keys say what they are
// in text beside them instead.
func TestCodeElementsAreNeverNamed(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	owner.registerDPD(res, "Acme Ltd")
	named := regexp.MustCompile(`<code[^>]*\saria-(label|labelledby)=`)
	pages := map[string]string{
		"auths":  owner.get(accountPath(res) + "/auths").Body,
		"reveal": owner.htmxPost(keysPath(res), url.Values{"name": {"CI"}, "expiry": {"never"}}).Body,
	}
	wantContains(t, pages["auths"], "Password hidden")
	for name, body := range pages {
		if m := named.FindString(body); m != "" {
			t.Errorf("the %s page names a code element: %s", name, m)
		}
	}
}
