package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport"
	"keyport/views"
)

// TestBrowserOwnerPagesThroughShipments clicks Next and Previous on an
// account's shipments: the links carry a cursor and keep the mode, and
// each page lists its own shipments.
func TestBrowserOwnerPagesThroughShipments(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.addShipments(res, keyport.ModeLive, views.ShipmentsPerPage+1)
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.open(fmt.Sprintf("/accounts/%d/shipments?mode=live", res.Account.ID))
	b.seeHeading("Shipments")
	rows := func() string { return b.eval(`String(document.querySelectorAll("#shipments-table tbody tr").length)`) }
	if got := rows(); got != fmt.Sprint(views.ShipmentsPerPage) {
		t.Fatalf("first page lists %s shipments", got)
	}
	b.click("Next")
	b.waitJS(`location.search.indexOf("before=") >= 0`, "the cursor in the address bar")
	b.settled()
	if got := rows(); got != "1" {
		t.Fatalf("second page lists %s shipments", got)
	}
	if search := b.eval(`location.search`); !strings.Contains(search, "mode=live") {
		t.Fatalf("Next dropped the mode: %s", search)
	}
	b.click("Previous")
	b.waitJS(`location.search.indexOf("after=") >= 0`, "the cursor of the newer page")
	b.settled()
	if got := rows(); got != fmt.Sprint(views.ShipmentsPerPage) {
		t.Fatalf("back on the first page: %s shipments", got)
	}
}

// TestBrowserOwnerPagesThroughCurrentKeys clicks Next under the Test keys of
// an account with more expired keys than a page holds, then pages the
// "Manage Your Tokens" pop-up and removes a key from its second page.
func TestBrowserOwnerPagesThroughCurrentKeys(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.expiredKeys(res, views.CurrentPerPage+2)
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.open(fmt.Sprintf("/accounts/%d/keys", res.Account.ID))
	b.seeHeading("Developer keys")
	rows := func() string { return b.eval(`String(document.querySelectorAll("#keys-test tbody tr").length)`) }
	if got := rows(); got != fmt.Sprint(views.CurrentPerPage) {
		t.Fatalf("first page lists %s test keys", got)
	}
	b.clickIn(testSection, "Next")
	b.waitJS(`location.search.indexOf("test_keys_before=") >= 0`, "the cursor in the address bar")
	b.settled()
	if got := rows(); got != "2" {
		t.Fatalf("second page lists %s test keys", got)
	}
	b.clickIn(testSection, "Previous")
	b.waitJS(`location.search.indexOf("test_keys_after=") >= 0`, "the cursor of the newer page")
	b.settled()
	if got := rows(); got != fmt.Sprint(views.CurrentPerPage) {
		t.Fatalf("back on the first page: %s test keys", got)
	}

	b.clickIn(testSection, "Manage Your Tokens")
	b.see("Manage your test tokens")
	items := func() string {
		return b.eval(`String(document.querySelectorAll("dialog[open] .manage-list li").length)`)
	}
	if got := items(); got != fmt.Sprint(views.CurrentPerPage) {
		t.Fatalf("the pop-up's first page lists %s tokens", got)
	}
	b.clickIn(openDialog, "Next")
	oldest := openDialog + `//li[.//strong[normalize-space()='old-00']]`
	b.run(chromedp.WaitVisible(chromedp.Search(oldest)))
	b.run(chromedp.Click(chromedp.Search(openDialog+`//a[@aria-label='Remove old-00']`), chromedp.NodeVisible))
	b.confirm("Remove “old-00”")
	b.see("Removed “old-00”")
	if got := items(); got != "1" || b.xpathCount(oldest) != 0 {
		t.Fatalf("after the removal the pop-up's second page lists %s tokens", got)
	}
	b.run(chromedp.WaitVisible(chromedp.Search(openDialog + `//li[.//strong[normalize-space()='old-01']]`)))
}
