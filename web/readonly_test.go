package web

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"keyport"
	"keyport/store"
)

// queueFlash puts a flash in the client's cookies as a redirect after a form would.
func (c *client) queueFlash(message string) {
	c.app.t.Helper()
	value, err := c.app.srv.flashCodec.Encode(c.app.srv.flashCookie, []string{"success|" + message})
	if err != nil {
		c.app.t.Fatal(err)
	}
	c.jar.SetCookies(testBase, []*http.Cookie{{Name: c.app.srv.flashCookie, Value: value, Path: "/"}})
}

// TestReadingNeverWrites sends every route of the router whose method does not
// write (GET, and HEAD, OPTIONS and TRACE where the router lists them), plain
// and as htmx, as every role, with merchant A's request notices pending and a
// flash queued, plus an unknown page, and expects the store's write counter
// not to move. No route is excluded: none must write by nature. The clock
// moves past a minute before every route, so that any sliding-expiry write of
// a session would happen, and every signed-in role is still signed in at the end.
func TestReadingNeverWrites(t *testing.T) {
	app := newTestApp(t)
	seed := seedAuthzMatrix(t, app)
	table := authzMatrix(seed)
	ctx := context.Background()
	key, err := app.db.CreateKey(ctx, keyport.SystemActor, keyport.NewKey{AccountID: seed.account, MerchantID: seed.merchant,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "Read-only walk", Access: keyport.AccessFull})
	if err != nil {
		t.Fatal(err)
	}
	notices := `SELECT count(*) FROM live_key_requests WHERE merchant_id = $1 AND notify_merchant = TRUE`
	if n := app.count(notices, seed.merchant); n != 2 {
		t.Fatalf("the seed has %d request notices, want the approved and the asked one", n)
	}

	routes := app.srv.Echo().Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	type target struct{ method, key, uri string }
	var targets []target
	for _, r := range routes {
		if store.MethodWrites(r.Method) {
			continue
		}
		key := r.Method + " " + r.Path
		row, ok := table[key]
		if !ok && r.Method == http.MethodHead {
			// HEAD is registered beside every GET endpoint and answers as it does.
			row, ok = table[http.MethodGet+" "+r.Path]
		}
		if !ok {
			t.Fatalf("route %s has no row in authzMatrix", key)
		}
		params := seed.params
		if strings.HasPrefix(r.Path, "/v1/shipments/:id") {
			params = map[string]string{":id": seed.params[":sid"]}
		}
		targets = append(targets, target{r.Method, key, row.target(t, r.Path, params)})
	}
	targets = append(targets, target{http.MethodGet, "an unknown page", "/nowhere"})
	if len(targets) < 40 {
		t.Fatalf("only %d reading routes found: the route walk is broken", len(targets))
	}

	const flashText = "Queued before the walk"
	flashes := map[matrixRole]int{}
	requests := 0
	for _, tg := range targets {
		app.advance(61 * time.Second)
		for role := matrixRole(0); role < matrixRoles; role++ {
			c := seed.clients[role]
			for _, htmx := range []bool{false, true} {
				c.queueFlash(flashText)
				req, err := http.NewRequest(tg.method, "http://example.test"+tg.uri, nil)
				if err != nil {
					t.Fatal(err)
				}
				if htmx {
					req.Header.Set("HX-Request", "true")
				}
				if strings.HasPrefix(tg.uri, "/v1/") && role == ownerOfA {
					req.Header.Set("Authorization", "Bearer "+key.Plaintext)
				}
				before := app.db.Writes()
				res := c.do(req)
				requests++
				if res.Code >= 500 {
					t.Fatalf("%s as %s (htmx %v): status %d\n%s", tg.key, role, htmx, res.Code, res.Body)
				}
				if n := app.db.Writes() - before; n != 0 {
					t.Errorf("%s %s as %s (htmx %v) wrote %d times (status %d)", tg.method, tg.uri, role, htmx, n, res.Code)
				}
				if strings.Contains(res.Body, flashText) {
					flashes[role]++
				}
			}
		}
	}
	for _, role := range []matrixRole{ownerOfA, developerOfA, reviewerOfA, ownerOfB, platformAdmin} {
		wantStatus(t, seed.clients[role].get("/settings"), http.StatusOK)
		if flashes[role] == 0 {
			t.Errorf("no page showed %s the queued flash: the walk did not reach the flash code", role)
		}
	}
	if n := app.count(notices, seed.merchant); n != 2 {
		t.Fatalf("%d request notices left after the walk, want 2", n)
	}
	owner := seed.clients[ownerOfA]
	for range 2 {
		wantContains(t, owner.get("/accounts").Body, "Your live token request was approved", "The API team has a question", ">Dismiss<")
	}
	t.Logf("%d reading routes, %d requests, %s", len(targets), requests, fmt.Sprint(flashes))
}
