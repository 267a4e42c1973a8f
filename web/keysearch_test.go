package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport"
	"keyport/store"
)

// searchKeys is merchant Acme with three keys and merchant Bolt with one
// named like one of Acme's, each key's plaintext by name.
type searchKeys struct {
	owner     *client
	acme      store.SignupResult
	bolt      store.SignupResult
	plaintext map[string]string
	key       map[string]keyport.APIKey
}

func seedSearchKeys(t *testing.T, app *testApp) searchKeys {
	t.Helper()
	s := searchKeys{plaintext: map[string]string{}, key: map[string]keyport.APIKey{}}
	s.owner, s.acme = app.merchant("Acme Parcels", "owner@acme.test")
	s.bolt = app.signupMerchant("Bolt Couriers", "owner@bolt.test")
	if err := app.db.SetTokenCap(context.Background(), keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	add := func(res store.SignupResult, in keyport.NewKey) {
		s.plaintext[in.Name] = app.newKey(res, in)
		parsed, err := keyport.ParseKey(s.plaintext[in.Name])
		if err != nil {
			t.Fatal(err)
		}
		s.key[in.Name] = keyport.APIKey{Prefix: parsed.Prefix(), First4: parsed.First4(), Last4: parsed.Last4()}
	}
	add(s.acme, keyport.NewKey{Name: "CI server"})
	add(s.acme, keyport.NewKey{Name: "Reporting", Mode: keyport.ModeLive})
	add(s.acme, keyport.NewKey{Name: "Checkout widget", Type: keyport.KeyPublishable})
	add(s.bolt, keyport.NewKey{Name: "CI server of Bolt", Mode: keyport.ModeLive})
	return s
}

// searchURL is the API secrets page, or another base, searching for term.
func searchURL(base, term string) string { return base + "?" + url.Values{"q": {term}}.Encode() }

// listedKeys are the names of the keys an API secrets page or the key finder lists.
func listedKeys(body string, names ...string) []string {
	var listed []string
	for _, n := range names {
		if strings.Contains(body, ">"+n+"<") {
			listed = append(listed, n)
		}
	}
	return listed
}

var searchKeyNames = []string{"CI server", "Reporting", "Checkout widget", "CI server of Bolt"}

func TestSecretsSearchFindsTheMerchantsKeys(t *testing.T) {
	app := newTestApp(t)
	s := seedSearchKeys(t, app)
	reporting := s.key["Reporting"]
	reviewer := app.member(s.acme, "rita@acme.test", keyport.RoleReviewer)
	tests := []struct {
		name string
		term string
		want []string
	}{
		{"part of a name", "ci SERV", []string{"CI server"}},
		{"prefix and first four", reporting.Prefix + reporting.First4, []string{"Reporting"}},
		{"last four", reporting.Last4, []string{"Reporting"}},
		{"last four after an ellipsis", "…" + reporting.Last4, []string{"Reporting"}},
		{"whole key", s.plaintext["Reporting"], []string{"Reporting"}},
		{"redacted with an ellipsis", reporting.Prefix + reporting.First4 + "…" + reporting.Last4, []string{"Reporting"}},
		{"redacted as lists show it", reporting.Redacted(), []string{"Reporting"}},
		{"publishable prefix", "pk_", []string{"Checkout widget"}},
		{"whole key of another merchant", s.plaintext["CI server of Bolt"], nil},
		{"redacted key of another merchant", s.key["CI server of Bolt"].Redacted(), nil},
		{"percent sign", "%", nil},
		{"underscore", "_", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for who, c := range map[string]*client{"Owner": s.owner, "Reviewer": reviewer} {
				page := c.getURL(searchURL("/secrets", tt.term))
				wantStatus(t, page, http.StatusOK)
				if got := listedKeys(page.Body, searchKeyNames...); strings.Join(got, ",") != strings.Join(tt.want, ",") {
					t.Fatalf("%s: listed %q, want %q", who, got, tt.want)
				}
				if tt.want == nil {
					wantContains(t, page.Body, "No key matches “", "Clear the search")
				}
				if plaintextKey.MatchString(strings.ReplaceAll(page.Body, s.plaintext["Checkout widget"], "")) {
					t.Fatalf("%s: the page holds a whole secret key", who)
				}
			}
		})
	}
}

func TestSecretsSearchKeepsTheFilterAndPages(t *testing.T) {
	app := newTestApp(t)
	s := seedSearchKeys(t, app)
	for i := 0; i < 51; i++ {
		app.newKey(s.acme, keyport.NewKey{Name: fmt.Sprintf("Batch %02d", i)})
	}
	page := s.owner.getURL("/secrets?q=batch&mode=test")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, `value="batch"`, ">Batch 50<")
	next := pagerLink(page.Body, "next")
	if !strings.Contains(next, "q=batch") || !strings.Contains(next, "mode=test") {
		t.Fatalf("the next page link %q drops the search or the filter", next)
	}
	last := s.owner.getURL(next)
	wantContains(t, last.Body, ">Batch 00<")
	if strings.Contains(last.Body, ">CI server<") {
		t.Fatal("the second page of the search lists a key it does not match")
	}
	empty := s.owner.getURL("/secrets?q=nothing+like+it&mode=live")
	wantContains(t, empty.Body, "No key matches “nothing like it”.", `href="/secrets?mode=live"`)
}

func TestSecretsSearchWithHTMXNeverPutsAWholeKeyInTheAddress(t *testing.T) {
	app := newTestApp(t)
	s := seedSearchKeys(t, app)
	key := s.plaintext["Reporting"]
	res := s.owner.htmxGet(searchURL("/secrets", key))
	wantStatus(t, res, http.StatusOK)
	if strings.Contains(res.Body, "<html") || !strings.Contains(res.Body, `id="secrets"`) {
		t.Fatal("an htmx search is answered with more than the filter and the keys")
	}
	wantContains(t, res.Body, ">Reporting<", `value="`+s.key["Reporting"].Redacted()+`"`)
	push := res.Header.Get("HX-Push-Url")
	if push != searchURL("/secrets", s.key["Reporting"].Redacted()) {
		t.Fatalf("HX-Push-Url %q", push)
	}
	if strings.Contains(res.Body, key) || strings.Contains(push, key[8:]) {
		t.Fatal("the answer holds the whole key")
	}
	bad := s.owner.htmxGet(searchURL("/secrets", "CI\x1b[31m"))
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, `id="f-q-error"`, "The search contains characters that are not allowed.")
	if bad.Header.Get("HX-Push-Url") != "false" {
		t.Fatal("a refused search is put in the address")
	}
}

func TestSupportViewSearchesOneMerchant(t *testing.T) {
	app := newTestApp(t)
	s := seedSearchKeys(t, app)
	admin := app.adminClient()
	page := admin.getURL(searchURL(fmt.Sprintf("/admin/merchants/%d/secrets", s.acme.Merchant.ID), "CI"))
	wantStatus(t, page, http.StatusOK)
	if got := listedKeys(page.Body, searchKeyNames...); strings.Join(got, ",") != "CI server" {
		t.Fatalf("listed %q", got)
	}
}

func TestFindKeyFindsTheMerchantOfAKey(t *testing.T) {
	app := newTestApp(t)
	s := seedSearchKeys(t, app)
	admin := app.adminClient()
	bolt := s.key["CI server of Bolt"]
	tests := []struct {
		name     string
		term     string
		merchant string
		want     []string
	}{
		{"whole key", s.plaintext["CI server of Bolt"], "Bolt Couriers", []string{"CI server of Bolt"}},
		{"whole key with spaces", "  " + s.plaintext["Reporting"] + " ", "Acme Parcels", []string{"Reporting"}},
		{"prefix and first four", bolt.Prefix + bolt.First4, "Bolt Couriers", []string{"CI server of Bolt"}},
		{"redacted with an ellipsis", bolt.Prefix + bolt.First4 + "…" + bolt.Last4, "Bolt Couriers", []string{"CI server of Bolt"}},
		{"redacted as lists show it", s.key["CI server"].Redacted(), "Acme Parcels", []string{"CI server"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := admin.getURL(searchURL("/admin/keys", tt.term))
			wantStatus(t, page, http.StatusOK)
			if got := listedKeys(page.Body, searchKeyNames...); strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Fatalf("listed %q, want %q", got, tt.want)
			}
			res := s.acme
			if tt.merchant == "Bolt Couriers" {
				res = s.bolt
			}
			wantContains(t, page.Body, ">"+tt.merchant+"<", `<td data-label="Account">Default `, fmt.Sprintf(`href="/admin/merchants/%d/secrets?q=`, res.Merchant.ID),
				fmt.Sprintf(`/admin/merchants/%d/secrets/`, res.Merchant.ID), "/revoke", `autocomplete="off"`)
			if plaintextKey.MatchString(page.Body) {
				t.Fatal("the page holds a whole key")
			}
		})
	}

	unknown, err := keyport.MintKey(keyport.KeySecret, keyport.ModeLive)
	if err != nil {
		t.Fatal(err)
	}
	page := admin.getURL(searchURL("/admin/keys", unknown.Raw))
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "No key matches. A well-formed key that is not found was never issued here, or its record was deleted.")
	page = admin.getURL(searchURL("/admin/keys", "sk_live_Zz99"))
	wantContains(t, page.Body, "No key matches “sk_live_Zz99”.")

	for _, term := range []string{"CI server", "sk_live_Ab1", bolt.Last4, "%", bolt.First4 + "…" + bolt.Last4} {
		page := admin.getURL(searchURL("/admin/keys", term))
		wantStatus(t, page, http.StatusUnprocessableEntity)
		wantContains(t, page.Body, `id="f-q-error"`, "Paste a whole key or at least its prefix and the first 4 characters, like sk_live_Ab12.")
		if len(listedKeys(page.Body, searchKeyNames...)) != 0 {
			t.Fatalf("%q lists keys", term)
		}
	}

	blank := admin.get("/admin/keys")
	wantStatus(t, blank, http.StatusOK)
	wantContains(t, blank.Body, "<h1>Find a key</h1>", `href="/admin/keys"`)

	fragment := admin.htmxGet(searchURL("/admin/keys", s.plaintext["CI server of Bolt"]))
	wantStatus(t, fragment, http.StatusOK)
	if strings.Contains(fragment.Body, "<html") || fragment.Header.Get("HX-Push-Url") != "" {
		t.Fatal("an htmx search is answered with a whole page or changes the address")
	}
	wantContains(t, fragment.Body, ">Bolt Couriers<")
}

func TestFindKeyIsForAdminsOnly(t *testing.T) {
	app := newTestApp(t)
	s := seedSearchKeys(t, app)
	reviewer := app.member(s.acme, "rita@acme.test", keyport.RoleReviewer)
	for who, c := range map[string]*client{"Owner": s.owner, "Reviewer": reviewer} {
		res := c.getURL(searchURL("/admin/keys", s.plaintext["CI server of Bolt"]))
		wantStatus(t, res, http.StatusForbidden)
		if strings.Contains(res.Body, "Bolt Couriers") {
			t.Fatalf("%s sees the merchant of another merchant's key", who)
		}
	}
	if strings.Contains(s.owner.get("/accounts").Body, "Find a key") {
		t.Fatal("a merchant's navigation offers the key finder")
	}
	if !strings.Contains(app.adminClient().get("/admin/merchants").Body, `href="/admin/keys"`) {
		t.Fatal("the admins' navigation has no key finder")
	}
}

func TestSearchedKeysNeverReachTheLog(t *testing.T) {
	app := newTestApp(t)
	s := seedSearchKeys(t, app)
	admin := app.adminClient()
	key := s.plaintext["CI server of Bolt"]
	wantStatus(t, admin.getURL(searchURL("/admin/keys", key)), http.StatusOK)
	wantStatus(t, admin.htmxGet(searchURL("/admin/keys", key)), http.StatusOK)
	wantStatus(t, s.owner.getURL(searchURL("/secrets", s.plaintext["Reporting"])), http.StatusOK)
	logs := app.logs.String()
	if !strings.Contains(logs, "path=/admin/keys") || !strings.Contains(logs, "path=/secrets") {
		t.Fatalf("the searches were not logged:\n%s", logs)
	}
	for _, plain := range []string{key, s.plaintext["Reporting"]} {
		if strings.Contains(logs, plain) || strings.Contains(logs, plain[8:]) || strings.Contains(logs, url.QueryEscape(plain)) {
			t.Fatalf("the log holds a searched key:\n%s", logs)
		}
	}
}

// TestSearchesPostedWithoutJavaScriptKeepWholeKeysOutOfTheAddress posts the
// search forms as a browser without JavaScript does: a whole key is answered
// at once, at the form's own address; any other search moves to its address.
func TestSearchesPostedWithoutJavaScriptKeepWholeKeysOutOfTheAddress(t *testing.T) {
	app := newTestApp(t)
	s := seedSearchKeys(t, app)
	admin := app.adminClient()
	support := fmt.Sprintf("/admin/merchants/%d/secrets", s.acme.Merchant.ID)
	bolt := s.key["CI server of Bolt"]
	tests := []struct {
		name   string
		client *client
		path   string
		form   url.Values
		// listed is the key the answer lists when it comes at once; to is
		// the address a search that fits one moves to.
		listed string
		to     string
	}{
		{"whole key on API secrets", s.owner, "/secrets", url.Values{"q": {s.plaintext["Reporting"]}}, "Reporting", ""},
		{"whole key in the support view", admin, support, url.Values{"q": {s.plaintext["CI server"]}}, "CI server", ""},
		{"whole key in the key finder", admin, "/admin/keys", url.Values{"q": {s.plaintext["CI server of Bolt"]}}, "CI server of Bolt", ""},
		{"name with a filter", s.owner, "/secrets", url.Values{"q": {"CI"}, "mode": {"test"}}, "", "/secrets?mode=test&q=CI"},
		{"filter alone", s.owner, "/secrets", url.Values{"status": {"revoked"}}, "", "/secrets?status=revoked"},
		{"prefix and first four in the key finder", admin, "/admin/keys", url.Values{"q": {bolt.Prefix + bolt.First4}}, "",
			searchURL("/admin/keys", bolt.Prefix+bolt.First4)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.client.post(tt.path, tt.form)
			if tt.to != "" {
				wantStatus(t, res, http.StatusSeeOther)
				if loc := res.Header.Get("Location"); loc != tt.to {
					t.Fatalf("moved to %q, want %q", loc, tt.to)
				}
				return
			}
			wantStatus(t, res, http.StatusOK)
			if loc := res.Header.Get("Location"); loc != "" {
				t.Fatalf("a whole key's search moved to %q", loc)
			}
			if got := listedKeys(res.Body, searchKeyNames...); strings.Join(got, ",") != tt.listed {
				t.Fatalf("listed %q, want %q", got, tt.listed)
			}
			if strings.Contains(res.Body, tt.form.Get("q")) {
				t.Fatal("the answer holds the whole key")
			}
		})
	}
	bad := s.owner.post("/secrets", url.Values{"q": {"CI\x1b[31m"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, `id="f-q-error"`, "The search contains characters that are not allowed.")
}
