package web

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport"
)

// auditRows returns the action codes of the audit table's rows, in order.
func auditRows(body string) []string {
	var out []string
	for _, m := range auditAction.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

var auditAction = regexp.MustCompile(`<code class="muted audit-action">([^<]*)</code>`)

// addAuditEvents appends n events of a merchant directly to the log.
func (a *testApp) addAuditEvents(merchantID int64, action string, n int) {
	a.t.Helper()
	for i := range n {
		if _, err := a.db.SQL().Exec(`INSERT INTO audit_events (at, merchant_id, actor, action, detail) VALUES ($1, $2, 'seed@acme.test', $3, $4)`,
			a.clock().Unix(), merchantID, action, fmt.Sprintf("seeded %d", i)); err != nil {
			a.t.Fatal(err)
		}
	}
}

// readCSV parses an export, failing the test on a malformed one.
func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, body)
	}
	return records
}

func TestAuditLogIsForOwnersReviewersAndAdmins(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	owner, acme := app.merchant("Acme", "owner@acme.test")
	owner.generate(acme, "CI server")
	reviewer := app.member(acme, "rita@acme.test", keyport.RoleReviewer)
	developer := app.member(acme, "dev@acme.test", keyport.RoleDeveloper)
	boltOwner, bolt := app.merchant("Bolt", "owner@bolt.test")
	boltOwner.generate(bolt, "Bolt secret job")
	admin := app.adminClient()

	for name, c := range map[string]*client{"owner": owner, "reviewer": reviewer} {
		t.Run(name, func(t *testing.T) {
			page := c.get("/audit")
			wantStatus(t, page, http.StatusOK)
			wantContains(t, page.Body, "<h1>Audit log</h1>", `href="/audit" aria-current="page"`, "owner@acme.test", "Key created",
				"key.created", "CI server", "Merchant signed up", "203.0.113.7", "Export CSV", `href="/audit/export.csv"`)
			for _, other := range []string{"Bolt", "owner@bolt.test", "staff@keyport.test", "admin.created"} {
				if strings.Contains(page.Body, other) {
					t.Fatalf("Acme's %s sees %q", name, other)
				}
			}
			if strings.Contains(page.Body, `<th scope="col">Merchant</th>`) {
				t.Fatal("a merchant's user gets the merchant column")
			}
			export := c.get("/audit/export.csv")
			wantStatus(t, export, http.StatusOK)
			if strings.Contains(export.Body, "Bolt") || strings.Contains(export.Body, "admin.created") {
				t.Fatal("the export holds events of others")
			}
		})
	}

	forbidden := developer.get("/audit")
	wantStatus(t, forbidden, http.StatusForbidden)
	wantStatus(t, developer.get("/audit/export.csv"), http.StatusForbidden)
	if strings.Contains(developer.get("/accounts").Body, `href="/audit"`) {
		t.Fatal("a Developer is offered the audit log")
	}

	for _, path := range []string{"/audit", "/audit/export.csv?action=key.created"} {
		anon := app.client().getURL(path)
		wantStatus(t, anon, http.StatusSeeOther)
		if loc := anon.Header.Get("Location"); !sentToLogin(anon, path) {
			t.Fatalf("anonymous %s goes to %q", path, loc)
		}
	}

	all := admin.get("/audit")
	wantStatus(t, all, http.StatusOK)
	wantContains(t, all.Body, `href="/audit" aria-current="page"`, `<th scope="col">Merchant</th>`, ">Acme<", ">Bolt<",
		"Bolt secret job", "CI server", "admin.created", ">Platform<", "Platform (no merchant)")
	platform := admin.getURL("/audit?merchant=platform")
	if got := auditRows(platform.Body); len(got) != 2 || got[0] != "user.logged_in" || got[1] != "admin.created" {
		t.Fatalf("platform events %v", got)
	}
	onlyBolt := admin.getURL(fmt.Sprintf("/audit?merchant=%d&action=key.created", bolt.Merchant.ID))
	wantStatus(t, onlyBolt, http.StatusOK)
	wantContains(t, onlyBolt.Body, "Bolt secret job", `id="f-account"`)
	if strings.Contains(onlyBolt.Body, "CI server") || len(auditRows(onlyBolt.Body)) != 1 {
		t.Fatal("the merchant filter lets other merchants' events through")
	}
	wantStatus(t, admin.getURL("/audit?merchant=999"), http.StatusUnprocessableEntity)
}

func TestAuditLogFilters(t *testing.T) {
	app := newTestApp(t)
	owner, acme := app.merchant("Acme", "owner@acme.test")
	today := app.clock().UTC().Format(keyport.AuditDateLayout)
	owner.generate(acme, "CI server")
	app.advance(48 * time.Hour)
	later := app.clock().UTC().Format(keyport.AuditDateLayout)
	owner.login("owner@acme.test")
	created := owner.htmxPost("/accounts", url.Values{"name": {"EU warehouse"}})
	wantStatus(t, created, http.StatusOK)
	eu := int64(app.count(`SELECT id FROM api_accounts WHERE name = 'EU warehouse'`))
	reviewer := app.member(acme, "rita@acme.test", keyport.RoleReviewer)
	_, bolt := app.merchant("Bolt", "owner@bolt.test")

	tests := []struct {
		name  string
		query string
		want  []string
	}{
		{"action", "action=key.created", []string{"key.created", "key.created"}},
		{"account takes in its keys", fmt.Sprintf("account=%d", eu), []string{"key.revealed", "key.created", "account.created"}},
		{"the first account", fmt.Sprintf("account=%d&action=key.revealed", acme.Account.ID), []string{"key.revealed"}},
		{"actor prefix ignoring case", "actor=RITA", []string{"user.logged_in"}},
		{"actor and action", "actor=Owner@&action=user.logged_in", []string{"user.logged_in", "user.logged_in"}},
		{"from the later day", "from=" + later + "&action=key.created", []string{"key.created"}},
		{"up to the first day", "to=" + today + "&action=key.created", []string{"key.created"}},
		{"one day", "from=" + today + "&to=" + today, []string{"key.revealed", "key.created", "user.logged_in", "account.created", "merchant.signed_up"}},
		{"nothing", "action=account.deleted", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := reviewer.getURL("/audit?" + tt.query)
			wantStatus(t, page, http.StatusOK)
			if got := auditRows(page.Body); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Fatalf("rows %v, want %v", got, tt.want)
			}
			if tt.want == nil {
				wantContains(t, page.Body, "No events match this filter.", `href="/audit">Clear</a>`)
			} else {
				q, _ := url.ParseQuery(tt.query)
				wantContains(t, page.Body, `href="/audit/export.csv?`+strings.ReplaceAll(q.Encode(), "&", "&amp;")+`"`)
			}
		})
	}

	options := reviewer.get("/audit")
	wantContains(t, options.Body, `<option value="key.created">Key created</option>`,
		fmt.Sprintf(`<option value="%d">EU warehouse</option>`, eu), "ignoring case")
	if _, err := app.db.DeleteAccount(t.Context(), keyport.SystemActor, acme.Merchant.ID, eu); err != nil {
		t.Fatal(err)
	}
	deleted := reviewer.getURL(fmt.Sprintf("/audit?account=%d", eu))
	wantStatus(t, deleted, http.StatusOK)
	wantContains(t, deleted.Body, "EU warehouse (deleted)</option>")
	if got := auditRows(deleted.Body); len(got) != 5 || got[0] != "account.deleted" || got[1] != "key.revoked" {
		t.Fatalf("deleted account's events %v", got)
	}

	theirs := reviewer.getURL(fmt.Sprintf("/audit?account=%d", bolt.Account.ID))
	wantStatus(t, theirs, http.StatusUnprocessableEntity)
	wantContains(t, theirs.Body, `id="f-account-error"`, "Choose an API account from the list.")
	if strings.Contains(theirs.Body, "Bolt") || len(auditRows(theirs.Body)) != 0 {
		t.Fatal("another merchant's account shows their events")
	}
	wantStatus(t, reviewer.getURL(fmt.Sprintf("/audit/export.csv?account=%d", bolt.Account.ID)), http.StatusUnprocessableEntity)
}

func TestAuditLogRefusesBadDatesNextToTheField(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	tests := []struct {
		query, field, message string
	}{
		{"from=2024-13-01", "from", "Start date must be a date written as YYYY-MM-DD"},
		{"to=yesterday", "to", "End date must be a date written as YYYY-MM-DD"},
		{"from=2024-03-05&to=2024-03-04", "to", "The end date must be on or after the start date."},
		{"from=2024-02-30&action=key.created", "from", "Start date must be a date written as YYYY-MM-DD"},
		{"account=abc", "account", "Choose an API account from the list."},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			page := owner.getURL("/audit?" + tt.query)
			wantStatus(t, page, http.StatusUnprocessableEntity)
			wantContains(t, page.Body, `id="f-`+tt.field+`-error">`+tt.message, `aria-invalid="true"`, "Correct the filter to see events.")
			if len(auditRows(page.Body)) != 0 || strings.Contains(page.Body, "Export CSV") {
				t.Fatal("a bad filter lists events")
			}
			fragment := owner.htmxGet("/audit?" + tt.query)
			wantStatus(t, fragment, http.StatusUnprocessableEntity)
			wantContains(t, fragment.Body, `<div id="audit">`, tt.message)
			if strings.Contains(fragment.Body, "<html") {
				t.Fatal("htmx got the whole page")
			}
			export := owner.getURL("/audit/export.csv?" + tt.query)
			wantStatus(t, export, http.StatusUnprocessableEntity)
			if strings.Contains(export.Header.Get("Content-Type"), "csv") {
				t.Fatal("a bad filter was exported")
			}
		})
	}
	wantContains(t, owner.getURL("/audit?from=2024-03-05&to=2024-03-04").Body, `value="2024-03-05"`, `value="2024-03-04"`)
}

func TestAuditLogPagesKeepTheFilter(t *testing.T) {
	app := newTestApp(t)
	owner, acme := app.merchant("Acme", "owner@acme.test")
	app.addAuditEvents(acme.Merchant.ID, "test.seeded", 120)
	app.addAuditEvents(acme.Merchant.ID, "test.other", 3)

	next := regexp.MustCompile(`href="(/audit\?[^"]*)" rel="next"`)
	prev := regexp.MustCompile(`href="(/audit\?[^"]*)" rel="prev"`)
	page := owner.getURL("/audit?action=test.seeded")
	var pages [][]string
	for {
		wantStatus(t, page, http.StatusOK)
		rows := auditRows(page.Body)
		for _, r := range rows {
			if r != "test.seeded" {
				t.Fatalf("page %d lists %s", len(pages)+1, r)
			}
		}
		pages = append(pages, rows)
		if len(pages) > 1 && !prev.MatchString(page.Body) {
			t.Fatalf("page %d has no Previous", len(pages))
		}
		m := next.FindStringSubmatch(page.Body)
		if m == nil {
			break
		}
		link := strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.Contains(link, "action=test.seeded") {
			t.Fatalf("Next drops the filter: %s", link)
		}
		page = owner.getURL(link)
	}
	if len(pages) != 3 || len(pages[0]) != 50 || len(pages[1]) != 50 || len(pages[2]) != 20 {
		t.Fatalf("pages of %d, %d, %d", len(pages[0]), len(pages[1]), len(pages[2]))
	}
	wantContains(t, page.Body, "seeded 0")
	back := owner.getURL(strings.ReplaceAll(prev.FindStringSubmatch(page.Body)[1], "&amp;", "&"))
	wantContains(t, back.Body, "seeded 69", "seeded 20")
	if strings.Contains(back.Body, "seeded 19<") || strings.Contains(back.Body, "seeded 70<") {
		t.Fatal("Previous is not the page before")
	}
	first := owner.get("/audit")
	if strings.Contains(first.Body, `rel="prev"`) || !strings.Contains(first.Body, `rel="next"`) {
		t.Fatal("the first page's pager is wrong")
	}
	beyond := owner.getURL("/audit?before=1&action=test.seeded")
	wantStatus(t, beyond, http.StatusOK)
	wantContains(t, beyond.Body, "No events match this filter.", `href="/audit?action=test.seeded">Go to the newest events</a>`)
}

func TestAuditExportIsEveryFilteredEventAsSafeCSV(t *testing.T) {
	app := newTestApp(t)
	owner, acme := app.merchant("Acme", "owner@acme.test")
	evil := `=HYPERLINK("http://evil.test","click")`
	wantStatus(t, owner.htmxPost("/accounts", url.Values{"name": {evil}}), http.StatusOK)
	wantStatus(t, owner.htmxPost("/accounts", url.Values{"name": {"-2+3"}}), http.StatusOK)
	app.addAuditEvents(acme.Merchant.ID, "test.seeded", 70)
	_, bolt := app.merchant("Bolt", "owner@bolt.test")
	app.addAuditEvents(bolt.Merchant.ID, "test.seeded", 5)

	res := owner.getURL("/audit/export.csv?action=test.seeded&before=3")
	wantStatus(t, res, http.StatusOK)
	if ct := res.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="keyport-audit-`+app.clock().UTC().Format("2006-01-02")+`.csv"` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	if cc := res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	records := readCSV(t, res.Body)
	if strings.Join(records[0], ",") != "id,time_utc,actor,ip,action,object_type,object_id,api_account,detail" {
		t.Fatalf("header %v", records[0])
	}
	if len(records) != 71 {
		t.Fatalf("%d rows exported, want every one of the 70 seeded events", len(records)-1)
	}
	if records[1][8] != "seeded 69" || records[70][8] != "seeded 0" || records[1][2] != "seed@acme.test" {
		t.Fatalf("rows %v … %v", records[1], records[70])
	}

	accounts := readCSV(t, owner.getURL("/audit/export.csv?action=account.created").Body)
	if len(accounts) != 4 {
		t.Fatalf("%d account events", len(accounts)-1)
	}
	if got := accounts[1][8]; got != "'-2+3" {
		t.Fatalf("detail %q", got)
	}
	if got := accounts[2][8]; got != "'"+evil {
		t.Fatalf("detail %q", got)
	}
	if got := accounts[2][7]; got != "'"+evil {
		t.Fatalf("account %q", got)
	}
	if accounts[3][8] != keyport.DefaultAccountName || accounts[3][5] != "api_account" || accounts[3][3] != "127.0.0.1" {
		t.Fatalf("signup's account row %v", accounts[3])
	}
	if _, err := time.Parse(time.RFC3339, accounts[3][1]); err != nil {
		t.Fatalf("time %q: %v", accounts[3][1], err)
	}

	admin := app.adminClient()
	everything := readCSV(t, admin.getURL("/audit/export.csv?action=test.seeded").Body)
	if strings.Join(everything[0][:4], ",") != "id,time_utc,merchant,actor" || len(everything) != 76 {
		t.Fatalf("admin export: header %v, %d rows", everything[0], len(everything)-1)
	}
	if everything[1][2] != "Bolt" || everything[6][2] != "Acme" {
		t.Fatalf("merchant column %q, %q", everything[1][2], everything[6][2])
	}
	empty := readCSV(t, owner.getURL("/audit/export.csv?action=nothing.happened").Body)
	if len(empty) != 1 {
		t.Fatalf("an empty view exported %d rows", len(empty)-1)
	}
}

func TestAuditFilterFormWorksWithHTMX(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	owner.generate(res, "CI server")
	page := owner.get("/audit")
	wantContains(t, page.Body, `<form method="get" action="/audit" hx-get="/audit" hx-target="#audit" hx-swap="outerHTML" hx-push-url="true"`)
	fragment := owner.htmxGet("/audit?account=&actor=&action=key.created&from=&to=")
	wantStatus(t, fragment, http.StatusOK)
	if push := fragment.Header.Get("HX-Push-Url"); push != "/audit?action=key.created" {
		t.Fatalf("HX-Push-Url %q", push)
	}
	if strings.Contains(fragment.Body, "<html") || strings.Contains(fragment.Body, "<h1>") {
		t.Fatal("htmx got the whole page")
	}
	wantContains(t, fragment.Body, `<div id="audit">`, `<option value="key.created" selected>`, `href="/audit/export.csv?action=key.created"`)
	if got := auditRows(fragment.Body); len(got) != 1 || got[0] != "key.created" {
		t.Fatalf("rows %v", got)
	}
}
