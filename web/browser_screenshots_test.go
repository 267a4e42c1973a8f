package web

import (
	"bytes"
	"context"
	"fmt"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keyport"
)

// screenshotWidths are the widths the README shows each page at: a laptop and a phone.
var screenshotWidths = []struct {
	name          string
	width, height int64
}{
	{name: "desktop", width: 1280, height: 800},
	{name: "phone", width: 390, height: 844},
}

// screenshot is one page the README shows, as one role sees it.
type screenshot struct {
	name string
	as   string
	path string
	open func(b *browser)
}

// TestBrowserScreenshots photographs the main pages at a laptop's and a
// phone's width, and checks that each is a PNG of that width, that the
// README shows every one of them and that docs/screenshots holds it. With KEYPORT_SCREENSHOTS set to a folder
// (make screenshots sets docs/screenshots) the pictures are written there.
func TestBrowserScreenshots(t *testing.T) {
	t.Parallel()
	dir := os.Getenv("KEYPORT_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	app := newTestApp(t)
	owner, res := app.merchant("Acme Parcels", "owner@acme.test")
	app.createAdmin("staff@keyport.test")
	app.newKey(res, keyport.NewKey{Name: "Checkout server"})
	app.newKey(res, keyport.NewKey{Name: "Warehouse scanner", Access: keyport.AccessRestricted,
		Permissions: []string{"shipments:read", "shipments:write"}})
	app.newKey(res, keyport.NewKey{Name: "Checkout widget", Type: keyport.KeyPublishable})
	owner.registerDPD(res, "Acme Ltd")
	app.addShipments(res, keyport.ModeTest, 4)
	request := owner.file(res, "Production")
	if _, _, err := app.db.CreateWebhookEndpoint(context.Background(), keyport.SystemActor, res.Merchant.ID,
		keyport.WebhookEndpointInput{URL: "https://hooks.acme.test/keyport", Description: "Order system",
			Events: keyport.WebhookEventTypes, Enabled: true}); err != nil {
		t.Fatal(err)
	}
	var restricted int64
	if err := app.db.SQL().QueryRow(`SELECT id FROM api_keys WHERE name = 'Warehouse scanner'`).Scan(&restricted); err != nil {
		t.Fatal(err)
	}
	account := fmt.Sprintf("/accounts/%d", res.Account.ID)
	shots := []screenshot{
		{name: "login", path: "/login"},
		{name: "accounts", as: "owner@acme.test", path: "/accounts"},
		{name: "account", as: "owner@acme.test", path: account},
		{name: "developer-keys", as: "owner@acme.test", path: account + "/keys"},
		{name: "secrets", as: "owner@acme.test", path: "/secrets"},
		{name: "key-permissions", as: "owner@acme.test", path: fmt.Sprintf("/secrets/%d", restricted)},
		{name: "webhooks", as: "owner@acme.test", path: "/webhooks"},
		{name: "audit-log", as: "owner@acme.test", path: "/audit"},
		{name: "request-queue", as: "staff@keyport.test", path: "/admin/requests"},
		{name: "request", as: "staff@keyport.test", path: fmt.Sprintf("/admin/requests/%d", request)},
	}
	for _, size := range screenshotWidths {
		b := newBrowser(t, app)
		b.run(chromedp.EmulateViewport(size.width, size.height))
		signedIn := ""
		for _, shot := range shots {
			if shot.as != signedIn {
				b.signInAs(signedIn, shot.as)
				signedIn = shot.as
			}
			b.open(shot.path)
			b.settled()
			if shot.open != nil {
				shot.open(b)
			}
			file := fmt.Sprintf("%s-%s.png", shot.name, size.name)
			b.saveScreenshot(filepath.Join(dir, file), size.width)
			if !bytes.Contains(readme, []byte("docs/screenshots/"+file)) {
				t.Errorf("the README does not show docs/screenshots/%s", file)
			}
			if _, err := os.Stat(filepath.Join("..", "docs", "screenshots", file)); err != nil {
				t.Errorf("docs/screenshots/%s is missing (make screenshots takes it): %v", file, err)
			}
		}
	}
}

// signInAs logs out whoever is signed in (from, "" for nobody) and logs in as
// to ("" to stay signed out).
func (b *browser) signInAs(from, to string) {
	b.t.Helper()
	b.open("/login")
	if from != "" {
		b.logOut()
		b.seeHeading("Log in to Keyport")
	}
	if to != "" {
		b.login(to, testPassword)
		b.waitJS(`location.pathname !== "/login"`, "the sign-in to land")
		b.settled()
	}
}

// saveScreenshot writes a PNG of the visible part of the page to file and
// fails unless it is width pixels wide.
func (b *browser) saveScreenshot(file string, width int64) {
	b.t.Helper()
	b.waitJS(`document.fonts.status === "loaded"`, "the fonts to load")
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	shot, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", file, err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		b.t.Fatalf("screenshot %s is not a PNG: %v", file, err)
	}
	if got := int64(img.Bounds().Dx()); got != width {
		b.t.Errorf("screenshot %s is %d px wide, want %d", file, got, width)
	}
	if err := os.WriteFile(file, shot, 0o644); err != nil {
		b.t.Fatal(err)
	}
	if strings.Contains(b.eval(`document.body.innerText`), "Internal Server Error") {
		b.t.Errorf("screenshot %s shows an error page", file)
	}
}
