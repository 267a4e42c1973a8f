package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport"
)

// clickIn clicks the visible link or button reading label inside the element matched by scope (an XPath).
func (b *browser) clickIn(scope, label string) {
	b.t.Helper()
	b.settled()
	sel := fmt.Sprintf(`%s//*[self::a or self::button][normalize-space()=%s]`, scope, xpathString(label))
	b.run(chromedp.Click(chromedp.Search(sel), chromedp.NodeVisible))
}

func (b *browser) login(email, password string) {
	b.t.Helper()
	b.open("/login")
	b.fill("Email", email)
	b.fill("Password", password)
	b.clickIn("//form", "Log in")
}

// revealedToken waits for the one-time reveal and returns the token shown.
func (b *browser) revealedToken() string {
	b.t.Helper()
	b.see("This is the only time it will be shown")
	token := b.eval(`document.getElementById("revealed-token").textContent`)
	if _, err := keyport.ParseKey(token); err != nil {
		b.t.Fatalf("revealed %q: %v", token, err)
	}
	return token
}

func (b *browser) pageHolds(text string) bool {
	b.t.Helper()
	return b.eval(fmt.Sprintf(`String(document.documentElement.outerHTML.includes(%q))`, text)) == "true"
}

const (
	testSection = `//section[@id='keys-test']`
	liveSection = `//section[@id='keys-live']`
	openDialog  = `//dialog[@open]`
)

func TestBrowserDeveloperKeysFlow(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.createAdmin("staff@keyport.test")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.see("No test keys yet.")

	var tokens []string
	for _, name := range []string{"Laptop", "CI server"} {
		b.clickIn(testSection, "Generate Token")
		b.fill("Token name", name)
		b.clickIn(openDialog, "Generate Token")
		token := b.revealedToken()
		tokens = append(tokens, token)
		b.clickIn(openDialog, "Done")
		b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
		b.see(name)
		if b.pageHolds(token) {
			t.Fatal("the list shows the whole token")
		}
	}
	b.run(chromedp.WaitVisible(chromedp.Search(testSection + `//button[@disabled][normalize-space()='Max of 2 tokens reached']`)))

	b.eval(`(window.keptAcrossSwaps = "yes", "")`)
	b.clickIn(testSection, "Manage Your Tokens")
	b.see("Manage your test tokens")
	b.run(chromedp.Click(chromedp.Search(openDialog+`//a[@aria-label='Remove Laptop']`), chromedp.NodeVisible))
	b.confirm("Remove “Laptop”")
	b.see("Removed “Laptop”")
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
	b.run(chromedp.WaitVisible(chromedp.Search(testSection + `//a[normalize-space()='Generate Token']`)))
	b.see("Revoked keys (1)")
	if b.eval(`String(window.keptAcrossSwaps)`) != "yes" {
		t.Fatal("Manage Your Tokens reloaded the whole page")
	}
	if loc := b.location(); loc != fmt.Sprintf("/accounts/%d/keys", res.Account.ID) {
		t.Fatalf("the page changed to %s", loc)
	}

	b.clickIn(liveSection, "Request Live Token")
	b.fill("Token name", "Production")
	b.fill("Intended use", "Buy labels")
	b.fill("Company website", "https://acme.example")
	b.fill("Expected monthly shipments", "800")
	b.clickIn(openDialog, "Send request")
	b.see("Intended use must be at least 20 characters.")
	b.fill("Intended use", "Buy labels for the orders of our web shop.")
	b.clickIn(openDialog, "Send request")
	b.see("Your live token request was sent")
	b.see("Pending review")
	b.click("Log out")
	b.see("You have logged out.")

	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	b.click("Acme Parcels")
	b.seeHeading("Live token request: Production")
	b.click("Approve")
	b.confirm("Approve the request of Acme Parcels")
	b.see("Request approved.")
	b.see("No request is waiting.")
	b.click("Log out")
	b.see("You have logged out.")

	b.login("owner@acme.test", testPassword)
	b.see("Your live token request was approved")
	b.open(fmt.Sprintf("/accounts/%d/keys", res.Account.ID))
	b.clickIn(liveSection, "Generate Live Token")
	live := b.revealedToken()
	if !strings.HasPrefix(live, "sk_live_") {
		t.Fatalf("live token %q", live)
	}
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
	b.run(chromedp.Reload())
	b.seeHeading("Developer keys")
	parsed, _ := keyport.ParseKey(live)
	b.see(keyport.Redact(parsed.Prefix(), parsed.First4(), parsed.Last4()))
	for _, tok := range append(tokens, live) {
		if b.pageHolds(tok) {
			t.Fatal("a reload shows a whole token")
		}
	}
	if b.pageHolds("Generate Live Token") {
		t.Fatal("Generate Live Token is offered twice")
	}
}

func TestBrowserLiveRequestQuestionReplyCancelAndReject(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.createAdmin("staff@keyport.test")
	asked := app.fileLiveRequest(res, "Checkout")
	rejected := app.fileLiveRequest(res, "Warehouse")
	b := newBrowser(t, app)
	keys := fmt.Sprintf("/accounts/%d/keys", res.Account.ID)

	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	openRequest := func(id int64) {
		b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//tr[@id='request-%d']//a`, id)), chromedp.NodeVisible))
	}
	openRequest(asked)
	b.seeHeading("Live token request: Checkout")
	b.clickIn("//form", "Ask for more information")
	b.see("Message is required.")
	b.fill("Message to the merchant", "Which carriers will you use?")
	b.clickIn("//form", "Ask for more information")
	b.see("Question sent.")
	openRequest(rejected)
	b.seeHeading("Live token request: Warehouse")
	b.fill("Reason", "We could not verify the website.")
	b.clickIn("//form", "Reject the request of Acme Parcels")
	b.see("Request rejected.")
	b.click("Log out")
	b.see("You have logged out.")

	b.login("owner@acme.test", testPassword)
	b.see("The API team has a question about your live token request “Checkout”")
	b.see("Your live token request was rejected")
	b.open(keys)
	b.see("Which carriers will you use?")
	if b.eval(`String(document.querySelector('.closed-requests').open)`) != "false" {
		t.Fatal("the rejected request's card is not folded away")
	}
	b.click("Closed requests (1)")
	b.see("We could not verify the website.")
	b.clickIn(liveSection, "Send reply")
	b.see("Reply is required.")
	b.fill("Your reply", "Royal Mail and DPD.")
	b.clickIn(liveSection, "Send reply")
	b.see("Your reply was sent.")
	b.see("Pending review")
	b.clickIn(liveSection, "Cancel request")
	b.confirm("Cancel the request “Checkout”")
	b.see("The live token request was cancelled.")
	b.click("Closed requests (2)")
	b.see("You cancelled this request.")
	if s := app.requestState(asked); s != keyport.RequestCancelled {
		t.Fatalf("request is %s", s)
	}
}

// TestBrowserRollButtonsLineUp opens Keys & Tokens on keys whose names differ
// in length and on a rolled key, which has no Roll: every Roll button, and
// every remove button, sits at the same x from row to row.
func TestBrowserRollButtonsLineUp(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	owner, res := app.merchant("Acme Parcels", "owner@acme.test")
	owner.generate(res, "CI")
	owner.generate(res, "Label printer of the Leeds warehouse")
	id := app.keyIDs(res.Account.ID, "name = 'CI'")[0]
	wantStatus(t, owner.htmxPost(fmt.Sprintf("%s/%d/roll", keysPath(res), id), url.Values{"grace": {"1h"}}), http.StatusOK)
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.clickIn(defaultRow, "Keys & Tokens")
	b.see("Keys & Tokens · Default")
	b.settled()

	lefts := func(control string) []string {
		return strings.Split(b.eval(fmt.Sprintf(`Array.from(document.querySelectorAll("dialog[open] .manage-list li")).map(function (li) {
  var e = li.querySelector(%q); return e ? String(Math.round(e.getBoundingClientRect().left)) : "none"; }).join(",")`, control)), ",")
	}
	rolls, bins := lefts(`a[aria-label^="Roll "]`), lefts(`button[aria-label^="Remove "]`)
	if len(rolls) != 3 {
		t.Fatalf("%d keys listed, want 3 (CI rolled and new, the printer's)", len(rolls))
	}
	var rollX []string
	for _, x := range rolls {
		if x != "none" {
			rollX = append(rollX, x)
		}
	}
	if len(rollX) != 2 {
		t.Fatalf("Roll on %d rows, want 2 (every key but the rolled one): %v", len(rollX), rolls)
	}
	for _, xs := range [][]string{rollX, bins} {
		for _, x := range xs {
			if x != xs[0] {
				t.Fatalf("actions at different x from row to row: Roll %v, Remove %v", rolls, bins)
			}
		}
	}
}
