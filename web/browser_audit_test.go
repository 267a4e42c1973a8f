package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keyport"
)

// auditActions lists the action codes of the audit table's rows, comma-separated.
func (b *browser) auditActions() string {
	b.t.Helper()
	return b.eval(`Array.from(document.querySelectorAll("#audit-table code.audit-action")).map(function (c) { return c.textContent; }).join(",")`)
}

func TestBrowserOwnerFiltersTheAuditLogAndExportsIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	owner := keyport.UserActor(&res.Owner, "198.51.100.9")
	for _, name := range []string{"CI server", "Laptop"} {
		if _, err := app.db.CreateKey(context.Background(), owner, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
			Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: name}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Audit log")
	b.seeHeading("Audit log")
	b.see("198.51.100.9")
	if got := b.auditActions(); !strings.Contains(got, "key.revealed") || !strings.Contains(got, "user.logged_in") {
		t.Fatalf("unfiltered rows %s", got)
	}

	b.run(chromedp.SetValue(chromedp.Search(`//select[@id='f-action']`), "key.created"))
	b.click("Filter")
	b.waitJS(`location.search === "?action=key.created"`, "the filter in the address bar")
	b.settled()
	if got := b.auditActions(); got != "key.created,key.created" {
		t.Fatalf("filtered rows %s", got)
	}
	b.see("Laptop")
	href := b.eval(`(function () {
  var links = Array.from(document.querySelectorAll("a")).filter(function (a) { return a.textContent.trim() === "Export CSV"; });
  return links.length === 1 ? links[0].getAttribute("href") : "links: " + links.length;
})()`)
	if href != "/audit/export.csv?action=key.created" {
		t.Fatalf("Export CSV links to %s", href)
	}
	link, _ := json.Marshal(href)
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	export, err := chromedp.Run(ctx, chromedp.Evaluate[string](`fetch(`+string(link)+`).then(function (r) {
  return r.text().then(function (body) { return r.status + " " + r.headers.get("Content-Type") + "\n" + body; });
})`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch the export: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(export), "\n")
	if lines[0] != "200 text/csv; charset=utf-8" || !strings.HasPrefix(lines[1], "id,time_utc,actor,") || len(lines) != 4 {
		t.Fatalf("export:\n%s", export)
	}
	for _, row := range lines[2:] {
		if !strings.Contains(row, ",owner@acme.test,198.51.100.9,key.created,api_key,") {
			t.Fatalf("exported row %s", row)
		}
	}

	b.open("/audit?action=key.created")
	b.seeHeading("Audit log")
	if got := b.eval(`document.getElementById("f-action").value`); got != "key.created" {
		t.Fatalf("a linked filter shows action %q", got)
	}
	if got := b.auditActions(); got != "key.created,key.created" {
		t.Fatalf("linked rows %s", got)
	}
}
