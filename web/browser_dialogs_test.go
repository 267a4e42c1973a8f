package web

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// TestBrowserDialogsKeepTheFocusWhereTheHandIs opens Create New API Account:
// the focus starts on the name, Enter saves (rather than generating an
// account key), an error and "Copied" are announced, and closing gives the
// focus back to the button that opened the dialog.
func TestBrowserDialogsKeepTheFocusWhereTheHandIs(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	focused := func() string {
		return b.eval(`(function () {
  var el = document.activeElement;
  return el ? (el.id || el.textContent.trim()) : "";
})()`)
	}
	announced := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if b.eval(`document.getElementById("announcer").textContent`) == want {
				return
			}
		}
		t.Fatalf("the live region does not say %q but %q", want, b.eval(`document.getElementById("announcer").textContent`))
	}

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Create New API Account")
	b.see("Saving creates the account")
	if got := focused(); got != "f-name" {
		t.Fatalf("the dialog opens with the focus on %q, not the account name", got)
	}
	b.run(chromedp.KeyEvent(kb.Enter))
	b.see("Account name is required")
	announced("Account name is required.")
	if got := focused(); got != "f-name" {
		t.Fatalf("after the error the focus is on %q, not the account name", got)
	}
	b.run(chromedp.KeyEvent("EU warehouse" + kb.Enter))
	b.see("API account created")
	if n := app.count(`SELECT count(*) FROM api_accounts WHERE name = 'EU warehouse'`); n != 1 {
		t.Fatal("Enter in the account name did not save the account")
	}
	b.clickIn(openDialog, "Copy")
	announced("Copied")
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
	for deadline := time.Now().Add(5 * time.Second); focused() != "Create New API Account"; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after Done the focus is on %q, not the button that opened the dialog", focused())
		}
	}
}

// TestBrowserLongDialogsKeepTheirFooterInView opens Generate Token on a short
// window with every part of the form shown: the body scrolls and the submit
// button stays in view.
func TestBrowserLongDialogsKeepTheirFooterInView(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	b.run(chromedp.EmulateViewport(1280, 480))
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.clickIn(testSection, "Generate Token")
	b.fill("Token name", "Reporting")
	b.run(chromedp.Click(chromedp.Search(openDialog+`//label[normalize-space()='Restricted']`), chromedp.NodeVisible))
	inView := b.eval(`(function () {
  var d = document.querySelector("dialog[open]");
  var button = d.querySelector(".modal-foot .btn-primary");
  var body = d.querySelector(".modal-body");
  var r = button.getBoundingClientRect();
  return String(r.bottom <= window.innerHeight && r.top >= 0 && body.scrollHeight > body.clientHeight);
})()`)
	if inView != "true" {
		t.Fatal("on a short window the dialog's submit button is out of view, or its body does not scroll")
	}
}
