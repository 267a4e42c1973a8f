package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"keyport"
)

// withoutJavaScript turns off the page's scripts, as a browser without
// JavaScript would, from the next page on.
func (b *browser) withoutJavaScript() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		b.t.Fatalf("turn off JavaScript: %v", err)
	}
}

const revokeCheckoutKey = `//button[contains(@class,'btn-danger')][normalize-space()='Revoke “Checkout key”']`

// TestBrowserRevokingAKeyAsksInADialog clicks the bin icon of a key: a dialog
// asks, with Cancel focused and a red button naming the key. Cancel and Esc
// change nothing and give the focus back to the icon; the red button revokes.
func TestBrowserRevokingAKeyAsksInADialog(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.newKey(res, keyport.NewKey{Name: "Checkout key"})
	active := `SELECT count(*) FROM api_keys WHERE name = 'Checkout key' AND revoked_at IS NULL`
	b := newBrowser(t, app)
	focusBack := func(after string) {
		t.Helper()
		b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
		b.waitJS(`document.activeElement.getAttribute("aria-label") === "Revoke Checkout key"`, "the focus back on the bin icon after "+after)
		if n := app.count(active); n != 1 {
			t.Fatalf("after %s the key is no longer active", after)
		}
	}

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.open("/secrets")
	b.seeHeading("API secrets")
	b.settled()
	b.clickAria("Revoke Checkout key")
	b.run(chromedp.WaitVisible(chromedp.Search(openDialog + revokeCheckoutKey)))
	b.see("Revoke “Checkout key”?")
	b.see("Anything using it stops working immediately. This cannot be undone.")
	b.waitJS(`document.activeElement.matches("dialog[open] button[data-close]:not(.icon-btn)")`, "the focus on Cancel")
	b.clickIn(openDialog, "Cancel")
	focusBack("Cancel")

	b.clickAria("Revoke Checkout key")
	b.run(chromedp.WaitVisible(chromedp.Search(openDialog + revokeCheckoutKey)))
	b.run(chromedp.KeyEvent(kb.Escape))
	focusBack("Esc")

	b.clickAria("Revoke Checkout key")
	b.confirm("Revoke “Checkout key”")
	b.see("Revoked “Checkout key”. Anything using it can no longer call the API.")
	if n := app.count(active); n != 0 {
		t.Fatal("the red button did not revoke the key")
	}
}

// TestBrowserWithoutJavaScriptRevokingAKeyGoesThroughAPage clicks the bin
// icon of a key in a browser without JavaScript: a page asks first, its
// Cancel leads back to the list, and only its red button revokes.
func TestBrowserWithoutJavaScriptRevokingAKeyGoesThroughAPage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.newKey(res, keyport.NewKey{Name: "Checkout key"})
	active := `SELECT count(*) FROM api_keys WHERE name = 'Checkout key' AND revoked_at IS NULL`
	b := newBrowser(t, app)
	b.withoutJavaScript()

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.open("/secrets")
	b.seeHeading("API secrets")
	if got := b.eval(`String(document.documentElement.classList.contains("js"))`); got != "false" {
		t.Fatal("the page ran its script")
	}
	b.clickAria("Revoke Checkout key")
	b.seeHeading("Revoke “Checkout key”?")
	want := fmt.Sprintf("/secrets/%d/revoke?", app.keyIDs(res.Account.ID, "name = 'Checkout key'")[0])
	if loc := b.location(); !strings.HasPrefix(loc, want) || b.xpathCount(`//dialog`) != 0 {
		t.Fatalf("the confirmation is at %s, not a page of its own at %s…", loc, want)
	}
	if n := app.count(active); n != 1 {
		t.Fatal("opening the confirmation revoked the key")
	}
	b.click("Cancel")
	b.seeHeading("API secrets")
	if n := app.count(active); n != 1 {
		t.Fatal("Cancel revoked the key")
	}

	b.clickAria("Revoke Checkout key")
	b.seeHeading("Revoke “Checkout key”?")
	b.click("Revoke “Checkout key”")
	b.seeHeading("API secrets")
	b.see("Revoked “Checkout key”.")
	if n := app.count(active); n != 0 {
		t.Fatal("the red button did not revoke the key")
	}
}

// TestBrowserRollingAWebhookSecretConfirmsTheChosenGrace chooses when the old
// signing secret stops, presses Roll secret, and confirms in the dialog: the
// roll keeps the choice.
func TestBrowserRollingAWebhookSecretConfirmsTheChosenGrace(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	hook, _, err := app.db.CreateWebhookEndpoint(context.Background(), keyport.SystemActor, res.Merchant.ID,
		keyport.WebhookEndpointInput{URL: "https://hooks.acme.test/keyport", Events: keyport.WebhookEventTypes, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.open(fmt.Sprintf("/webhooks/%d", hook.ID))
	b.settled()
	b.run(chromedp.SetValue(chromedp.CSS("#f-grace"), "7d"))
	b.click("Roll secret")
	b.see("Old secret stops signing: In 7 days.")
	if n := app.count(`SELECT count(*) FROM webhook_endpoints WHERE old_secret IS NOT NULL`); n != 0 {
		t.Fatal("opening the confirmation rolled the secret")
	}
	b.confirm("Roll the secret of https://hooks.acme.test/keyport")
	b.see("Signing secret rolled.")
	until := app.count(`SELECT old_secret_until FROM webhook_endpoints WHERE id = $1`, hook.ID)
	if left := time.Unix(int64(until), 0).Sub(app.clock()); left < 6*24*time.Hour || left > 7*24*time.Hour+time.Minute {
		t.Fatalf("the old secret signs for %v more, not 7 days", left)
	}
}
