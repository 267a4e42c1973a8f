package web

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport"
)

// TestBrowserKeyTablesFitALaptopScreen checks that at 1280 px the tables
// listing keys keep every column, the row actions included, on the screen
// when a publishable key (a long value) is among them, for the Owner, the
// Reviewer and the API team's support view; the full publishable value is
// still one Copy away.
func TestBrowserKeyTablesFitALaptopScreen(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	_, res := app.merchant("Acme Parcels", "owner@acme.test")
	app.member(res, "rita@acme.test", keyport.RoleReviewer)
	app.createAdmin("staff@keyport.test")
	app.newKey(res, keyport.NewKey{Name: "Checkout server with a rather long description"})
	publishable := app.newKey(res, keyport.NewKey{Name: "Checkout widget", Type: keyport.KeyPublishable})
	pages := []struct{ as, path, action string }{
		{as: "owner@acme.test", path: "/secrets", action: "Revoke Checkout widget"},
		{as: "rita@acme.test", path: "/secrets", action: "Permissions of Checkout widget"},
		{as: "staff@keyport.test", path: fmt.Sprintf("/admin/merchants/%d/secrets", res.Merchant.ID), action: "Revoke Checkout widget with a reason"},
		{as: "owner@acme.test", path: fmt.Sprintf("/accounts/%d/keys", res.Account.ID)},
	}
	b := newBrowser(t, app)
	b.run(chromedp.EmulateViewport(1280, 800))
	signedIn := ""
	for _, p := range pages {
		if p.as != signedIn {
			b.signInAs(signedIn, p.as)
			signedIn = p.as
		}
		b.open(p.path)
		b.settled()
		wide := b.eval(`Array.from(document.querySelectorAll(".table-wrap")).filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.scrollWidth + ">" + w.clientWidth).join(",")`)
		if wide != "" {
			t.Errorf("%s as %s: a table is wider than its box (%s)", p.path, p.as, wide)
		}
		if p.action != "" {
			seen := b.eval(fmt.Sprintf(`(() => {
				const a = document.querySelector('[aria-label=%q]');
				if (!a) return "missing";
				const r = a.getBoundingClientRect(), box = a.closest(".table-wrap").getBoundingClientRect();
				return r.right <= Math.min(box.right, innerWidth) ? "visible" : "cut off at x=" + Math.round(r.right);
			})()`, p.action))
			if seen != "visible" {
				t.Errorf("%s as %s: %q is %s", p.path, p.as, p.action, seen)
			}
		}
		copied := b.eval(`(document.querySelector('[aria-label="Copy publishable key Checkout widget"]') || {}).dataset.copy || ""`)
		if copied != publishable {
			t.Errorf("%s as %s: the Copy button copies %q, want the whole publishable key", p.path, p.as, copied)
		}
	}
}
