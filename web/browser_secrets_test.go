package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport"
)

// grantedPermissions lists the permissions the open eye panel shows as granted, comma-separated.
func (b *browser) grantedPermissions() string {
	b.t.Helper()
	return b.eval(`Array.from(document.querySelectorAll("dialog[open] #permissions-table tr")).filter(function (tr) {
  return tr.querySelector(".badge-ok"); }).map(function (tr) { return tr.querySelector("code").textContent; }).join(",")`)
}

func TestBrowserReviewerOpensTheEyePanel(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	if _, err := app.db.CreateKey(context.Background(), keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID,
		MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeLive, Name: "Reporting", Access: keyport.AccessRestricted,
		Permissions: []string{"shipments:read"}, SuppressCosts: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.AddMember(context.Background(), keyport.SystemActor, res.Merchant.ID, "Rita", "rita@acme.test",
		keyport.RoleReviewer, passwordHashOnce()); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, app)

	b.login("rita@acme.test", testPassword)
	b.seeHeading("API secrets")
	b.see("Costs hidden")
	if b.xpathCount(`//*[@aria-label='Revoke Reporting']`) != 0 {
		t.Fatal("the reviewer is offered the trash icon")
	}
	b.settled()
	b.run(chromedp.Click(chromedp.Search(`//a[@aria-label='Permissions of Reporting']`), chromedp.NodeVisible))
	b.see("What “Reporting” may do")
	if granted := b.grantedPermissions(); granted != "shipments:read" {
		t.Fatalf("granted permissions shown: %q", granted)
	}
	b.see("Costs hidden")
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
}

func TestBrowserRollATestKeyWithOneHourGrace(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	if _, err := app.db.CreateKey(context.Background(), keyport.UserActor(&res.Owner, ""), keyport.NewKey{AccountID: res.Account.ID,
		MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "Laptop"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.clickIn(testSection, "Manage Your Tokens")
	b.see("Manage your test tokens")
	b.settled()
	b.run(chromedp.Click(chromedp.Search(openDialog+`//a[@aria-label='Roll Laptop']`), chromedp.NodeVisible))
	b.see("When should the old key stop working?")
	b.clickIn(openDialog, "Cancel")
	b.see("Manage your test tokens")
	b.settled()
	b.run(chromedp.Click(chromedp.Search(openDialog+`//a[@aria-label='Roll Laptop']`), chromedp.NodeVisible))
	b.see("When should the old key stop working?")
	b.run(chromedp.SetValue(chromedp.Search(`//select[@id='f-grace']`), "1h"))
	b.clickIn(openDialog, "Roll key")
	token := b.revealedToken()
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
	b.see("Expires in 1 hour")
	if n := b.xpathCount(testSection + `//td[normalize-space()='Laptop']`); n != 2 {
		t.Fatalf("%d Laptop keys listed, want the old and the new", n)
	}
	if b.pageHolds(token) {
		t.Fatal("the list shows the whole new key")
	}
}

// TestBrowserRestrictedLiveRequestToReviewersEyePanel files a restricted live
// request with shipments:read only and costs hidden; the admin sees that access
// in the queue and approves; the merchant generates the key; a Reviewer's eye
// panel shows exactly shipments:read and "Costs hidden".
func TestBrowserRestrictedLiveRequestToReviewersEyePanel(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.createAdmin("staff@keyport.test")
	if _, err := app.db.AddMember(context.Background(), keyport.SystemActor, res.Merchant.ID, "Rita", "rita@acme.test",
		keyport.RoleReviewer, passwordHashOnce()); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.clickIn(liveSection, "Request Live Token")
	b.fill("Token name", "Reporting")
	b.fill("Intended use", "Read shipments into our reporting warehouse every night.")
	b.fill("Company website", "https://acme.example")
	b.fill("Expected monthly shipments", "800")
	b.run(chromedp.Click(chromedp.Search(openDialog+`//label[normalize-space()='Restricted']`), chromedp.NodeVisible))
	b.clickIn(openDialog, "Send request")
	b.see("Select at least one endpoint permission.")
	b.run(chromedp.Click(chromedp.Search(openDialog+`//input[@aria-label='shipments read']`), chromedp.NodeVisible))
	b.run(chromedp.Click(chromedp.Search(openDialog+`//label[normalize-space()='Suppress shipping costs in responses']`), chromedp.NodeVisible))
	b.clickIn(openDialog, "Send request")
	b.see("Your live token request was sent")
	b.click("Log out")
	b.see("You have logged out.")

	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	b.see("Secret · 1 permission")
	b.see("Costs hidden")
	b.click("Acme Parcels")
	b.seeHeading("Live token request: Reporting")
	b.see("Access asked for")
	b.click("Approve")
	b.confirm("Approve the request of Acme Parcels")
	b.see("Request approved.")
	b.click("Log out")
	b.see("You have logged out.")

	b.login("owner@acme.test", testPassword)
	b.see("Your live token request was approved")
	b.open("/accounts/" + itoa(res.Account.ID) + "/keys")
	b.clickIn(liveSection, "Generate Live Token")
	live := b.revealedToken()
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
	b.click("Log out")
	b.see("You have logged out.")

	b.login("rita@acme.test", testPassword)
	b.seeHeading("API secrets")
	if b.pageHolds(live) {
		t.Fatal("the reviewer sees the whole live key")
	}
	b.settled()
	b.run(chromedp.Click(chromedp.Search(`//a[@aria-label='Permissions of Reporting']`), chromedp.NodeVisible))
	b.see("What “Reporting” may do")
	if granted := b.grantedPermissions(); granted != "shipments:read" {
		t.Fatalf("granted permissions shown: %q", granted)
	}
	b.see("Costs hidden")
}

func itoa(n int64) string { return fmt.Sprint(n) }

func TestBrowserInviteAReviewerWhoLandsOnAPISecrets(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Team")
	b.seeHeading("Team")
	b.fill("Email", "rita@acme.test")
	b.run(chromedp.SetValue(chromedp.Search(`//select[@id='f-role']`), "reviewer"))
	b.click("Create invitation link")
	b.see("It is shown only once")
	link := b.eval(`document.getElementById("invite-link").textContent`)
	if !strings.Contains(link, "/invite?token=") {
		t.Fatalf("invitation link %q", link)
	}
	b.click("Log out")
	b.see("You have logged out.")

	b.run(chromedp.Navigate(b.base + link[strings.Index(link, "/invite"):]))
	b.seeHeading("Join Acme Parcels")
	b.fill("Your name", "Rita Reviewer")
	b.fill("Password", "a-long-unusual-passphrase")
	b.click("Create my account")
	b.seeHeading("API secrets")
	b.see("Welcome to Acme Parcels on Keyport.")
	b.see("You are a Reviewer: you can see every account, key and permission of Acme Parcels, and change nothing.")
	if b.xpathCount(`//a[normalize-space()='Team']`) != 0 {
		t.Fatal("a Reviewer is offered the Team page")
	}
}

// TestBrowserMainActionsSitTopRight checks, at 1280 pixels, that each page's
// main action is on the heading's line at the right end of the page head:
// Create key on API secrets, above its filters, as on the other pages.
func TestBrowserMainActionsSitTopRight(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	if _, _, err := app.db.CreateWebhookEndpoint(context.Background(), keyport.SystemActor, res.Merchant.ID,
		keyport.WebhookEndpointInput{URL: "https://hooks.acme.test/keyport", Events: keyport.WebhookEventTypes, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	tests := []struct {
		path, heading, action string
	}{
		{"/accounts", "API Accounts", `.page-head a[href="/accounts/new"]`},
		{"/secrets", "API secrets", `.page-head #create-key`},
		{"/webhooks", "Webhooks", `.page-head a[href="/webhooks/new"]`},
	}
	for _, tt := range tests {
		b.open(tt.path)
		b.seeHeading(tt.heading)
		b.settled()
		got := b.eval(fmt.Sprintf(`(function () {
  var head = document.querySelector(".page-head").getBoundingClientRect(), h1 = document.querySelector(".page-head h1").getBoundingClientRect();
  var e = document.querySelector(%q);
  if (!e) { return "missing"; }
  var box = e.getBoundingClientRect();
  if (Math.abs(head.right - box.right) > 1) { return "right edge at " + box.right + ", the head's at " + head.right; }
  if (box.top > h1.bottom || box.bottom < h1.top) { return "not on the heading's line"; }
  return "ok";
})()`, tt.action))
		if got != "ok" {
			t.Errorf("%s: the main action is not top-right: %s", tt.path, got)
		}
	}
	b.open("/secrets")
	b.seeHeading("API secrets")
	b.settled()
	if got := b.eval(`String(document.getElementById("create-key").getBoundingClientRect().bottom <= document.querySelector("form[aria-label='Filter keys']").getBoundingClientRect().top)`); got != "true" {
		t.Fatal("Create key is not above the filters")
	}
	b.click("Create key")
	b.see("Create a test key · Default")
}
