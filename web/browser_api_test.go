package web

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestBrowserKeyFromThePortalCallsTheAPI generates a test key in the portal,
// creates a shipment with it through /v1 from outside the browser, and sees
// the shipment and the key's last use in the portal.
func TestBrowserKeyFromThePortalCallsTheAPI(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	owner, res := app.merchant("Acme Parcels", "owner@acme.test")
	owner.registerDPD(res, "Acme Ltd")
	b := newBrowser(t, app)

	b.login("owner@acme.test", testPassword)
	b.openAccount("Default")
	b.click("Developer keys")
	b.clickIn(testSection, "Generate Token")
	b.fill("Token name", "Label printer")
	b.clickIn(openDialog, "Generate Token")
	token := b.revealedToken()
	b.clickIn(openDialog, "Done")
	b.run(chromedp.WaitNotPresent(chromedp.Search(openDialog)))

	call := func(method, path, body string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, b.base+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := call(http.MethodPost, "/v1/shipments", shipmentBody)
	var created struct {
		TrackingNumber string `json:"tracking_number"`
	}
	err := json.NewDecoder(r.Body).Decode(&created)
	r.Body.Close()
	if r.StatusCode != http.StatusCreated || err != nil || created.TrackingNumber == "" {
		t.Fatalf("create shipment: %d %v %+v", r.StatusCode, err, created)
	}
	r = call(http.MethodGet, "/v1/shipments?limit=5", "")
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("list shipments: %d", r.StatusCode)
	}
	if err := app.srv.Usage().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}

	b.open("/accounts")
	b.openAccount("Default")
	b.click("Shipments")
	b.seeHeading("Shipments")
	b.see(created.TrackingNumber)
	b.click(created.TrackingNumber)
	b.see("DPD")

	b.open("/accounts")
	b.openAccount("Default")
	b.click("Developer keys")
	row := testSection + `//tr[contains(., 'Label printer')]`
	b.run(chromedp.WaitVisible(chromedp.Search(row + `//*[contains(., 'from 127.0.0.1')]`)))
	b.run(chromedp.WaitVisible(chromedp.Search(row + `//*[normalize-space()='2 calls']`)))

	b.click("API docs")
	b.seeHeading("Shipping API reference")
	b.see("Authorization: Bearer " + token[:12] + "********" + token[len(token)-4:])
	if b.pageHolds(token) {
		t.Fatal("the docs show the whole key")
	}
}
