package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keyport"
	"keyport/web/mailtest"
)

func TestBrowserForgottenPasswordIsResetByEmail(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	mails := mailtest.Start(t)
	app.withMailer(mailerFor(app, mails))
	app.runSender(time.Hour)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)

	b.open("/login")
	b.click("Forgot your password?")
	b.seeHeading("Reset your password")
	b.fill("Email", "owner@acme.test")
	b.clickIn("//form", "Send the reset link")
	b.seeHeading("Check your inbox")
	b.see("If a Keyport account uses owner@acme.test, we sent it a link")

	got := mails.WaitFor("owner@acme.test", "Reset your Keyport password")
	link := mailResetLink.FindString(got.Text)
	if link == "" {
		t.Fatalf("no link in the email:\n%s", got.Text)
	}
	b.open(pathOf(t, link))
	b.seeHeading("Choose a new password")
	b.see("For owner@acme.test.")
	b.fill("New password", "short")
	b.fill("Confirm new password", "short")
	b.clickIn("//form", "Set my new password")
	b.see("Password must be at least 12 characters.")
	b.fill("New password", "a-fresh-passphrase-by-mail")
	b.fill("Confirm new password", "a-fresh-passphrase-by-mail")
	b.clickIn("//form", "Set my new password")
	b.seeHeading("Log in to Keyport")
	b.see("Your password was changed and every session of yours was signed out.")
	b.login("owner@acme.test", "a-fresh-passphrase-by-mail")
	b.seeHeading("API Accounts")

	b.open(pathOf(t, link))
	b.seeHeading("This reset link does not work")
	b.click("Send me a new link")
	b.seeHeading("Reset your password")
	mails.WaitFor("owner@acme.test", "password was changed")
}

func TestBrowserAdminRetriesAHeldMessage(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.resetToken("owner@acme.test")
	app.createAdmin("staff@keyport.test")
	app.runSender(time.Hour)
	app.waitForCount(`SELECT count(*) FROM outbox WHERE state = 'held'`, 1)
	b := newBrowser(t, app)

	b.login("staff@keyport.test", testPassword)
	b.click("Outbox")
	b.seeHeading("Outbox")
	b.see("No SMTP server is configured")
	b.see("not sent: no SMTP configured")
	b.click("Not sent (1)")
	b.see("owner@acme.test")
	b.run(chromedp.Click(chromedp.Search(`//button[starts-with(normalize-space(), 'Retry now')]`), chromedp.NodeVisible))
	b.see("will be sent again in a moment")
	app.waitForCount(`SELECT count(*) FROM outbox_attempts`, 2)
	app.waitForCount(`SELECT count(*) FROM outbox WHERE state = 'held'`, 1)
	if strings.Contains(b.eval(`document.body.innerHTML`), app.messageData(keyport.MessagePasswordReset, "owner@acme.test")["token"]) {
		t.Fatal("the outbox page shows a reset link")
	}
}

func TestBrowserUserTurnsOffAnEmailTopic(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.open("/settings")
	b.seeHeading("Your settings")
	b.see("Send me email about")
	b.run(chromedp.Click(chromedp.CSS(`input[name="receive"][value="requests"]`), chromedp.NodeVisible))
	b.click("Save email preferences")
	b.see("Email preferences saved.")
	if got := b.eval(`String(document.querySelector('input[name="receive"][value="requests"]').checked) + " " +
		String(document.querySelector('input[name="receive"][value="expiry"]').checked)`); got != "false true" {
		t.Fatalf("checkboxes after saving: %s", got)
	}
	off, err := app.db.MailOptOuts(context.Background(), res.Owner.ID)
	if err != nil || len(off) != 1 || off[0] != keyport.MailRequests {
		t.Fatalf("stored opt-outs %v, %v", off, err)
	}
}

func TestBrowserUserSignsOutOfAnotherSession(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	phone := app.client()
	phone.login("owner@acme.test")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.open("/settings")
	b.see("You have 2 active sessions, this one included.")
	b.see("This session")
	b.click("Sign out")
	b.confirm("Sign out of an unknown browser (203.0.113.7)")
	b.see("Signed out of an unknown browser (203.0.113.7).")
	b.see("You are signed in on this device only.")
	if r := phone.get("/accounts"); r.Code != http.StatusSeeOther {
		t.Fatalf("the other session still works: %d", r.Code)
	}
}

func TestBrowserAdminEndsTheSessionsOfAUser(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	owner := app.client()
	owner.login("owner@acme.test")
	app.createAdmin("staff@keyport.test")
	b := newBrowser(t, app)

	b.login("staff@keyport.test", testPassword)
	b.click("Merchants")
	b.seeHeading("Merchants")
	b.click("Users")
	b.seeHeading("Users of Acme Parcels")
	b.click("End all sessions")
	b.confirm("End every session of owner@acme.test")
	b.see("Ended 1 session(s) of owner@acme.test: they must log in again.")
	if r := owner.get("/accounts"); r.Code != http.StatusSeeOther {
		t.Fatalf("the owner's session survived: %d", r.Code)
	}
}
