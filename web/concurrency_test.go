package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"keyport"
)

// raceAccount is an API account of the concurrency test, with the signed-in
// sessions of its merchant's users.
type raceAccount struct {
	id       int64
	merchant int64
	sessions []*client
}

func (a *raceAccount) path() string { return fmt.Sprintf("/accounts/%d/keys", a.id) }

// raceKey is a key the concurrency test knows the plaintext of.
type raceKey struct {
	id      int64
	account *raceAccount
	plain   string
	// doomed is set before a request that may end the key (revoke, roll with no grace) is sent.
	doomed atomic.Bool
	// dead is set once such a request has answered: from then on the API must refuse the key.
	dead atomic.Bool
}

// raceKeys is the shared list of keys created so far.
type raceKeys struct {
	mu   sync.Mutex
	list []*raceKey
}

func (r *raceKeys) add(k *raceKey) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, k)
}

// pick returns a random key, of merchant when it is not 0, mostly one still
// in use; nil when there is none.
func (r *raceKeys) pick(rng *rand.Rand, merchant int64) *raceKey {
	r.mu.Lock()
	defer r.mu.Unlock()
	anyKey := rng.IntN(4) == 0
	var from []*raceKey
	for _, k := range r.list {
		if (merchant == 0 || k.account.merchant == merchant) && (anyKey || !k.doomed.Load()) {
			from = append(from, k)
		}
	}
	if len(from) == 0 {
		return nil
	}
	return from[rng.IntN(len(from))]
}

// raceStats counts what the goroutines did and what went wrong.
type raceStats struct {
	generated, capRefused, revoked, revokeConflicts, rolled, rollConflicts atomic.Int64
	pages, apiOK, apiRefused, shipments                                    atomic.Int64

	mu        sync.Mutex
	failures  []string
	shipIDs   []int64
	serverErr int
}

func (s *raceStats) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, fmt.Sprintf(format, args...))
}

func (s *raceStats) check(op string, res response, allowed ...int) bool {
	if res.Code >= 500 {
		s.mu.Lock()
		s.serverErr++
		s.mu.Unlock()
	}
	for _, code := range allowed {
		if res.Code == code {
			return true
		}
	}
	body := res.Body
	if len(body) > 300 {
		body = body[:300]
	}
	s.fail("%s: status %d %s", op, res.Code, body)
	return false
}

// cloneClient returns a client of its own on the same session, so that each
// goroutine keeps its own cookie jar and CSRF token.
func cloneClient(c *client) *client {
	jar, _ := cookiejar.New(nil)
	jar.SetCookies(testBase, c.jar.Cookies(testBase))
	return &client{app: c.app, jar: jar, csrf: c.csrf}
}

// keyIDByPlaintext finds the id of a key the portal has just revealed.
func (a *testApp) keyIDByPlaintext(plain string) (int64, error) {
	parsed, err := keyport.ParseKey(plain)
	if err != nil {
		return 0, err
	}
	hash := parsed.Hash()
	var id int64
	err = a.db.SQL().QueryRow(`SELECT id FROM api_keys WHERE hash = $1`, hash[:]).Scan(&id)
	return id, err
}

const activeSecretsByAccount = `SELECT account_id, mode, count(*) FROM api_keys
	WHERE type = 'secret' AND revoked_at IS NULL AND rolled_at IS NULL AND (expires_at IS NULL OR expires_at > $1)
	GROUP BY account_id, mode`

// maxActiveSecrets returns the largest number of active secret keys of one account and mode.
func (a *testApp) maxActiveSecrets() (int, error) {
	rows, err := a.db.SQL().Query(activeSecretsByAccount, a.clock().Unix())
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	most := 0
	for rows.Next() {
		var account int64
		var mode string
		var n int
		if err := rows.Scan(&account, &mode, &n); err != nil {
			return 0, err
		}
		most = max(most, n)
	}
	return most, rows.Err()
}

func TestConcurrentKeyOperationsKeepTheCapAndTheAuditTrail(t *testing.T) {
	t.Parallel()
	const (
		goroutines = 100
		opsEach    = 16
		tokenCap   = 2
	)
	app := newTestApp(t)
	ctx := context.Background()
	if got, err := app.db.TokenCap(ctx); err != nil || got != tokenCap {
		t.Fatalf("token cap %d (%v), want the default %d", got, err, tokenCap)
	}

	keys := &raceKeys{}
	var accounts []*raceAccount
	for _, name := range []string{"Acme", "Globex"} {
		domain := strings.ToLower(name) + ".test"
		owner, res := app.merchant(name, "owner@"+domain)
		sessions := []*client{owner,
			app.member(res, "dev1@"+domain, keyport.RoleDeveloper),
			app.member(res, "dev2@"+domain, keyport.RoleDeveloper)}
		first := &raceAccount{id: res.Account.ID, merchant: res.Merchant.ID, sessions: sessions}
		second, err := app.db.CreateAccount(ctx, keyport.Actor{UserID: res.Owner.ID, Label: res.Owner.Email}, res.Merchant.ID,
			keyport.NewAccount{Name: "Warehouse"})
		if err != nil {
			t.Fatal(err)
		}
		other := &raceAccount{id: second.Account.ID, merchant: res.Merchant.ID, sessions: sessions}
		for _, a := range []*raceAccount{first, other} {
			r := owner.htmxPost(fmt.Sprintf("/accounts/%d/auths", a.id), goodDPD(name+" Ltd"))
			wantStatus(t, r, http.StatusOK)
		}
		keys.add(&raceKey{id: second.Secret.Key.ID, account: other, plain: second.Secret.Plaintext})
		accounts = append(accounts, first, other)
	}
	initialKeys := app.count(`SELECT count(*) FROM api_keys`)

	var stats raceStats
	var apiCalls atomic.Int64
	done := make(chan struct{})
	var background sync.WaitGroup

	// The usage recorder is flushed as the server does, competing for the write lock.
	background.Add(1)
	go func() {
		defer background.Done()
		for {
			select {
			case <-done:
				return
			case <-time.After(10 * time.Millisecond):
			}
			if err := app.srv.Usage().Flush(ctx); err != nil {
				stats.fail("flush usage: %v", err)
			}
		}
	}()
	// The cap is watched while the goroutines run, not only at the end.
	var maxSeen, capChecks atomic.Int64
	background.Add(1)
	go func() {
		defer background.Done()
		for {
			most, err := app.maxActiveSecrets()
			if err != nil {
				stats.fail("cap check: %v", err)
				return
			}
			capChecks.Add(1)
			if int64(most) > maxSeen.Load() {
				maxSeen.Store(int64(most))
			}
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
		}
	}()

	apiCall := func(rng *rand.Rand, k *raceKey) {
		var method, path, body string
		okCode := http.StatusOK
		switch rng.IntN(3) {
		case 0:
			method, path = http.MethodGet, "/v1/couriers"
		case 1:
			method, path = http.MethodGet, "/v1/shipments?limit=5"
		default:
			method, path, body, okCode = http.MethodPost, "/v1/shipments", shipmentBody, http.StatusCreated
		}
		deadBefore := k.dead.Load()
		r := app.api(method, path, k.plain, body)
		op := fmt.Sprintf("%s %s with key %d", method, path, k.id)
		switch {
		case r.Code == http.StatusUnauthorized:
			stats.apiRefused.Add(1)
			if !k.doomed.Load() {
				stats.fail("%s: refused a key never revoked nor rolled", op)
			}
		case deadBefore:
			stats.fail("%s: status %d for a key revoked before the call started", op, r.Code)
		case stats.check(op, r, okCode):
			stats.apiOK.Add(1)
			apiCalls.Add(1)
			if okCode == http.StatusCreated {
				var sh struct{ ID int64 }
				if err := json.Unmarshal([]byte(r.Body), &sh); err != nil || sh.ID == 0 {
					stats.fail("%s: no shipment id in %s", op, r.Body)
					return
				}
				stats.shipments.Add(1)
				stats.mu.Lock()
				stats.shipIDs = append(stats.shipIDs, sh.ID)
				stats.mu.Unlock()
			}
		}
	}

	start := time.Now()
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		home := accounts[(g%2)*2]
		c := cloneClient(home.sessions[(g/2)%len(home.sessions)])
		rng := rand.New(rand.NewPCG(20240611, uint64(g)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < opsEach; i++ {
				a := accounts[(g%2)*2+rng.IntN(2)]
				switch n := rng.IntN(100); {
				case n < 15:
					r := c.htmxPost(a.path(), url.Values{"name": {fmt.Sprintf("G%d-%d", g, i)}, "expiry": {"never"}})
					if r.Code == http.StatusUnprocessableEntity && strings.Contains(r.Body, fmt.Sprintf("Max of %d test tokens reached.", tokenCap)) {
						stats.capRefused.Add(1)
						continue
					}
					if !stats.check("generate", r, http.StatusOK) {
						continue
					}
					plain := plaintextKey.FindString(r.Body)
					id, err := app.keyIDByPlaintext(plain)
					if err != nil {
						stats.fail("generated key %q not found: %v", plain, err)
						continue
					}
					stats.generated.Add(1)
					keys.add(&raceKey{id: id, account: a, plain: plain})
				case n < 25:
					k := keys.pick(rng, a.merchant)
					if k == nil {
						continue
					}
					k.doomed.Store(true)
					r := c.htmxPost(fmt.Sprintf("%s/%d/revoke", k.account.path(), k.id), nil)
					switch {
					case r.Code == http.StatusConflict:
						stats.revokeConflicts.Add(1)
					case stats.check("revoke", r, http.StatusOK):
						stats.revoked.Add(1)
						k.dead.Store(true)
					}
				case n < 35:
					k := keys.pick(rng, a.merchant)
					if k == nil {
						continue
					}
					grace := "1h"
					if rng.IntN(2) == 0 {
						grace = "now"
						k.doomed.Store(true)
					}
					r := c.htmxPost(fmt.Sprintf("%s/%d/roll", k.account.path(), k.id), url.Values{"grace": {grace}})
					if r.Code == http.StatusConflict {
						stats.rollConflicts.Add(1)
						continue
					}
					if !stats.check("roll", r, http.StatusOK) {
						continue
					}
					stats.rolled.Add(1)
					if grace == "now" {
						k.dead.Store(true)
					}
					plain := plaintextKey.FindString(r.Body)
					id, err := app.keyIDByPlaintext(plain)
					if err != nil {
						stats.fail("rolled key %q not found: %v", plain, err)
						continue
					}
					keys.add(&raceKey{id: id, account: k.account, plain: plain})
				case n < 45:
					page := a.path()
					if rng.IntN(2) == 0 {
						page = "/secrets"
					}
					if stats.check("GET "+page, c.get(page), http.StatusOK) {
						stats.pages.Add(1)
					}
				default:
					if k := keys.pick(rng, 0); k != nil {
						apiCall(rng, k)
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(done)
	background.Wait()
	if err := app.srv.Usage().Flush(ctx); err != nil {
		t.Fatal(err)
	}

	for i, f := range stats.failures {
		if i == 20 {
			t.Errorf("... and %d more failures", len(stats.failures)-i)
			break
		}
		t.Error(f)
	}
	if stats.serverErr > 0 {
		t.Errorf("%d responses were server errors", stats.serverErr)
	}
	logs := app.logs.String()
	for _, bad := range []string{"SQLITE_BUSY", "database is locked", "status=500"} {
		if strings.Contains(logs, bad) {
			t.Errorf("the server log has %q", bad)
		}
	}

	if most := maxSeen.Load(); most > tokenCap {
		t.Errorf("%d active secret keys of one account and mode seen during the run, cap %d", most, tokenCap)
	}
	if most, err := app.maxActiveSecrets(); err != nil || most > tokenCap {
		t.Errorf("%d active secret keys of one account and mode at the end (%v), cap %d", most, err, tokenCap)
	}

	missing := []struct{ what, query string }{
		{"keys without key.created", `SELECT count(*) FROM api_keys WHERE id NOT IN (
			SELECT object_id FROM audit_events WHERE action = 'key.created' AND object_type = 'api_key' AND object_id IS NOT NULL)`},
		{"revoked keys without key.revoked", `SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL AND id NOT IN (
			SELECT object_id FROM audit_events WHERE action = 'key.revoked' AND object_type = 'api_key' AND object_id IS NOT NULL)`},
		{"rolled keys without key.rolled", `SELECT count(*) FROM api_keys WHERE rolled_at IS NOT NULL AND id NOT IN (
			SELECT object_id FROM audit_events WHERE action = 'key.rolled' AND object_type = 'api_key' AND object_id IS NOT NULL)`},
		{"API shipments without shipment.created", `SELECT count(*) FROM shipments WHERE key_id IS NOT NULL AND id NOT IN (
			SELECT object_id FROM audit_events WHERE action = 'shipment.created' AND object_type = 'shipment' AND object_id IS NOT NULL)`},
	}
	for _, m := range missing {
		if n := app.count(m.query); n != 0 {
			t.Errorf("%d %s", n, m.what)
		}
	}
	counts := []struct {
		what  string
		query string
		want  int64
	}{
		{"keys", `SELECT count(*) FROM api_keys`, int64(initialKeys) + stats.generated.Load() + stats.rolled.Load()},
		{"key.created events", `SELECT count(*) FROM audit_events WHERE action = 'key.created'`,
			int64(initialKeys) + stats.generated.Load() + stats.rolled.Load()},
		{"revoked keys", `SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL`, stats.revoked.Load()},
		{"key.revoked events", `SELECT count(*) FROM audit_events WHERE action = 'key.revoked'`, stats.revoked.Load()},
		{"rolled keys", `SELECT count(*) FROM api_keys WHERE rolled_at IS NOT NULL`, stats.rolled.Load()},
		{"key.rolled events", `SELECT count(*) FROM audit_events WHERE action = 'key.rolled'`, stats.rolled.Load()},
		{"API shipments", `SELECT count(*) FROM shipments WHERE key_id IS NOT NULL`, stats.shipments.Load()},
		{"shipment.created events", `SELECT count(*) FROM audit_events WHERE action = 'shipment.created'`, stats.shipments.Load()},
		{"recorded key uses", `SELECT COALESCE(sum(use_count), 0) FROM api_keys`, apiCalls.Load()},
	}
	for _, c := range counts {
		if n := app.count(c.query); int64(n) != c.want {
			t.Errorf("%s: %d, want %d", c.what, n, c.want)
		}
	}
	for _, id := range stats.shipIDs {
		if n := app.count(`SELECT count(*) FROM shipments WHERE id = $1`, id); n != 1 {
			t.Errorf("shipment %d answered 201 but is not stored", id)
		}
	}

	t.Logf("%d goroutines, %d operations in %v: %d tokens generated, %d refused at the cap, %d revoked (+%d already gone), "+
		"%d rolled (+%d refused), %d pages, %d API calls accepted and %d refused, %d shipments; %d cap checks, most active %d",
		goroutines, goroutines*opsEach, elapsed.Round(time.Millisecond), stats.generated.Load(), stats.capRefused.Load(),
		stats.revoked.Load(), stats.revokeConflicts.Load(), stats.rolled.Load(), stats.rollConflicts.Load(), stats.pages.Load(),
		stats.apiOK.Load(), stats.apiRefused.Load(), stats.shipments.Load(), capChecks.Load(), maxSeen.Load())
}
