package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	cdpwebauthn "github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"keyport"
)

// confirm waits for the open confirmation dialog, checks that its focus
// starts on Cancel, the choice that changes nothing, and presses its red
// button, which reads label.
func (b *browser) confirm(label string) {
	b.t.Helper()
	button := fmt.Sprintf(`%s//button[contains(@class,'btn-danger')][normalize-space()=%s]`, openDialog, xpathString(label))
	b.run(chromedp.WaitVisible(chromedp.Search(button)))
	b.waitJS(`document.activeElement.matches("dialog[open] .modal-foot button") && document.activeElement.textContent.trim() === "Cancel"`,
		"the focus on the dialog's Cancel")
	b.run(chromedp.Click(chromedp.Search(button), chromedp.NodeVisible))
}

const acmeRow = `//tr[td[normalize-space()='Acme Parcels']]`

func TestBrowserAdminDisablesAndEnablesAMerchant(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.signupMerchant("Bolt Couriers", "owner@bolt.test")
	app.createAdmin("staff@keyport.test")
	b := newBrowser(t, app)

	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	b.click("Merchants")
	b.seeHeading("Merchants")
	b.settled()
	b.clickAria("Disable Acme Parcels")
	b.confirm("Disable “Acme Parcels”")
	b.see("Disabled “Acme Parcels”")
	b.run(chromedp.WaitVisible(chromedp.Search(acmeRow + `//span[contains(@class,'badge')][normalize-space()='Disabled']`)))
	if n := b.xpathCount(`//tr[td[normalize-space()='Bolt Couriers']]//span[contains(@class,'badge')][normalize-space()='Active']`); n != 1 {
		t.Fatal("another merchant lost its Active badge")
	}
	if n := app.count(`SELECT count(*) FROM merchants WHERE id = $1 AND disabled_at IS NOT NULL`, res.Merchant.ID); n != 1 {
		t.Fatal("the merchant is not disabled in the database")
	}

	b.click("Log out")
	b.seeHeading("Log in to Keyport")
	b.login("owner@acme.test", testPassword)
	b.see("This merchant account is disabled. Contact the platform team.")

	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Live key requests")
	b.click("Merchants")
	b.seeHeading("Merchants")
	b.settled()
	b.clickAria("Enable Acme Parcels")
	b.see("Enabled “Acme Parcels”")
	b.run(chromedp.WaitVisible(chromedp.Search(acmeRow + `//span[contains(@class,'badge')][normalize-space()='Active']`)))
	b.click("Log out")
	b.seeHeading("Log in to Keyport")
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
}

func TestBrowserChangePasswordAndSignOutEverywhere(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	const next = "a-new-unusual-passphrase"

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Your settings")
	b.seeHeading("Your settings")
	b.see("You are signed in on this device only.")
	b.fill("Current password", "not-my-password-at-all")
	b.fill("New password", next)
	b.fill("Confirm new password", next)
	b.click("Change password")
	b.see("This is not your current password.")
	b.fill("Current password", testPassword)
	b.fill("New password", next)
	b.fill("Confirm new password", next)
	b.click("Change password")
	b.see("Your password has been changed.")
	if loc := b.location(); loc != "/settings" {
		t.Fatalf("after changing the password: %s", loc)
	}

	b.click("Sign out of all sessions")
	b.confirm("Sign out of every session")
	b.seeHeading("Log in to Keyport")
	b.see("You have been signed out of all sessions")
	b.open("/settings")
	b.seeHeading("Log in to Keyport")
	b.login("owner@acme.test", testPassword)
	b.see("Incorrect email or password.")
	b.login("owner@acme.test", next)
	b.seeHeading("API Accounts")
}

func TestBrowserTurnOnAnAuthenticatorAppAndSignInWithIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Your settings")
	b.seeHeading("Your settings")
	b.click("Set up an authenticator app")
	b.see("1. Scan the QR code")
	if n := b.eval(`String(document.querySelectorAll("svg.qr path").length)`); n != "1" {
		t.Fatalf("QR code paths: %s", n)
	}
	secret := strings.ReplaceAll(b.eval(`document.getElementById("totp-secret").textContent`), " ", "")
	b.fill("Authentication code", "000000")
	b.click("Turn on two-factor authentication")
	b.see("This is not the code your app shows now.")
	b.fill("Authentication code", app.totpCode(secret))
	b.click("Turn on two-factor authentication")
	b.seeHeading("Your recovery codes")
	b.see("Two-factor authentication is on.")
	recovery := b.eval(`document.querySelector("#recovery-codes code").textContent`)
	b.click("I saved them")
	b.see("10 recovery codes left.")
	b.click("Log out")
	b.see("You have logged out.")

	app.advance(31 * time.Second)
	began := time.Now()
	b.login("owner@acme.test", testPassword)
	b.seeHeading("Two-factor authentication")
	b.fill("Authentication code", app.totpCode(secret))
	b.click("Verify")
	b.seeHeading("API Accounts")
	t.Logf("sign-in with a password and an authenticator code, from opening /login to API Accounts: %v", time.Since(began).Round(time.Millisecond))
	b.click("Log out")
	b.see("You have logged out.")

	b.login("owner@acme.test", testPassword)
	b.seeHeading("Two-factor authentication")
	b.fill("Authentication code", recovery)
	b.click("Verify")
	b.see("You signed in with a recovery code; 9 left.")
}

func TestBrowserAnAdminSetsUpTwoFactorFirstAndResetsAMerchantUsers(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.setTwoFactorPolicy(keyport.DefaultTwoFactorPolicy)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.enableTwoFactor("owner@acme.test")
	app.createAdmin("staff@keyport.test")
	b := newBrowser(t, app)

	b.login("staff@keyport.test", testPassword)
	b.seeHeading("Set up an authenticator app")
	b.see("The platform requires two-factor authentication for your account.")
	b.open("/admin/requests")
	b.seeHeading("Set up an authenticator app")
	b.clickIn("//main", "Set up an authenticator app")
	b.see("1. Scan the QR code")
	secret := strings.ReplaceAll(b.eval(`document.getElementById("totp-secret").textContent`), " ", "")
	b.fill("Authentication code", app.totpCode(secret))
	b.click("Turn on two-factor authentication")
	b.seeHeading("Your recovery codes")
	b.click("I saved them")
	b.seeHeading("Your settings")

	b.open("/admin/merchants")
	b.seeHeading("Merchants")
	b.clickAria("Users of Acme Parcels")
	b.seeHeading("Users of Acme Parcels")
	b.clickAria("Reset two-factor authentication of owner@acme.test")
	b.confirm("Reset two-factor of owner@acme.test")
	b.see("Reset the two-factor authentication of owner@acme.test and ended their sessions")
	b.click("Log out")
	b.see("You have logged out.")
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
}

func TestBrowserRevealingASecretLaterAsksForThePasswordAgain(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	owner, res := app.merchant("Acme Parcels", "owner@acme.test")
	owner.registerDPD(res, "Acme Ltd")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	app.advance(11 * time.Minute)
	b.open(fmt.Sprintf("/accounts/%d/auths", res.Account.ID))
	b.clickAria("Reveal Password")
	b.seeHeading("Confirm it's you")
	b.see("You are about to reveal a secret of a registered auth.")
	b.fill("Password", "not-my-password-at-all")
	b.click("Confirm")
	b.see("This is not your current password.")
	b.fill("Password", testPassword)
	b.click("Confirm")
	b.see("Keyport will not ask again for 10 minutes")
	if loc := b.location(); loc != fmt.Sprintf("/accounts/%d/auths", res.Account.ID) {
		t.Fatalf("after confirming: %s", loc)
	}
	b.clickAria("Reveal Password")
	b.see("Secret-DPD-pass-77")
}

// virtualAuthenticator gives the tab a platform authenticator of Chromium's
// DevTools that answers at once, as a device whose screen lock the user
// passed.
func (b *browser) virtualAuthenticator() {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, cdpwebauthn.Enable, cdpwebauthn.EnableParams{}); err != nil {
		b.t.Fatalf("enable WebAuthn: %v", err)
	}
	opts := &cdpwebauthn.VirtualAuthenticatorOptions{Protocol: cdpwebauthn.AuthenticatorProtocolCtap2,
		Ctap2version: cdpwebauthn.Ctap2versionCtap21, Transport: cdpwebauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true}
	if _, err := chromedp.Call(b.ctx, cdpwebauthn.AddVirtualAuthenticator, cdpwebauthn.AddVirtualAuthenticatorParams{Options: opts}); err != nil {
		b.t.Fatalf("add a virtual authenticator: %v", err)
	}
}

func TestBrowserAddAPasskeyAndSignInWithIt(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newLocalhostBrowser(t, app)
	b.virtualAuthenticator()

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.click("Your settings")
	b.seeHeading("Your settings")
	b.click("Add a passkey")
	b.seeHeading("Add a passkey")
	b.click("Add passkey")
	b.see("Name is required.")
	b.fill("Name", "Work laptop")
	b.click("Add passkey")
	b.seeHeading("Your recovery codes")
	b.see("Added the passkey “Work laptop”.")
	b.click("I saved them")
	b.see("Work laptop")
	b.see("never used")
	b.click("Log out")
	b.see("You have logged out.")

	began := time.Now()
	b.login("owner@acme.test", testPassword)
	b.seeHeading("Two-factor authentication")
	b.click("Use a passkey or security key")
	b.seeHeading("API Accounts")
	t.Logf("sign-in with a password and a passkey, from opening /login to API Accounts: %v", time.Since(began).Round(time.Millisecond))
	if n := app.count(`SELECT count(*) FROM passkeys WHERE last_used_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d passkeys marked used", n)
	}
	b.click("Your settings")
	b.see("last used")
	b.clickAria("Remove passkey Work laptop")
	b.confirm("Remove “Work laptop”")
	b.see("Removed the passkey “Work laptop”")
	if n := app.count(`SELECT count(*) FROM passkeys`) + app.count(`SELECT count(*) FROM recovery_codes`); n != 0 {
		t.Fatalf("%d rows remain after removing the only passkey", n)
	}
}

// TestBrowserSmallThingsUsersNoticed walks the wording and defaults a new
// user tripped over: the only Owner is offered no Remove nor Change role, a
// new registered auth starts as not Testing, mode badges are capitalised,
// counts are in the singular for one, and a deleted auth is named.
func TestBrowserSmallThingsUsersNoticed(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")

	b.open(fmt.Sprintf("/accounts/%d/keys", res.Account.ID))
	b.see("No test keys yet.")
	b.see("Request your first live key")
	b.click("Create your first key")
	b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
	app.newKey(res, keyport.NewKey{Name: "CI"})
	b.open("/accounts")
	b.seeHeading("API Accounts")

	b.click("Team")
	b.seeHeading("Team")
	b.see("the only one: make another member Owner")
	if n := b.xpathCount(`//button[normalize-space()='Remove' or normalize-space()='Change role']`); n != 0 {
		t.Fatalf("the only Owner is offered %d Remove or Change role buttons", n)
	}

	b.click("API secrets")
	b.seeHeading("API secrets")
	if n := b.xpathCount(`//span[contains(@class,'badge')][normalize-space()='Test']`); n == 0 {
		t.Fatal("no capitalised Test badge")
	}

	b.open(fmt.Sprintf("/accounts/%d/auths/new?courier=dpd", res.Account.ID))
	if got := b.eval(`document.querySelector("input[name=testing]:checked").value`); got != "no" {
		t.Fatalf("a new registered auth starts with Testing %q", got)
	}
}

func TestBrowserAUserSignedOutByADisabledMerchantSeesWhy(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	if _, err := app.db.SetMerchantDisabled(context.Background(), keyport.SystemActor, res.Merchant.ID, true); err != nil {
		t.Fatal(err)
	}
	b.click("API secrets")
	b.seeHeading("Log in to Keyport")
	b.see("You were signed out: the platform team disabled your merchant account.")
}
