package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport"
	"keyport/store"
	"keyport/views"
)

var plaintextKey = regexp.MustCompile(`\b[sp]k_(test|live)_[0-9A-Za-z]{36}\b`)

// merchant signs up a merchant and returns its Owner's logged-in client.
func (a *testApp) merchant(name, email string) (*client, store.SignupResult) {
	a.t.Helper()
	res := a.signupMerchant(name, email)
	c := a.client()
	c.login(email)
	return c, res
}

// member adds a user with a role to a merchant and returns their logged-in client.
func (a *testApp) member(res store.SignupResult, email string, role keyport.Role) *client {
	a.t.Helper()
	if _, err := a.db.AddMember(context.Background(), keyport.SystemActor, res.Merchant.ID, "Member", email, role, passwordHashOnce()); err != nil {
		a.t.Fatal(err)
	}
	c := a.client()
	c.login(email)
	return c
}

func (a *testApp) adminClient() *client {
	a.t.Helper()
	a.createAdmin("staff@keyport.test")
	c := a.client()
	c.login("staff@keyport.test")
	return c
}

func keysPath(res store.SignupResult) string { return fmt.Sprintf("/accounts/%d/keys", res.Account.ID) }

func requestsPath(res store.SignupResult) string {
	return fmt.Sprintf("/accounts/%d/requests", res.Account.ID)
}

// generate creates a test token through the form and returns its plaintext.
func (c *client) generate(res store.SignupResult, name string) string {
	c.app.t.Helper()
	r := c.htmxPost(keysPath(res), url.Values{"name": {name}, "expiry": {"never"}})
	wantStatus(c.app.t, r, http.StatusOK)
	key := plaintextKey.FindString(r.Body)
	if key == "" {
		c.app.t.Fatalf("no token revealed:\n%s", r.Body)
	}
	return key
}

func (a *testApp) keyIDs(accountID int64, where string) []int64 {
	a.t.Helper()
	rows, err := a.db.SQL().Query(`SELECT id FROM api_keys WHERE account_id = $1 AND `+where+` ORDER BY id`, accountID)
	if err != nil {
		a.t.Fatal(err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			a.t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

func TestKeysTabShowsBothSectionsAndEmptyStates(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	page := c.get(keysPath(res))
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Live keys", "Test keys", ">Generate Token<", ">Request Live Token<", ">Manage Your Tokens<",
		"No test keys yet", "No live keys yet", res.Account.AccountKey)
	account := c.get(accountPath(res))
	wantContains(t, account.Body, `href="`+keysPath(res)+`"`)
}

func TestGenerateTokenRevealsItOnceAndStoresOnlyItsHash(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")

	r := c.htmxPost(keysPath(res), url.Values{"name": {"Warehouse"}, "expiry": {"30"}})
	wantStatus(t, r, http.StatusOK)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("reveal Cache-Control = %q", r.Header.Get("Cache-Control"))
	}
	if r.Header.Get("HX-Retarget") != "#modal" {
		t.Fatalf("reveal not aimed at the modal: %q", r.Header.Get("HX-Retarget"))
	}
	wantContains(t, r.Body, "only time it will be shown", "data-copy=", ">Done<")
	plain := plaintextKey.FindString(r.Body)
	parsed, err := keyport.ParseKey(plain)
	if err != nil || parsed.Mode != keyport.ModeTest || parsed.Type != keyport.KeySecret {
		t.Fatalf("revealed %q: %v", plain, err)
	}
	hash := parsed.Hash()
	if n := app.count(`SELECT count(*) FROM api_keys WHERE hash = $1 AND name = 'Warehouse' AND expires_at IS NOT NULL`, hash[:]); n != 1 {
		t.Fatalf("stored by hash: %d", n)
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE prefix || first4 || last4 || name LIKE '%' || $1 || '%'`, plain); n != 0 {
		t.Fatal("plaintext stored in a column")
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action IN ('key.created', 'key.revealed') AND ip = '203.0.113.7'`); n != 2 {
		t.Fatalf("audit events with IP: %d", n)
	}

	again := c.get(keysPath(res))
	wantStatus(t, again, http.StatusOK)
	if strings.Contains(again.Body, plain) {
		t.Fatal("the tab shows the token again")
	}
	wantContains(t, again.Body, keyport.Redact(parsed.Prefix(), parsed.First4(), parsed.Last4()), "Warehouse", "by owner@acme.test", "Never")

	// Without JavaScript the form is a page of its own and answers with a whole page revealing the token.
	form := c.get(keysPath(res) + "/new")
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, "<!doctype html>", `action="`+keysPath(res)+`"`, `name="_csrf"`, `href="`+keysPath(res)+`">Cancel</a>`)
	plainPost := c.post(keysPath(res), url.Values{"name": {"No JS"}, "expiry": {"never"}})
	wantStatus(t, plainPost, http.StatusOK)
	wantContains(t, plainPost.Body, "<!doctype html>", "Your new token")
	if plaintextKey.FindString(plainPost.Body) == "" {
		t.Fatal("the page does not reveal the token")
	}
	logs := app.logs.String()
	wantContains(t, logs, "path="+keysPath(res), "status=200")
	if strings.Contains(logs, plain) {
		t.Fatal("the plaintext reached the logs")
	}
}

func TestGenerateTokenBadInputChangesNothing(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	cases := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"missing name", url.Values{"name": {"  "}, "expiry": {"never"}}, "name", "Token name is required."},
		{"long name", url.Values{"name": {strings.Repeat("n", 101)}, "expiry": {"never"}}, "name", "at most 100 characters"},
		{"unknown expiry", url.Values{"name": {"x"}, "expiry": {"365"}}, "expiry", "Choose an expiry from the list."},
		{"bad date", url.Values{"name": {"x"}, "expiry": {"date"}, "expiry_date": {"next week"}}, "expiry_date", "YYYY-MM-DD"},
		{"past date", url.Values{"name": {"x"}, "expiry": {"date"}, "expiry_date": {"2001-01-01"}}, "expiry_date", "must be in the future"},
		{"far date", url.Values{"name": {"x"}, "expiry": {"date"}, "expiry_date": {"2999-01-01"}}, "expiry_date", "within 5 years"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, htmx := range []bool{true, false} {
				var r response
				if htmx {
					r = c.htmxPost(keysPath(res), tc.form)
				} else {
					r = c.post(keysPath(res), tc.form)
				}
				wantStatus(t, r, http.StatusUnprocessableEntity)
				wantContains(t, r.Body, `id="f-`+tc.field+`-error"`, tc.msg)
				if n := app.count(`SELECT count(*) FROM api_keys`); n != 0 {
					t.Fatalf("%d keys created", n)
				}
			}
		})
	}
}

func TestTokenCapHoldsAgainstDirectPosts(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	c.generate(res, "one")
	c.generate(res, "two")

	page := c.get(keysPath(res))
	wantContains(t, page.Body, `<button type="button" class="btn" disabled>Max of 2 tokens reached</button>`)
	if strings.Contains(page.Body, ">Generate Token<") {
		t.Fatal("Generate Token still offered at the cap")
	}
	for _, htmx := range []bool{true, false} {
		var r response
		if htmx {
			r = c.htmxPost(keysPath(res), url.Values{"name": {"three"}, "expiry": {"never"}})
		} else {
			r = c.post(keysPath(res), url.Values{"name": {"three"}, "expiry": {"never"}})
		}
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.Body, "Max of 2 test tokens reached")
	}
	if n := app.count(`SELECT count(*) FROM api_keys`); n != 2 {
		t.Fatalf("%d keys", n)
	}

	admin := app.adminClient()
	wantStatus(t, admin.post("/admin/settings", url.Values{"token_cap": {"3"}}), http.StatusSeeOther)
	wantContains(t, c.get(keysPath(res)).Body, ">Generate Token<")
	c.generate(res, "three")
	wantContains(t, c.get(keysPath(res)).Body, "Max of 3 tokens reached")
}

func TestManageYourTokensRemovesAToken(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	c.generate(res, "one")
	c.generate(res, "two")
	ids := app.keyIDs(res.Account.ID, "TRUE")

	manage := c.htmxGet(keysPath(res) + "/manage?mode=test")
	wantStatus(t, manage, http.StatusOK)
	wantContains(t, manage.Body, "Manage your test tokens", "one", "two", `data-refresh="keys-changed"`,
		fmt.Sprintf(`hx-get="%s/%d/revoke?from=test"`, keysPath(res), ids[0]))

	revoke := fmt.Sprintf("%s/%d/revoke", keysPath(res), ids[0])
	r := c.htmxPost(revoke, nil)
	wantStatus(t, r, http.StatusOK)
	wantContains(t, r.Body, "Removed “one”")
	if strings.Contains(r.Body, fmt.Sprintf(`id="manage-key-%d"`, ids[0])) {
		t.Fatal("removed token still listed")
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE id = $1 AND revoked_at IS NOT NULL AND revoked_by_label = 'owner@acme.test'`, ids[0]); n != 1 {
		t.Fatal("not revoked with who")
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'key.revoked' AND object_id = $1`, ids[0]); n != 1 {
		t.Fatal("no audit event")
	}
	wantStatus(t, c.htmxPost(revoke, nil), http.StatusConflict)

	section := c.htmxGet(keysPath(res) + "/section?mode=test")
	wantStatus(t, section, http.StatusOK)
	wantContains(t, section.Body, ">Generate Token<", "Revoked keys (1)", "Revoked")
	if strings.Contains(section.Body, "<html") {
		t.Fatal("section is a whole page")
	}

	// Without JavaScript removal redirects back to the manage page with a notice.
	plain := c.post(fmt.Sprintf("%s/%d/revoke", keysPath(res), ids[1]), nil)
	wantStatus(t, plain, http.StatusSeeOther)
	if loc := plain.Header.Get("Location"); loc != keysPath(res)+"/manage?mode=test" {
		t.Fatalf("redirect to %q", loc)
	}
	wantContains(t, c.getURL(keysPath(res)+"/manage?mode=test").Body, "Removed “two”", "No test tokens to manage")
}

func TestRevokedKeysArePaginated(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	owner := keyport.UserActor(&res.Owner, "")
	for i := 0; i < views.RevokedPerPage+5; i++ {
		k, err := app.db.CreateKey(context.Background(), owner, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
			Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: fmt.Sprintf("old-%02d", i)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := app.db.RevokeKey(context.Background(), owner, res.Merchant.ID, res.Account.ID, k.Key.ID, ""); err != nil {
			t.Fatal(err)
		}
	}
	first := c.get(keysPath(res))
	wantContains(t, first.Body, "Revoked keys (25)", "test_before=")
	if got := strings.Count(first.Body, `<span class="badge badge-danger">Revoked</span>`); got != views.RevokedPerPage {
		t.Fatalf("first page lists %d revoked keys", got)
	}
	next := pagerLink(first.Body, "next")
	if !strings.HasPrefix(next, keysPath(res)+"?test_before=") || !strings.HasSuffix(next, "#keys-test") || pagerLink(first.Body, "prev") != "" {
		t.Fatalf("Next link %q", next)
	}
	second := c.getURL(strings.TrimSuffix(next, "#keys-test"))
	wantContains(t, second.Body, "old-00", "Revoked keys (25)")
	if got := strings.Count(second.Body, `<span class="badge badge-danger">Revoked</span>`); got != 5 || pagerLink(second.Body, "next") != "" {
		t.Fatalf("second page lists %d revoked keys", got)
	}
	back := c.getURL(strings.TrimSuffix(pagerLink(second.Body, "prev"), "#keys-test"))
	if got := strings.Count(back.Body, `<span class="badge badge-danger">Revoked</span>`); got != views.RevokedPerPage || strings.Contains(back.Body, "old-00") {
		t.Fatalf("back to the first page: %d revoked keys", got)
	}
	wantStatus(t, c.getURL(keysPath(res)+"?test_page=99"), http.StatusOK)
	wantStatus(t, c.getURL(keysPath(res)+"?test_before=1"), http.StatusOK)
}

func TestExpiredKeysStayListedAndFreeTheirSlot(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	wantStatus(t, c.htmxPost(keysPath(res), url.Values{"name": {"short"}, "expiry": {"7"}}), http.StatusOK)
	c.generate(res, "long")
	wantContains(t, c.get(keysPath(res)).Body, "Max of 2 tokens reached")
	app.advance(8 * 24 * time.Hour)
	c.login("owner@acme.test")
	page := c.get(keysPath(res))
	wantContains(t, page.Body, "short", `<span class="badge badge-muted">Expired</span>`, ">Generate Token<")
}

// expiredKeys gives the merchant's first account n test keys that have
// expired, named old-00 (the oldest) onwards, and returns their ids in order.
func (a *testApp) expiredKeys(res store.SignupResult, n int) []int64 {
	a.t.Helper()
	owner := keyport.UserActor(&res.Owner, "")
	var ids []int64
	for i := 0; i < n; i++ {
		k, err := a.db.CreateKey(context.Background(), owner, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
			Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: fmt.Sprintf("old-%02d", i), ExpiresAt: a.clock().Add(time.Minute)})
		if err != nil {
			a.t.Fatal(err)
		}
		ids = append(ids, k.Key.ID)
		a.advance(2 * time.Minute)
	}
	return ids
}

func TestCurrentKeysArePagedOnTheTab(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	app.expiredKeys(res, views.CurrentPerPage+3)
	c.login("owner@acme.test")
	const expired = `<span class="badge badge-muted">Expired</span>`

	first := c.get(keysPath(res))
	wantContains(t, first.Body, "old-22", ">Generate Token<")
	if got := strings.Count(first.Body, expired); got != views.CurrentPerPage || strings.Contains(first.Body, "old-02<") {
		t.Fatalf("first page lists %d keys", got)
	}
	next := pagerLink(first.Body, "next")
	if !strings.HasPrefix(next, keysPath(res)+"?test_keys_before=") || !strings.HasSuffix(next, "#keys-test") || pagerLink(first.Body, "prev") != "" {
		t.Fatalf("Next link %q", next)
	}
	second := c.getURL(strings.TrimSuffix(next, "#keys-test"))
	wantContains(t, second.Body, "old-00", "old-02")
	if got := strings.Count(second.Body, expired); got != 3 || pagerLink(second.Body, "next") != "" {
		t.Fatalf("second page lists %d keys", got)
	}
	section := c.htmxGet(keysPath(res) + "/section?mode=test&test_keys_before=" + strings.TrimPrefix(strings.TrimSuffix(next, "#keys-test"), keysPath(res)+"?test_keys_before="))
	if got := strings.Count(section.Body, expired); got != 3 || !strings.Contains(section.Body, "test_keys_before=") {
		t.Fatalf("the section reloads with %d keys, not on its page", got)
	}
	back := c.getURL(strings.TrimSuffix(pagerLink(second.Body, "prev"), "#keys-test"))
	if got := strings.Count(back.Body, expired); got != views.CurrentPerPage || strings.Contains(back.Body, "old-00") {
		t.Fatalf("back to the first page: %d keys", got)
	}
	beyond := c.getURL(keysPath(res) + "?test_keys_before=1")
	wantContains(t, beyond.Body, "No test keys on this page", "Go to the first page")
}

func TestKeyPopUpsArePagedAndRemoveKeepsThePage(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	ids := app.expiredKeys(res, views.CurrentPerPage+3)
	c.login("owner@acme.test")
	current := app.count(`SELECT count(*) FROM api_keys WHERE account_id = $1 AND revoked_at IS NULL`, res.Account.ID)

	cases := []struct {
		name, path string
		onSecond   int
	}{
		{"Manage Your Tokens", keysPath(res) + "/manage?mode=test", views.CurrentPerPage + 3 - views.CurrentPerPage},
		{"Keys & Tokens", accountPath(res) + "/tokens", current - views.CurrentPerPage},
	}
	for _, tc := range cases {
		first := c.htmxGet(tc.path)
		wantStatus(t, first, http.StatusOK)
		if got := strings.Count(first.Body, `id="manage-key-`); got != views.CurrentPerPage {
			t.Fatalf("%s: first page lists %d keys", tc.name, got)
		}
		next := pagerLink(first.Body, "next")
		if !strings.Contains(next, "before=") || !strings.Contains(first.Body, `rel="next" hx-get="`) {
			t.Fatalf("%s: Next link %q does not load in the pop-up", tc.name, next)
		}
		second := c.htmxGet(next)
		if got := strings.Count(second.Body, `id="manage-key-`); got != tc.onSecond || pagerLink(second.Body, "prev") == "" {
			t.Fatalf("%s: second page lists %d keys, want %d", tc.name, got, tc.onSecond)
		}
	}

	page := c.htmxGet(keysPath(res) + "/manage?mode=test")
	cursor := strings.TrimPrefix(pagerLink(page.Body, "next"), keysPath(res)+"/manage?before=")
	cursor = strings.TrimSuffix(cursor, "&mode=test")
	removed := c.htmxPost(fmt.Sprintf("%s/%d/revoke", keysPath(res), ids[0]), url.Values{"before": {cursor}})
	wantStatus(t, removed, http.StatusOK)
	wantContains(t, removed.Body, "Removed “old-00”", "old-01", "old-02")
	if got := strings.Count(removed.Body, `id="manage-key-`); got != 2 {
		t.Fatalf("after removing from the second page the pop-up lists %d keys", got)
	}
	plain := c.post(fmt.Sprintf("%s/%d/revoke", keysPath(res), ids[1]), url.Values{"before": {cursor}})
	if loc := plain.Header.Get("Location"); loc != keysPath(res)+"/manage?before="+cursor+"&mode=test" {
		t.Fatalf("redirect to %q", loc)
	}
	wantContains(t, c.htmxGet(keysPath(res)+"/manage?mode=test&before=1").Body, "No tokens on this page", "Go to the first page")
}

func TestClosedRequestsFoldAwayAndLeaveTheWayToANewOne(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	rejected := app.fileLiveRequest(res, "Warehouse")
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/reject", rejected), url.Values{"reason": {"No website."}}), http.StatusSeeOther)
	page := owner.get(accountPath(res) + "/keys").Body
	wantContains(t, page, `<details class="closed-requests">`, "Closed requests (1)", "No website.", "Request your first live key")
	pending := app.fileLiveRequest(res, "Checkout")
	page = owner.get(accountPath(res) + "/keys").Body
	open := page[:strings.Index(page, `<details class="closed-requests">`)]
	if !strings.Contains(open, fmt.Sprintf(`id="request-%d"`, pending)) || strings.Contains(open, fmt.Sprintf(`id="request-%d"`, rejected)) {
		t.Error("the pending request is not shown open, or the rejected one is not folded")
	}
	if strings.Contains(page, "Request your first live key") {
		t.Error("a new request is offered while one is pending")
	}
}
