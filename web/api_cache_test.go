package web

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"keyport"
)

// wantCached fails the test unless a /v1 call with key succeeds without running SQL.
func (a *testApp) wantCached(t *testing.T, key string) {
	t.Helper()
	before := a.db.Queries()
	wantStatus(t, a.api("GET", "/v1/couriers", key, ""), http.StatusOK)
	if n := a.db.Queries() - before; n != 0 {
		t.Fatalf("verified key ran %d SQL queries, want 0", n)
	}
}

func wantDone(t *testing.T, r response) {
	t.Helper()
	if r.Code >= 400 {
		t.Fatalf("status %d\n%.1500s", r.Code, r.Body)
	}
}

func TestAPIKeyStaysCachedThroughWritesThatCannotChangeIt(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	other := app.apiMerchant("Bolt")
	app.member(m.res, "dev@acme.test", keyport.RoleDeveloper)
	memberID := app.count(`SELECT id FROM users WHERE email = 'dev@acme.test'`)
	wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	app.wantCached(t, m.key)
	steps := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"sign-in", func(t *testing.T) { app.client().login("owner@acme.test") }},
		{"key created in another merchant", func(t *testing.T) { other.owner.generate(other.res, "Another") }},
		{"invitation", func(t *testing.T) {
			wantStatus(t, m.owner.post("/team/invitations", url.Values{"email": {"late@acme.test"}, "role": {"reviewer"}}), http.StatusOK)
		}},
		{"role change", func(t *testing.T) {
			wantStatus(t, m.owner.post(fmt.Sprintf("/team/members/%d/role", memberID), url.Values{"role": {"reviewer"}}), http.StatusSeeOther)
			if n := app.count(`SELECT count(*) FROM users WHERE id = $1 AND role = 'reviewer'`, memberID); n != 1 {
				t.Fatal("role not changed")
			}
		}},
	}
	for _, step := range steps {
		t.Run(step.name, func(t *testing.T) {
			step.run(t)
			app.wantCached(t, m.key)
		})
	}
}

func TestAPIKeyChangesRefuseTheVeryNextRequest(t *testing.T) {
	type env struct {
		app   *testApp
		m     apiMerchant
		keyID int64
	}
	tests := []struct {
		name    string
		change  func(t *testing.T, e env)
		restore func(t *testing.T, e env)
	}{
		{"key removed", func(t *testing.T, e env) {
			wantDone(t, e.m.owner.post(fmt.Sprintf("%s/%d/revoke", keysPath(e.m.res), e.keyID), nil))
		}, nil},
		{"secret revoked on the API secrets page", func(t *testing.T, e env) {
			wantDone(t, e.m.owner.post(fmt.Sprintf("/secrets/%d/revoke", e.keyID), nil))
		}, nil},
		{"leaked key revoked by an admin", func(t *testing.T, e env) {
			admin := e.app.adminClient()
			wantDone(t, admin.post(fmt.Sprintf("/admin/merchants/%d/secrets/%d/revoke", e.m.res.Merchant.ID, e.keyID),
				url.Values{"reason": {"Leaked on a forum"}}))
		}, nil},
		{"roll, stop it now", func(t *testing.T, e env) {
			wantDone(t, e.m.owner.post(fmt.Sprintf("%s/%d/roll", keysPath(e.m.res), e.keyID), url.Values{"grace": {"now"}}))
		}, nil},
		{"account disabled, then enabled", func(t *testing.T, e env) {
			wantDone(t, e.m.owner.post(accountPath(e.m.res)+"/disable", nil))
		}, func(t *testing.T, e env) {
			wantDone(t, e.m.owner.post(accountPath(e.m.res)+"/enable", nil))
		}},
		{"account deleted", func(t *testing.T, e env) {
			wantDone(t, e.m.owner.post(accountPath(e.m.res)+"/delete", url.Values{"confirm_name": {"Default"}}))
		}, nil},
		{"merchant disabled by an admin, then enabled", func(t *testing.T, e env) {
			admin := e.app.adminClient()
			wantDone(t, admin.post(fmt.Sprintf("/admin/merchants/%d/disable", e.m.res.Merchant.ID), nil))
		}, func(t *testing.T, e env) {
			admin := e.app.client()
			admin.login("staff@keyport.test")
			wantDone(t, admin.post(fmt.Sprintf("/admin/merchants/%d/enable", e.m.res.Merchant.ID), nil))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := newTestApp(t)
			m := app.apiMerchant("Acme")
			other := app.apiMerchant("Bolt")
			e := env{app: app, m: m, keyID: app.keyIDs(m.res.Account.ID, "name = 'API test'")[0]}
			for _, key := range []string{m.key, other.key} {
				wantStatus(t, app.api("GET", "/v1/couriers", key, ""), http.StatusOK)
				app.wantCached(t, key)
			}
			tt.change(t, e)
			r := app.api("GET", "/v1/couriers", m.key, "")
			wantStatus(t, r, http.StatusUnauthorized)
			if r.Body != bodyNoToken {
				t.Fatalf("body %s", r.Body)
			}
			app.wantCached(t, other.key)
			if tt.restore != nil {
				tt.restore(t, e)
				wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
				app.wantCached(t, m.key)
			}
		})
	}
}

func TestAPIForgedKeyFloodKeepsVerifiedKeysCached(t *testing.T) {
	if testing.Short() {
		t.Skip("floods the API with forged keys")
	}
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	app.wantCached(t, m.key)
	start := time.Now()
	for i := 0; i < forgedKeyFlood; i++ {
		forged, err := keyport.MintKey(keyport.KeySecret, keyport.ModeTest)
		if err != nil {
			t.Fatal(err)
		}
		r := app.api("GET", "/v1/couriers", forged.String(), "")
		if r.Code != http.StatusUnauthorized || r.Body != bodyNoToken {
			t.Fatalf("forged key %d: %d %s", i, r.Code, r.Body)
		}
		if i%1000 == 0 {
			if _, unknown := app.srv.verifier.CacheSizes(); unknown > keyport.UnknownKeyCacheLimit {
				t.Fatalf("%d unknown keys cached, bound %d", unknown, keyport.UnknownKeyCacheLimit)
			}
		}
	}
	t.Logf("%d forged keys refused in %v", forgedKeyFlood, time.Since(start))
	app.wantCached(t, m.key)
	if known, unknown := app.srv.verifier.CacheSizes(); known != 1 || unknown > keyport.UnknownKeyCacheLimit {
		t.Fatalf("cache sizes: %d known, %d unknown", known, unknown)
	}
}
