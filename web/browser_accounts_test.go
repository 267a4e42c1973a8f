package web

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// defaultRow is the row of the API account "Default" on the API Accounts page.
const defaultRow = `//tr[td[normalize-space()='Default']]`

// accountSummary is the account key, status and counts on an API account's page.
const accountSummary = `//section[@id='account-summary']`

// clickAria clicks the visible element whose aria-label is label, such as an icon button.
func (b *browser) clickAria(label string) {
	b.t.Helper()
	b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//*[@aria-label=%s]`, xpathString(label))), chromedp.NodeVisible))
}

// xpathCount counts the elements an XPath query matches now, without waiting.
func (b *browser) xpathCount(xpath string) int {
	b.t.Helper()
	n := b.eval(fmt.Sprintf(`String(document.evaluate(%q, document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null).snapshotLength)`, xpath))
	var count int
	if _, err := fmt.Sscan(n, &count); err != nil {
		b.t.Fatalf("count %s: %q", xpath, n)
	}
	return count
}

// closeDialogRefreshingAccounts clicks the open dialog's Done and waits until
// the accounts table, which closing it reloads, is swapped in and settled, so
// that the next click does not land on a row htmx is replacing.
func (b *browser) closeDialogRefreshingAccounts() {
	b.t.Helper()
	b.closeDialogRefreshing("accounts-list")
}

// closeDialogRefreshing clicks the open dialog's Done and waits until the
// element with the id, which closing the dialog reloads, is swapped in and
// settled.
func (b *browser) closeDialogRefreshing(id string) {
	b.t.Helper()
	b.eval(fmt.Sprintf(`(document.getElementById(%q).setAttribute("data-stale", ""), "")`, id))
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
	b.waitJS(fmt.Sprintf(`!!document.getElementById(%q) && !document.querySelector("#%s[data-stale]")`, id, id), "#"+id+" to reload")
	b.settled()
}

// openAccount opens an API account's page from the API Accounts list by
// clicking the account's name.
func (b *browser) openAccount(name string) {
	b.t.Helper()
	b.settled()
	b.run(chromedp.Click(chromedp.Search(fmt.Sprintf(`//table[@id='accounts-table']//td/a[normalize-space()=%s]`, xpathString(name))),
		chromedp.NodeVisible))
	b.run(chromedp.WaitVisible(chromedp.Search(`//p/a[normalize-space()='← API Accounts']`)))
	b.settled()
}

func TestBrowserCreateAPIAccount(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.settled()
	b.eval(`(window.kept = "yes", "")`)
	b.click("Create New API Account")
	b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
	b.fill("Account name", "EU warehouse")
	b.clickIn(openDialog, "Generate key")
	b.waitJS(`(document.getElementById("f-account_key") || {value: ""}).value.startsWith("acct_")`, "a generated account key")
	key := b.eval(`document.getElementById("f-account_key").value`)
	if got := b.eval(`document.getElementById("f-name").value`); got != "EU warehouse" {
		t.Fatalf("Generate key lost the name: %q", got)
	}
	b.clickIn(openDialog, "Save Changes")
	b.see("API account created")
	token := b.revealedToken()
	if !strings.HasPrefix(token, "sk_test_") {
		t.Fatalf("Legacy API Secret %q", token)
	}
	b.see("Legacy API Secret")
	b.see("with account key " + key + ".")
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))
	b.run(chromedp.WaitVisible(chromedp.Search(`//table[@id='accounts-table']//td[normalize-space()='EU warehouse']`)))
	b.run(chromedp.WaitVisible(chromedp.Search(fmt.Sprintf(`//tr[td[normalize-space()='EU warehouse']]//code[normalize-space()=%s]`, xpathString(key)))))
	if b.eval(`String(window.kept)`) != "yes" {
		t.Fatal("creating an account reloaded the whole page")
	}
	if b.pageHolds(token) {
		t.Fatal("the page still holds the Legacy API Secret")
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE legacy = TRUE AND name = 'Legacy API Secret'`); n != 1 {
		t.Fatalf("%d Legacy API Secrets", n)
	}
	if n := app.count(`SELECT count(*) FROM api_accounts WHERE name = 'EU warehouse' AND account_key = $1`, key); n != 1 {
		t.Fatalf("%d accounts named EU warehouse with key %s", n, key)
	}
}

func TestBrowserKeysAndTokensCreateAndRemove(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.settled()
	b.clickIn(defaultRow, "Keys & Tokens")
	b.see("Keys & Tokens · Default")
	b.clickIn(openDialog, "Create Token")
	b.fill("Token name", "Laptop")
	b.clickIn(openDialog+`//form`, "Create Token")
	token := b.revealedToken()
	b.clickIn(openDialog, "Done")
	laptop := openDialog + `//li[.//strong[normalize-space()='Laptop']]`
	b.run(chromedp.WaitVisible(chromedp.Search(laptop)))
	b.see("Keys & Tokens · Default")
	if b.pageHolds(token) {
		t.Fatal("the Keys & Tokens list shows the whole token")
	}
	removeLaptop := openDialog + `//a[@aria-label='Remove Laptop']`
	b.run(chromedp.Click(chromedp.Search(removeLaptop), chromedp.NodeVisible))
	b.see("Remove the token “Laptop”?")
	b.clickIn(openDialog, "Cancel")
	b.see("Keys & Tokens · Default")
	b.run(chromedp.WaitVisible(chromedp.Search(laptop)))
	b.run(chromedp.Click(chromedp.Search(removeLaptop), chromedp.NodeVisible))
	b.confirm("Remove “Laptop”")
	b.see("Removed “Laptop”")
	if n := b.xpathCount(laptop); n != 0 {
		t.Fatal("the removed token is still listed")
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE name = 'Laptop' AND revoked_at IS NOT NULL`); n != 1 {
		t.Fatalf("%d revoked Laptop keys", n)
	}
}

func TestBrowserRegisteredAuthDPD(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	const password = "s3cret-DPD-pass"

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.clickAria("Register a new auth for Default")
	b.see("Register a new auth · Default")
	b.run(chromedp.SetValue(chromedp.CSS("#f-courier"), "dpd"))
	b.eval(`(document.getElementById('f-courier').dispatchEvent(new Event('change', {bubbles: true})), "")`)
	b.fill("Username", "acme-dpd")
	b.clickIn(openDialog, "Save Changes")
	b.see("Password is required.")
	b.see("Company is required.")
	b.fill("Username", "acme-dpd")
	b.fill("Password", password)
	b.fill("Account number", "0012345")
	b.fill("Company", "Acme Ltd")
	b.run(chromedp.Click(chromedp.Search(`//input[@name='testing'][@value='yes']`), chromedp.NodeVisible))
	b.clickIn(openDialog, "Save Changes")
	b.see("Registered the DPD auth")
	b.see("DPD · Acme Ltd")
	b.run(chromedp.WaitVisible(chromedp.Search(openDialog + `//span[contains(@class,'badge')][normalize-space()='Testing']`)))
	b.see("acme-dpd")
	b.see("0012345")
	if b.pageHolds(password) {
		t.Fatal("the registered auth shows its password unmasked")
	}
	b.see("••••••••")
	b.clickAria("Reveal Password")
	b.see(password)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'auth.secret_revealed'`); n != 1 {
		t.Fatalf("%d audited reveals", n)
	}
	b.clickAria("Delete DPD auth Acme Ltd")
	b.confirm("Delete the DPD auth of “Acme Ltd”")
	b.see("Deleted the registered auth DPD · Acme Ltd (testing).")
	b.see("No registered auths")
	if n := app.count(`SELECT count(*) FROM registered_auths WHERE deleted_at IS NULL`); n != 0 {
		t.Fatalf("%d registered auths after the delete", n)
	}
}

func TestBrowserDisableAndEnableAccount(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	keysBefore := app.count(`SELECT count(*) FROM api_keys WHERE account_id = $1`, res.Account.ID)

	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.settled()
	b.openAccount("Default")
	b.clickAria("Disable Default")
	b.confirm("Disable “Default”")
	b.see("Disabled “Default”")
	b.settled()
	if loc := b.location(); loc != fmt.Sprintf("/accounts/%d", res.Account.ID) {
		t.Fatalf("disabling led to %s, want the account's page", loc)
	}
	b.run(chromedp.WaitVisible(chromedp.Search(accountSummary + `//span[contains(@class,'badge')][normalize-space()='Disabled']`)))

	b.click("Keys & Tokens")
	b.see("Keys & Tokens · Default")
	b.see("This API account is disabled")
	if n := b.xpathCount(openDialog + `//*[self::a or self::button][normalize-space()='Create Token']`); n != 0 {
		t.Fatal("a disabled account offers Create Token")
	}
	b.closeDialogRefreshing("account-summary")

	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.settled()
	if loc := b.location(); loc != fmt.Sprintf("/accounts/%d/keys", res.Account.ID) {
		t.Fatalf("Developer keys opened %s", loc)
	}
	b.see("This API account is disabled: its keys do not work")
	for _, label := range []string{"Generate Token", "Request Live Token"} {
		if n := b.xpathCount(fmt.Sprintf(`//a[normalize-space()=%s]`, xpathString(label))); n != 0 {
			t.Fatalf("a disabled account offers %s", label)
		}
	}
	b.open(fmt.Sprintf("/accounts/%d/keys/new", res.Account.ID))
	b.fill("Token name", "Laptop")
	b.clickIn("//form", "Generate Token")
	b.see("This API account is disabled. Enable it before creating keys.")
	if n := app.count(`SELECT count(*) FROM api_keys WHERE account_id = $1`, res.Account.ID); n != keysBefore {
		t.Fatalf("%d keys after creating one on a disabled account, want %d", n, keysBefore)
	}

	b.open("/accounts")
	b.seeHeading("API Accounts")
	b.run(chromedp.WaitVisible(chromedp.Search(defaultRow + `//span[contains(@class,'badge')][normalize-space()='Disabled']`)))
	b.openAccount("Default")
	b.clickAria("Enable Default")
	b.see("Enabled “Default”")
	b.run(chromedp.WaitVisible(chromedp.Search(accountSummary + `//span[contains(@class,'badge')][normalize-space()='Enabled']`)))
	if n := app.count(`SELECT count(*) FROM api_accounts WHERE id = $1 AND disabled_at IS NULL`, res.Account.ID); n != 1 {
		t.Fatal("the account is still disabled in the database")
	}
	b.click("Developer keys")
	b.seeHeading("Developer keys")
	b.run(chromedp.WaitVisible(chromedp.Search(testSection + `//a[normalize-space()='Generate Token']`)))
}

func TestBrowserRenameAnAccount(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.clickAria("Rename Default")
	b.see("Only the name changes")
	b.fill("Account name", "Main shop")
	b.clickIn(openDialog, "Rename")
	b.see("Renamed “Default” to “Main shop”.")
	b.seeHeading("Main shop")
	if loc := b.location(); loc != fmt.Sprintf("/accounts/%d", res.Account.ID) {
		t.Fatalf("renaming led to %s, want the account's page", loc)
	}
	b.click("← API Accounts")
	b.seeHeading("API Accounts")
	b.run(chromedp.WaitVisible(chromedp.Search(`//table[@id='accounts-table']//td/a[normalize-space()='Main shop']`)))
}

// TestBrowserAccountPageFromTheList opens an account by its name from the
// list, whose row keeps its actions on one line at 1280 pixels, and creates
// a token from the account's page: the counts on the page follow.
func TestBrowserAccountPageFromTheList(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.settled()
	tops := b.eval(`Array.from(document.querySelectorAll("#accounts-table tbody tr .row-actions > *")).map(e => Math.round(e.getBoundingClientRect().top)).join(",")`)
	if parts := strings.Split(tops, ","); len(parts) != 2 || parts[0] != parts[1] {
		t.Fatalf("the row's actions are not two on one line: tops %s", tops)
	}
	if wraps := b.eval(`String(document.querySelector("#accounts-table").getBoundingClientRect().width > document.querySelector("#accounts-list .table-wrap").clientWidth)`); wraps != "false" {
		t.Fatalf("the accounts table is wider than the page at 1280 pixels: %s", b.eval(`Array.from(document.querySelectorAll("#accounts-table tbody tr:first-child td")).map(function (td) { return Math.round(td.getBoundingClientRect().width); }).join(",") + " in " + document.querySelector("#accounts-list .table-wrap").clientWidth + ", window " + window.innerWidth`))
	}

	b.openAccount("Default")
	if loc := b.location(); loc != fmt.Sprintf("/accounts/%d", res.Account.ID) {
		t.Fatalf("the name opened %s", loc)
	}
	b.seeHeading("Default")
	b.run(chromedp.WaitVisible(chromedp.Search(accountSummary + `//dt[normalize-space()='Test keys']/following-sibling::dd[1][normalize-space()='0 active keys']`)))
	for _, label := range []string{"Keys & Tokens", "Developer keys", "View Registered Auths", "Register a new auth", "Shipments", "Rename", "Disable", "Delete"} {
		if n := b.xpathCount(fmt.Sprintf(`//main//*[self::a or self::button][normalize-space()=%s]`, xpathString(label))); n != 1 {
			t.Fatalf("the account's page has %d %q", n, label)
		}
	}

	b.click("Keys & Tokens")
	b.see("Keys & Tokens · Default")
	b.clickIn(openDialog, "Create Token")
	b.fill("Token name", "Laptop")
	b.clickIn(openDialog+`//form`, "Create Token")
	b.revealedToken()
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitVisible(chromedp.Search(openDialog + `//li[.//strong[normalize-space()='Laptop']]`)))
	b.closeDialogRefreshing("account-summary")
	b.run(chromedp.WaitVisible(chromedp.Search(accountSummary + `//dt[normalize-space()='Test keys']/following-sibling::dd[1][normalize-space()='1 active key']`)))
	if n := app.count(`SELECT count(*) FROM api_keys WHERE name = 'Laptop' AND account_id = $1`, res.Account.ID); n != 1 {
		t.Fatalf("%d Laptop keys", n)
	}
}
