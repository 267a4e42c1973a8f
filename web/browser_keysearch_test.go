package web

import (
	"strings"
	"testing"

	"keyport"
)

func TestBrowserOwnerSearchesKeysByName(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.newKey(res, keyport.NewKey{Name: "CI server"})
	app.newKey(res, keyport.NewKey{Name: "Reporting", Mode: keyport.ModeLive})
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.click("API secrets")
	b.seeHeading("API secrets")
	b.see("CI server")
	b.fill("Search keys", "porti")
	b.click("Filter")
	b.waitJS(`location.search.includes("q=porti")`, "the search in the address")
	b.settled()
	b.see("Reporting")
	if n := b.xpathCount(`//table[@id='secrets-table']//td[normalize-space()='CI server']`); n != 0 {
		t.Fatal("the search still lists CI server")
	}
	b.fill("Search keys", "no such key")
	b.click("Filter")
	b.see("No key matches “no such key”.")
	b.click("Clear the search")
	b.see("CI server")
	b.see("Reporting")
}

func TestBrowserAdminFindsTheMerchantOfAWholeKey(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Bolt Couriers", "owner@bolt.test")
	key := app.newKey(res, keyport.NewKey{Name: "Warehouse printer", Mode: keyport.ModeLive})
	app.createAdmin("staff@keyport.test")
	b := newBrowser(t, app)

	b.login("staff@keyport.test", testPassword)
	b.click("Find a key")
	b.seeHeading("Find a key")
	b.fill("Key", key)
	b.click("Find")
	b.see("Bolt Couriers")
	b.see("Warehouse printer")
	if loc := b.location(); loc != "/admin/keys" {
		t.Fatalf("the address is %q after the search", loc)
	}
	if b.pageHolds(key) || b.pageHolds(key[8:]) {
		t.Fatal("the page holds the whole key after the search")
	}
	if got := b.eval(`document.getElementById("f-q").value`); !strings.HasPrefix(got, key[:12]) || !strings.HasSuffix(got, key[len(key)-4:]) || got == key {
		t.Fatalf("the search box shows %q, want the key redacted", got)
	}
}

// TestBrowserWithoutJavaScriptAWholeKeyNeverEntersTheAddress searches for a
// whole key with scripts off, on API secrets and in the key finder: the form
// posts, the key is found, and the address (so the history) never holds it;
// a name search still moves to an address that can be bookmarked.
func TestBrowserWithoutJavaScriptAWholeKeyNeverEntersTheAddress(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Bolt Couriers", "owner@bolt.test")
	key := app.newKey(res, keyport.NewKey{Name: "Warehouse printer", Mode: keyport.ModeLive})
	app.newKey(res, keyport.NewKey{Name: "CI server"})
	app.createAdmin("staff@keyport.test")
	tests := []struct {
		as, path, heading, field, button, nameSearch string
	}{
		{as: "owner@bolt.test", path: "/secrets", heading: "API secrets", field: "Search keys", button: "Filter", nameSearch: "printer"},
		{as: "staff@keyport.test", path: "/admin/keys", heading: "Find a key", field: "Key", button: "Find"},
	}
	for _, tt := range tests {
		b := newBrowser(t, app)
		b.withoutJavaScript()
		b.login(tt.as, testPassword)
		b.waitJS(`location.pathname !== "/login"`, "the sign-in to land")
		b.open(tt.path)
		b.seeHeading(tt.heading)
		b.fill(tt.field, key)
		b.click(tt.button)
		b.seeHeading(tt.heading)
		b.see("Warehouse printer")
		if href := b.eval(`location.href`); strings.Contains(href, key[8:]) || strings.Contains(href, "q=") {
			t.Fatalf("%s: the address is %s after searching for a whole key", tt.path, href)
		}
		if b.pageHolds(key) {
			t.Fatalf("%s: the page holds the whole key", tt.path)
		}
		if tt.nameSearch == "" {
			continue
		}
		b.fill(tt.field, tt.nameSearch)
		b.click(tt.button)
		b.waitJS(`location.search.includes("q=printer")`, "a name search in the address")
		b.see("Warehouse printer")
		if n := b.xpathCount(`//table[@id='secrets-table']//td[normalize-space()='CI server']`); n != 0 {
			t.Fatal("the name search still lists CI server")
		}
	}
}
