package web

import (
	"context"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport"
)

func TestBrowserReviewerOpensTheEyePanel(t *testing.T) {
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
	if b.xpathCount(`//button[@aria-label='Revoke Reporting']`) != 0 {
		t.Fatal("the reviewer is offered the trash icon")
	}
	b.settled()
	b.run(chromedp.Click(chromedp.Search(`//a[@aria-label='Permissions of Reporting']`), chromedp.NodeVisible))
	b.see("What “Reporting” may do")
	granted := b.eval(`Array.from(document.querySelectorAll("dialog[open] #permissions-table tr")).filter(function (tr) {
  return tr.querySelector(".badge-ok"); }).map(function (tr) { return tr.querySelector("code").textContent; }).join(",")`)
	if granted != "shipments:read" {
		t.Fatalf("granted permissions shown: %q", granted)
	}
	b.see("Costs hidden")
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
}

func TestBrowserRollATestKeyWithOneHourGrace(t *testing.T) {
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	if _, err := app.db.CreateKey(context.Background(), keyport.UserActor(&res.Owner, ""), keyport.NewKey{AccountID: res.Account.ID,
		MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "Laptop"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.clickIn(testSection, "Manage Your Tokens")
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
