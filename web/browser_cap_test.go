package web

import (
	"fmt"
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
	b.clickIn("//form", "Approve")
	b.see("already has 2 active live tokens and approved requests, the token cap")
	b.see("raise the token cap in Platform settings")
	if s := app.requestState(ids[2]); s != keyport.RequestPending {
		t.Fatalf("the refused approval moved the request to %s", s)
	}
}

// TestBrowserPublishableKeyAskingForShipmentsIsRefused picks Publishable,
// Restricted and shipments Write in Generate Token: the form answers beside
// the permissions and no key is made.
func TestBrowserPublishableKeyAskingForShipmentsIsRefused(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.clickIn(testSection, "Generate Token")
	b.fill("Token name", "Checkout widget")
	b.run(chromedp.Click(chromedp.Search(openDialog+`//label[normalize-space()='Publishable']`), chromedp.NodeVisible))
	b.run(chromedp.Click(chromedp.Search(openDialog+`//label[normalize-space()='Restricted']`), chromedp.NodeVisible))
	b.run(chromedp.Click(chromedp.Search(openDialog+`//input[@aria-label='shipments write']`), chromedp.NodeVisible))
	before := app.count(`SELECT count(*) FROM api_keys`)
	b.clickIn(openDialog, "Generate Token")
	b.run(chromedp.WaitVisible(chromedp.Search(openDialog + `//p[@id='f-permissions-error'][contains(., 'Publishable keys reach only public endpoints')]`)))
	if n := app.count(`SELECT count(*) FROM api_keys`); n != before {
		t.Fatalf("%d keys made from a refused form", n-before)
	}
}
