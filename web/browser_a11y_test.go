package web

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"keyport"
)

// axeScript returns axe-core's script, from the file KEYPORT_AXE names
// (.ci/run installs axe-core from npm into a cache outside the module).
func axeScript(t *testing.T) string {
	t.Helper()
	src, err := os.ReadFile(testTool(t, "KEYPORT_AXE", "axe-core", "its axe.min.js"))
	if err != nil {
		t.Fatal(err)
	}
	return string(src)
}

// testTool returns the path of a checker from npm that the environment
// variable env names, failing the test when it is missing in CI and skipping
// it elsewhere.
func testTool(t *testing.T, env, tool, file string) string {
	t.Helper()
	path := os.Getenv(env)
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set: .ci/run installs %s and sets it; this check never skips in CI", env, tool)
		}
		t.Skipf("%s is not set: install %s from npm and point %s at %s to run this check", env, tool, env, file)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatal(err)
	}
	return path
}

// axeViolation is a serious or critical rule failure of axe-core.
type axeViolation struct {
	ID      string   `json:"id"`
	Impact  string   `json:"impact"`
	Targets []string `json:"targets"`
}

// axeCheck runs axe-core on the page as it stands and returns its serious and
// critical violations.
func (b *browser) axeCheck(script string) []axeViolation {
	b.t.Helper()
	b.settled()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`if (!window.axe) {`+script+`}`)); err != nil {
		b.t.Fatalf("load axe-core: %v", err)
	}
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(function (r) {
  return JSON.stringify(r.violations.filter(function (v) { return v.impact === "serious" || v.impact === "critical"; }).map(function (v) {
    return {id: v.id, impact: v.impact, targets: v.nodes.slice(0, 4).map(function (n) { return n.target.join(" "); })};
  }));
})`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("run axe-core: %v", err)
	}
	var list []axeViolation
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		b.t.Fatal(err)
	}
	return list
}

// a11yState is a page, or a dialog opened on it, that the accessibility walk checks.
type a11yState struct {
	name string
	as   string
	path string
	// open opens a dialog or a state of the page after it loaded.
	open func(b *browser)
}

// everyPageAndDialog seeds a merchant with an owner, a developer and a
// reviewer, a platform admin, keys, a registered auth, shipments, a live
// request and a webhook, and returns every page and dialog of the portal as
// each role sees it. Some states create a token or an endpoint, so each walk
// needs an app of its own.
func everyPageAndDialog(t *testing.T, app *testApp) []a11yState {
	t.Helper()
	owner, res := app.merchant("Acme Parcels", "owner@acme.test")
	app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	app.member(res, "rita@acme.test", keyport.RoleReviewer)
	app.createAdmin("staff@keyport.test")
	app.newKey(res, keyport.NewKey{Name: "CI"})
	app.newKey(res, keyport.NewKey{Name: "Checkout widget", Type: keyport.KeyPublishable})
	owner.registerDPD(res, "Acme Ltd")
	shipment := app.addShipments(res, keyport.ModeTest, 3)
	request := owner.file(res, "Production")
	hook, _, err := app.db.CreateWebhookEndpoint(context.Background(), keyport.SystemActor, res.Merchant.ID,
		keyport.WebhookEndpointInput{URL: "https://hooks.acme.test/keyport", Events: keyport.WebhookEventTypes, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	account := fmt.Sprintf("/accounts/%d", res.Account.ID)
	var kid int64
	if err := app.db.SQL().QueryRow(`SELECT min(id) FROM api_keys WHERE name = 'CI'`).Scan(&kid); err != nil {
		t.Fatal(err)
	}
	dialog := func(label string) func(b *browser) {
		return func(b *browser) {
			b.click(label)
			b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
		}
	}
	return []a11yState{
		{name: "login", path: "/login"},
		{name: "sign-up", path: "/signup"},
		{name: "forgot password", path: "/password/forgot"},
		{name: "API accounts", as: "owner@acme.test", path: "/accounts"},
		{name: "create account dialog", as: "owner@acme.test", path: "/accounts", open: dialog("Create New API Account")},
		{name: "keys & tokens dialog", as: "owner@acme.test", path: "/accounts", open: dialog("Keys & Tokens")},
		{name: "API account", as: "owner@acme.test", path: account},
		{name: "rename account dialog", as: "owner@acme.test", path: account, open: dialog("Rename")},
		{name: "delete account dialog", as: "owner@acme.test", path: account, open: dialog("Delete")},
		{name: "developer keys", as: "owner@acme.test", path: account + "/keys"},
		{name: "generate token dialog", as: "owner@acme.test", path: account + "/keys", open: func(b *browser) {
			b.clickIn(testSection, "Generate Token")
			b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
		}},
		{name: "request live token dialog", as: "owner@acme.test", path: account + "/keys", open: func(b *browser) {
			b.clickIn(liveSection, "Request Live Token")
			b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
		}},
		{name: "manage tokens dialog", as: "owner@acme.test", path: account + "/keys", open: func(b *browser) {
			b.clickIn(testSection, "Manage Your Tokens")
			b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
		}},
		{name: "roll dialog", as: "owner@acme.test", path: account + "/keys", open: func(b *browser) {
			b.clickIn(testSection, "Manage Your Tokens")
			b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
			b.clickIn(openDialog, "Roll")
			b.see("Rolling creates a new key")
		}},
		{name: "registered auths dialog", as: "owner@acme.test", path: account, open: dialog("View Registered Auths")},
		{name: "register auth dialog", as: "owner@acme.test", path: account, open: func(b *browser) {
			b.clickAria("Register a new auth for Default")
			b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
		}},
		{name: "registered auths", as: "owner@acme.test", path: account + "/auths"},
		{name: "shipments", as: "owner@acme.test", path: account + "/shipments"},
		{name: "shipment", as: "owner@acme.test", path: fmt.Sprintf("%s/shipments/%d", account, shipment)},
		{name: "API secrets", as: "owner@acme.test", path: "/secrets"},
		{name: "revoke key dialog", as: "owner@acme.test", path: "/secrets", open: func(b *browser) {
			b.clickAria("Revoke CI")
			b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
		}},
		{name: "revoke key confirmation page", as: "owner@acme.test", path: fmt.Sprintf("/secrets/%d/revoke", kid)},
		{name: "disable account dialog", as: "owner@acme.test", path: account, open: func(b *browser) {
			b.clickAria("Disable Default")
			b.run(chromedp.WaitVisible(chromedp.Search(openDialog)))
		}},
		{name: "key permissions", as: "owner@acme.test", path: fmt.Sprintf("/secrets/%d", kid)},
		{name: "webhooks", as: "owner@acme.test", path: "/webhooks"},
		{name: "new webhook", as: "owner@acme.test", path: "/webhooks/new"},
		{name: "webhook", as: "owner@acme.test", path: fmt.Sprintf("/webhooks/%d", hook.ID)},
		{name: "edit webhook", as: "owner@acme.test", path: fmt.Sprintf("/webhooks/%d/edit", hook.ID)},
		{name: "delete webhook", as: "owner@acme.test", path: fmt.Sprintf("/webhooks/%d/delete", hook.ID)},
		{name: "confirm identity", as: "owner@acme.test", path: "/sudo?action=team_role&next=/team"},
		{name: "team", as: "owner@acme.test", path: "/team"},
		{name: "audit log", as: "owner@acme.test", path: "/audit"},
		{name: "settings", as: "owner@acme.test", path: "/settings"},
		{name: "sign out everywhere dialog", as: "owner@acme.test", path: "/settings", open: dialog("Sign out of all sessions")},
		{name: "API docs", as: "owner@acme.test", path: "/docs/api"},
		{name: "new token revealed", as: "owner@acme.test", path: account + "/keys", open: func(b *browser) {
			b.clickIn(testSection, "Generate Token")
			b.fill("Token name", "Phone walk")
			b.clickIn(openDialog, "Generate Token")
			b.revealedToken()
		}},
		{name: "signing secret revealed", as: "owner@acme.test", path: "/webhooks/new", open: func(b *browser) {
			b.fill("Endpoint URL", "https://hooks.acme.test/a-rather-long-path/for-a-phone-screen")
			b.click("Add endpoint")
			b.see("Copy it now: it is shown only once.")
		}},
		{name: "authenticator app setup", as: "owner@acme.test", path: "/settings", open: func(b *browser) {
			b.click("Set up an authenticator app")
			b.see("1. Scan the QR code")
		}},
		{name: "developer's API accounts", as: "dev@acme.test", path: "/accounts"},
		{name: "developer keys, as a developer", as: "dev@acme.test", path: account + "/keys"},
		{name: "developer's secrets", as: "dev@acme.test", path: "/secrets"},
		{name: "reviewer's secrets", as: "rita@acme.test", path: "/secrets"},
		{name: "reviewer's API account", as: "rita@acme.test", path: account},
		{name: "request queue", as: "staff@keyport.test", path: "/admin/requests"},
		{name: "request", as: "staff@keyport.test", path: fmt.Sprintf("/admin/requests/%d", request)},
		{name: "approve request dialog", as: "staff@keyport.test", path: fmt.Sprintf("/admin/requests/%d", request), open: dialog("Approve")},
		{name: "disable merchant confirmation page", as: "staff@keyport.test", path: fmt.Sprintf("/admin/merchants/%d/disable", res.Merchant.ID)},
		{name: "merchants", as: "staff@keyport.test", path: "/admin/merchants"},
		{name: "merchant users", as: "staff@keyport.test", path: fmt.Sprintf("/admin/merchants/%d/users", res.Merchant.ID)},
		{name: "support secrets", as: "staff@keyport.test", path: fmt.Sprintf("/admin/merchants/%d/secrets", res.Merchant.ID)},
		{name: "platform settings", as: "staff@keyport.test", path: "/admin/settings"},
		{name: "outbox", as: "staff@keyport.test", path: "/admin/outbox"},
		{name: "find a key", as: "staff@keyport.test", path: "/admin/keys?q=sk_test_"},
	}
}

// walk opens each state in turn, signing in as its role, and calls check on it.
func (b *browser) walk(states []a11yState, check func(st a11yState)) {
	b.t.Helper()
	signedIn := ""
	for _, st := range states {
		if st.as != signedIn {
			if signedIn != "" {
				b.open("/login")
				b.logOut()
				b.seeHeading("Log in to Keyport")
			}
			if st.as != "" {
				b.open("/login")
				b.login(st.as, testPassword)
				b.waitJS(`location.pathname !== "/login"`, "the sign-in to land")
				b.settled()
			}
			signedIn = st.as
		}
		b.open(st.path)
		if st.open != nil {
			st.open(b)
		}
		check(st)
	}
}

// TestBrowserEveryPageAndDialogPassesAxe walks every page and dialog of the
// portal, as each role sees it, at 1280 and 375 pixels wide, and fails on any
// serious or critical axe-core violation.
func TestBrowserEveryPageAndDialogPassesAxe(t *testing.T) {
	script := axeScript(t)
	t.Parallel()
	var failures []string
	for _, width := range []int64{1280, 375} {
		app := newTestApp(t)
		states := everyPageAndDialog(t, app)
		b := newBrowser(t, app)
		b.run(chromedp.EmulateViewport(width, 800))
		b.walk(states, func(st a11yState) {
			for _, v := range b.axeCheck(script) {
				failures = append(failures, fmt.Sprintf("%d px, %s (%s): %s %s on %s", width, st.name, st.path, v.Impact, v.ID,
					strings.Join(v.Targets, " | ")))
			}
		})
	}
	if len(failures) > 0 {
		t.Errorf("%d serious or critical accessibility violations:\n%s", len(failures), strings.Join(failures, "\n"))
	}
}
