package web

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/chromedp/chromedp"
)

// Markup that would run script if a page inserted it unescaped.
const (
	pwnImg    = `<img src=x onerror="window.__pwned=1">`
	pwnScript = `<script>window.__pwned=1</script>`
	pwnAttr   = `" autofocus onfocus="window.__pwned=1`
)

// wantInert fails the test when the page ran injected script or holds an
// element or attribute that came from a stored value.
func (b *browser) wantInert(where string) {
	b.t.Helper()
	b.settled()
	got := b.eval(`String(window.__pwned) + "|" + document.querySelectorAll("img[src=x], [onerror], [onfocus]").length + "|" +
  Array.from(document.scripts).filter(function (s) { return s.textContent.indexOf("__pwned") >= 0; }).length`)
	if got != "undefined|0|0" {
		b.t.Fatalf("%s: injected markup is live (window.__pwned|elements|scripts = %s)", where, got)
	}
}

// TestBrowserHostileNamesRenderAsText stores markup in every kind of name and
// text a merchant or an admin can type, then opens the pages and pop-ups that
// show them: the markup reads as text, no script runs, and the harness sees no
// CSP violation (which an injected inline handler would cause).
func TestBrowserHostileNamesRenderAsText(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	var (
		merchantName = pwnImg + " Parcels"
		ownerName    = "Ada " + pwnAttr
		accountName  = pwnImg
		tokenName    = pwnScript
		attrToken    = pwnAttr
		company      = pwnAttr
		username     = pwnImg
		requestName  = pwnScript + " live"
		intendedUse  = pwnImg + " prints the labels of our shop"
		question     = pwnScript
		rejectReason = pwnAttr
		revokeReason = "Leaked: " + pwnImg
	)
	const password = "a-long-unusual-passphrase"

	owner := app.client()
	owner.signUp(url.Values{"merchant_name": {merchantName}, "name": {ownerName}, "email": {"owner@hostile.test"}, "password": {password}})
	admin := app.adminClient()
	wantStatus(t, admin.post("/admin/settings", url.Values{"token_cap": {"0"}}), http.StatusSeeOther)
	wantStatus(t, owner.post("/accounts", url.Values{"name": {accountName}}), http.StatusOK)
	var merchantID, accountID int64
	if err := app.db.SQL().QueryRow(`SELECT merchant_id, id FROM api_accounts WHERE name = $1`, accountName).Scan(&merchantID, &accountID); err != nil {
		t.Fatal(err)
	}
	base := fmt.Sprintf("/accounts/%d", accountID)
	for _, name := range []string{tokenName, attrToken, "Leaked key"} {
		wantStatus(t, owner.post(base+"/keys", url.Values{"name": {name}, "expiry": {"never"}}), http.StatusOK)
	}
	auth := goodDPD(company)
	auth.Set("field_username", username)
	wantStatus(t, owner.post(base+"/auths", auth), http.StatusSeeOther)
	asked, rejected := goodRequest(requestName), goodRequest("Second request")
	asked.Set("intended_use", intendedUse)
	wantStatus(t, owner.post(base+"/requests", asked), http.StatusSeeOther)
	wantStatus(t, owner.post(base+"/requests", rejected), http.StatusSeeOther)
	askedID := app.count(`SELECT id FROM live_key_requests WHERE token_name = $1`, requestName)
	rejectedID := app.count(`SELECT id FROM live_key_requests WHERE token_name = 'Second request'`)
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/ask", askedID), url.Values{"question": {question}}), http.StatusSeeOther)
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/reject", rejectedID), url.Values{"reason": {rejectReason}}), http.StatusSeeOther)
	var leakedID int64
	if err := app.db.SQL().QueryRow(`SELECT id FROM api_keys WHERE name = 'Leaked key'`).Scan(&leakedID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, admin.post(fmt.Sprintf("/admin/merchants/%d/secrets/%d/revoke", merchantID, leakedID),
		url.Values{"reason": {revokeReason}}), http.StatusSeeOther)

	b := newBrowser(t, app)
	b.login("owner@hostile.test", password)
	b.seeHeading("API Accounts")
	b.see(merchantName)
	b.see(ownerName)
	b.see(accountName)
	b.see(rejectReason)
	b.wantInert("API Accounts")

	row := fmt.Sprintf(`//tr[td[normalize-space()=%s]]`, xpathString(accountName))
	b.clickIn(row, "Keys & Tokens")
	b.see("Keys & Tokens · " + accountName)
	b.see(tokenName)
	b.see(attrToken)
	b.wantInert("Keys & Tokens")
	b.closeDialogRefreshingAccounts()

	b.openAccount(accountName)
	b.seeHeading(accountName)
	b.wantInert("the account's page")
	b.click("View Registered Auths")
	b.see("Registered Auths · " + accountName)
	b.see(company)
	b.run(chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`%s//dd[normalize-space()=%s]`, openDialog, xpathString(username)))))
	b.wantInert("Registered Auths")
	b.closeDialogRefreshing("account-summary")

	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.see(tokenName)
	b.see(requestName)
	b.see(question)
	b.wantInert("Developer keys")
	b.clickIn(testSection, "Manage Your Tokens")
	b.see("Manage your test tokens")
	b.see(attrToken)
	b.wantInert("Manage Your Tokens")
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))

	b.open("/secrets")
	b.seeHeading("API secrets")
	b.see(tokenName)
	b.wantInert("API secrets")
	b.clickAria("Permissions of " + tokenName)
	b.see("What “" + tokenName + "” may do")
	b.wantInert("the eye panel")
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
	b.open("/secrets?status=revoked")
	b.see(revokeReason)
	b.wantInert("revoked secrets")

	b.click("Log out")
	b.see("You have logged out.")
	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	b.see(requestName)
	b.see(merchantName)
	b.wantInert("the approval queue")
	b.settled()
	b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//tr[@id='request-%d']//a`, askedID)), chromedp.NodeVisible))
	b.seeHeading("Live token request: " + requestName)
	b.see(intendedUse)
	b.see(question)
	b.wantInert("a live key request")
	b.open("/admin/merchants")
	b.see(merchantName)
	b.wantInert("Merchants")
	b.open(fmt.Sprintf("/admin/merchants/%d/secrets", merchantID))
	b.see(tokenName)
	b.see(attrToken)
	b.wantInert("the support view of secrets")
}
