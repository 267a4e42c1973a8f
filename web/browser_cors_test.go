package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"keyport"
)

// shopPage is a merchant's checkout page on another origin: it calls the API
// with a key from the browser and writes what each call answered, or that the
// browser blocked it.
const shopPage = `<!doctype html><html><head><title>Shop</title></head><body>
<p id="couriers">…</p><p id="rates">…</p><p id="secret">…</p><p id="other-site">…</p><p id="done"></p>
<script>
const api = %s, publishable = %s, secret = %s, shopOnly = %s, rate = %s;
async function call(key, method, path, body) {
  try {
    const r = await fetch(api + path, {method: method, body: body,
      headers: {"Authorization": "Bearer " + key, "Content-Type": "application/json", "Idempotency-Key": "q-" + Math.random()}});
    const j = await r.json();
    return r.status + " " + (j.data ? j.data.length + " items" : j.error);
  } catch (e) {
    return "blocked";
  }
}
(async function () {
  document.getElementById("couriers").textContent = await call(publishable, "GET", "/v1/couriers");
  document.getElementById("rates").textContent = await call(publishable, "POST", "/v1/rates", rate);
  document.getElementById("secret").textContent = await call(secret, "GET", "/v1/couriers");
  document.getElementById("other-site").textContent = await call(shopOnly, "GET", "/v1/couriers");
  document.getElementById("done").textContent = "done";
})();
</script></body></html>`

// TestBrowserOnAnotherOriginUsesAPublishableKey loads a page from a second
// server (another origin) that calls /v1/couriers and /v1/rates with a
// publishable key: the browser's CORS checks let it read both answers, and
// block the same call made with a secret key or with a publishable key that
// lists other origins.
func TestBrowserOnAnotherOriginUsesAPublishableKey(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	publishable := app.newKey(m.res, keyport.NewKey{Name: "Checkout", Type: keyport.KeyPublishable, Access: keyport.AccessRestricted,
		Permissions: keyport.PermissionCatalog.Public()})
	shopOnly := app.newKey(m.res, keyport.NewKey{Name: "Elsewhere", Type: keyport.KeyPublishable, Access: keyport.AccessRestricted,
		Permissions: keyport.PermissionCatalog.Public(), AllowedOrigins: []string{"https://shop.example"}})
	b := newBrowser(t, app)
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, shopPage, strconv.Quote(b.base), strconv.Quote(publishable), strconv.Quote(m.key), strconv.Quote(shopOnly),
			strconv.Quote(rateBody))
	}))
	t.Cleanup(shop.Close)
	if shop.URL == b.base {
		t.Fatal("the shop and the API share an origin")
	}
	b.run(chromedp.Navigate(shop.URL + "/checkout"))
	b.waitJS(`document.getElementById("done").textContent === "done"`, "the shop page's calls")
	text := func(id string) string { return b.eval(`document.getElementById("` + id + `").textContent`) }
	if got := text("couriers"); got != "200 8 items" {
		t.Errorf("couriers with the publishable key: %q", got)
	}
	if got := text("rates"); !strings.HasPrefix(got, "200 ") || got == "200 0 items" {
		t.Errorf("rates with the publishable key: %q", got)
	}
	if got := text("secret"); got != "blocked" {
		t.Errorf("couriers with a secret key: %q, want the browser to block it", got)
	}
	if got := text("other-site"); got != "blocked" {
		t.Errorf("couriers with a key for another site: %q, want the browser to block it", got)
	}
	b.mu.Lock()
	kept := b.issues[:0]
	for _, issue := range b.issues {
		if !strings.Contains(issue, "CORS policy") {
			kept = append(kept, issue)
		}
	}
	b.issues = kept
	b.mu.Unlock()
}
