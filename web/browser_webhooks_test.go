package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

func TestBrowserOwnerAddsAWebhookSendsATestEventAndResendsIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	hook := newReceiver(t)
	app.runWebhookSender(20 * time.Millisecond)
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Webhooks")
	b.seeHeading("Webhooks")
	b.see("No webhook endpoint yet.")
	b.click("Add your first endpoint")
	b.seeHeading("Add a webhook endpoint")
	b.fill("Endpoint URL", hook.URL+"/keyport")
	b.fill("Description (optional)", "Key monitor")
	b.run(chromedp.Click(chromedp.Search(`//input[@name="events"][@value="key.created"]`), chromedp.NodeVisible))
	b.click("Add endpoint")
	b.seeHeading("Webhook endpoint")
	b.see("Copy it now: it is shown only once.")
	secret := b.eval(`document.querySelector('[data-copy^="whsec_"]').getAttribute('data-copy')`)
	if len(secret) < 40 {
		t.Fatalf("signing secret %q", secret)
	}
	if n := app.count(`SELECT count(*) FROM webhook_endpoints WHERE events NOT LIKE '%key.created%' AND events LIKE '%key.revoked%'`); n != 1 {
		t.Fatal("the unchecked event was stored, or the others were not")
	}

	b.click("Send test event")
	b.see("Test event sent")
	got := hook.wait(t, 1)
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := wh.Verify(got[0].body, got[0].header); err != nil {
		t.Fatalf("the test event does not verify with the secret shown: %v", err)
	}
	waitFor(t, func() bool { return app.count(`SELECT count(*) FROM webhook_attempts`) == 1 })
	b.run(chromedp.Reload())
	b.see("Delivered")
	b.see("HTTP 200")
	if secretShown := b.eval(`String(document.body.innerText.includes(` + fmt.Sprintf("%q", secret) + `))`); secretShown != "false" {
		t.Fatal("the signing secret is shown again after a reload")
	}

	b.click("Resend")
	b.see("The event will be sent again in a moment.")
	again := hook.wait(t, 2)
	if again[1].header.Get("webhook-id") != got[0].header.Get("webhook-id") {
		t.Fatal("the resent event has another id")
	}
}
