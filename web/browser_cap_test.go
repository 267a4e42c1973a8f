package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport"
)

// TestBrowserAdminCannotApproveOverTheCap files three live requests under a
// cap of 2 and approves two; the API team's Approve on the third is refused on
// the request page with what to do, and the request stays pending.
func TestBrowserAdminCannotApproveOverTheCap(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.createAdmin("staff@keyport.test")
	var ids []int64
	for _, name := range []string{"Checkout", "Warehouse", "Returns"} {
		ids = append(ids, app.fileLiveRequest(res, name))
	}
	for _, id := range ids[:2] {
		if err := app.db.ApproveRequest(t.Context(), keyport.Actor{Label: "staff@keyport.test"}, id); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, app)

	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//tr[@id='request-%d']//a`, ids[2])), chromedp.NodeVisible))
	b.seeHeading("Live token request: Returns")
	b.click("Approve")
	b.confirm("Approve the request of Acme Parcels")
	b.see("already has 2 active live tokens and approved requests, the token cap")
	b.see("raise the token cap in Platform settings")
	if s := app.requestState(ids[2]); s != keyport.RequestPending {
		t.Fatalf("the refused approval moved the request to %s", s)
	}
}

// TestBrowserKeyFormShowsOnlyWhatApplies walks Generate Token: the expiry
// date shows only for "On a date…", the permission matrix only for a
// restricted secret key, and a publishable key shows its permissions
// read-only; what is hidden is not sent, so the key is made as shown.
func TestBrowserKeyFormShowsOnlyWhatApplies(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.clickIn(testSection, "Generate Token")
	b.fill("Token name", "Checkout widget")
	visible := func(xpath string) bool {
		return b.eval(`(function () {
  var el = document.evaluate(`+jsString(openDialog+xpath)+`, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
  return String(!!el && el.getClientRects().length > 0);
})()`) == "true"
	}
	dateField := `//input[@name='expiry_date']`
	matrix := `//input[@aria-label='shipments write']`
	publicList := `//code[normalize-space()='couriers:read']`
	b.run(chromedp.WaitNotVisible(chromedp.Search(openDialog + dateField)))
	if visible(dateField) || visible(matrix) || visible(publicList) {
		t.Fatal("the form shows the expiry date, the permission matrix or the publishable permissions before they apply")
	}
	chooseExpiry := func(value string) {
		b.eval(`(function () {
  var s = document.querySelector('dialog[open] select[name=expiry]');
  s.value = ` + jsString(value) + `;
  s.dispatchEvent(new Event('change', {bubbles: true}));
  return "ok";
})()`)
	}
	chooseExpiry("date")
	if !visible(dateField) {
		t.Fatal("choosing “On a date…” does not show the date")
	}
	chooseExpiry("never")
	b.run(chromedp.Click(chromedp.Search(openDialog+`//label[normalize-space()='Restricted']`), chromedp.NodeVisible))
	if !visible(matrix) {
		t.Fatal("Restricted does not show the permission matrix")
	}
	b.run(chromedp.Click(chromedp.Search(openDialog+`//input[@aria-label='shipments write']`), chromedp.NodeVisible))
	b.run(chromedp.Click(chromedp.Search(openDialog+`//label[normalize-space()='Publishable']`), chromedp.NodeVisible))
	if visible(matrix) || visible(`//label[normalize-space()='Restricted']`) || !visible(publicList) {
		t.Fatal("a publishable key still offers access choices, or does not list its permissions")
	}
	b.clickIn(openDialog, "Generate Token")
	b.see("pk_test_")
	if n := app.count(`SELECT count(*) FROM api_keys WHERE type = 'publishable' AND permissions = 'couriers:read rates:read tracking:read'
		AND expires_at IS NULL`); n != 1 {
		t.Fatal("the publishable key was not made as the form showed it")
	}
}

// jsString writes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestBrowserQueueClampsALongIntendedUseInsideItsRow files a request with a
// long intended use: the queue shows three whole lines of it, inside its row.
func TestBrowserQueueClampsALongIntendedUseInsideItsRow(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	owner, res := app.merchant("Acme Parcels", "owner@acme.test")
	form := goodRequest("Production")
	form.Set("intended_use", strings.Repeat("We print labels for every order of our web shop and track them. ", 12))
	wantStatus(t, owner.post(requestsPath(res), form), http.StatusSeeOther)
	app.createAdmin("staff@keyport.test")
	b := newBrowser(t, app)
	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	got := b.eval(`(function () {
  var clip = document.querySelector("td .clip");
  var cell = clip.parentElement;
  var line = parseFloat(getComputedStyle(clip).lineHeight);
  var inside = clip.getBoundingClientRect().bottom <= cell.getBoundingClientRect().bottom;
  return [getComputedStyle(cell).display, Math.round(clip.clientHeight / line), inside].join(" ");
})()`)
	if got != "table-cell 3 true" {
		t.Fatalf("the intended use is not clamped to 3 lines inside its cell: %s (display, lines, inside)", got)
	}
}
