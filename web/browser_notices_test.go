package web

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport"
)

const approvalNotice = "Your live token request was approved"

func TestBrowserOwnerDismissesTheApprovalNotice(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.createAdmin("staff@keyport.test")
	requestID := app.fileLiveRequest(res, "Checkout")
	b := newBrowser(t, app)

	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//tr[@id='request-%d']//a`, requestID)), chromedp.NodeVisible))
	b.seeHeading("Live token request: Checkout")
	b.click("Approve")
	b.confirm("Approve the request of Acme Parcels")
	b.see("Request approved.")
	b.click("Log out")
	b.see("You have logged out.")

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.see(approvalNotice)
	b.open("/accounts")
	b.seeHeading("API Accounts")
	b.see(approvalNotice)
	b.clickIn(`//div[contains(@class, 'notice')]`, "Dismiss")
	b.waitJS(fmt.Sprintf(`!document.body.textContent.includes(%q)`, approvalNotice), "the notice to go away")
	b.open("/accounts")
	b.seeHeading("API Accounts")
	if b.pageHolds(approvalNotice) {
		t.Fatal("the dismissed notice is back after a reload")
	}
	if n := app.count(`SELECT count(*) FROM live_key_requests WHERE id = $1 AND notify_merchant = TRUE`, requestID); n != 0 {
		t.Fatal("the notice was not dismissed on the server")
	}
	if s := app.requestState(requestID); s != keyport.RequestApproved {
		t.Fatalf("dismissing the notice moved the request to %s", s)
	}
}
