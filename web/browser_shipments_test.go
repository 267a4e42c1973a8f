package web

import (
	"strings"
	"testing"
)

// shipmentTrackingNumbers lists the tracking numbers of the shipments table's rows, comma-separated.
func (b *browser) shipmentTrackingNumbers() string {
	b.t.Helper()
	return b.eval(`Array.from(document.querySelectorAll("#shipments-table tbody tr td:first-child")).map(function (c) { return c.textContent.trim(); }).join(",")`)
}

// TestBrowserOwnerFiltersShipments picks a status, then types the start of a
// tracking number: each change lists the matching shipments without a click
// or a new page, and the address bar and the Export CSV link follow.
func TestBrowserOwnerFiltersShipments(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	res := app.signupMerchant("Acme Parcels", "owner@acme.test")
	filterShipments(app, res)
	b := newBrowser(t, app)
	b.login("owner@acme.test", testPassword)
	b.seeHeading("API Accounts")
	b.openAccount("Default")
	b.click("Shipments")
	b.seeHeading("Shipments")
	if got := b.shipmentTrackingNumbers(); got != "KPB101,KPB100,KPA200,KPA101,KPA100" {
		t.Fatalf("unfiltered rows %s", got)
	}
	b.settled()
	b.eval(`(window.kept = "yes", "")`)

	b.eval(`(function () {
  var status = document.getElementById("f-status");
  status.value = "delivered";
  status.dispatchEvent(new Event("change", {bubbles: true}));
  return "";
})()`)
	b.waitJS(`location.search === "?mode=test&status=delivered"`, "the status in the address bar")
	b.settled()
	if got := b.shipmentTrackingNumbers(); got != "KPB100,KPA101" {
		t.Fatalf("delivered rows %s", got)
	}

	b.fill("Tracking number", "kpa")
	b.waitJS(`location.search === "?mode=test&status=delivered&tracking=KPA"`, "the tracking number in the address bar")
	b.settled()
	if got := b.shipmentTrackingNumbers(); got != "KPA101" {
		t.Fatalf("delivered rows starting KPA: %s", got)
	}
	if got := b.eval(`document.activeElement ? document.activeElement.id : ""`); got != "f-tracking" {
		t.Fatalf("typing lost the focus to %q", got)
	}
	if got := b.eval(`String(window.kept)`); got != "yes" {
		t.Fatal("filtering loaded a new page")
	}
	if got := b.eval(`document.getElementById("f-status").value`); got != "delivered" {
		t.Fatalf("the status filter reads %q", got)
	}
	href := b.eval(`(function () {
  var links = Array.from(document.querySelectorAll("a")).filter(function (a) { return a.textContent.trim() === "Export CSV"; });
  return links.length === 1 ? links[0].getAttribute("href") : "links: " + links.length;
})()`)
	if !strings.HasSuffix(href, "/shipments/export.csv?mode=test&status=delivered&tracking=KPA") {
		t.Fatalf("Export CSV links to %s", href)
	}

	b.fill("Tracking number", "KPZ")
	b.see("No shipment matches these filters.")
	b.click("Clear filters")
	b.seeHeading("Shipments")
	b.waitJS(`location.search === "?mode=test"`, "the filters cleared")
	if got := b.shipmentTrackingNumbers(); got != "KPB101,KPB100,KPA200,KPA101,KPA100" {
		t.Fatalf("rows once cleared %s", got)
	}
	if got := b.eval(`String(window.kept)`); got != "undefined" {
		t.Fatal("Clear filters did not load the page")
	}
}
