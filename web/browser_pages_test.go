package web

import (
	"fmt"
	"strings"
	"testing"

	"keyport"
	"keyport/views"
)

// TestBrowserOwnerPagesThroughShipments clicks Next and Previous on an
// account's shipments: the links carry a cursor and keep the mode, and
// each page lists its own shipments.
func TestBrowserOwnerPagesThroughShipments(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	app.addShipments(res, keyport.ModeLive, views.ShipmentsPerPage+1)
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.open(fmt.Sprintf("/accounts/%d/shipments?mode=live", res.Account.ID))
	b.seeHeading("Shipments")
	rows := func() string { return b.eval(`String(document.querySelectorAll("#shipments-table tbody tr").length)`) }
	if got := rows(); got != fmt.Sprint(views.ShipmentsPerPage) {
		t.Fatalf("first page lists %s shipments", got)
	}
	b.click("Next")
	b.waitJS(`location.search.indexOf("before=") >= 0`, "the cursor in the address bar")
	b.settled()
	if got := rows(); got != "1" {
		t.Fatalf("second page lists %s shipments", got)
	}
	if search := b.eval(`location.search`); !strings.Contains(search, "mode=live") {
		t.Fatalf("Next dropped the mode: %s", search)
	}
	b.click("Previous")
	b.waitJS(`location.search.indexOf("after=") >= 0`, "the cursor of the newer page")
	b.settled()
	if got := rows(); got != fmt.Sprint(views.ShipmentsPerPage) {
		t.Fatalf("back on the first page: %s shipments", got)
	}
}
