package web

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"keyport"
	"keyport/views"
)

// BenchmarkKeysTab renders the Developer keys tab of an account with 2 active
// keys and a growing number of revoked ones; revoked keys are paged, so the
// cost should not follow their number.
func BenchmarkKeysTab(b *testing.B) {
	for _, revoked := range []int{10, views.RevokedPerPage, 5000} {
		b.Run(fmt.Sprintf("revoked=%d", revoked), func(b *testing.B) {
			app := newTestApp(b)
			res := app.signupMerchant("Acme", "owner@acme.test")
			seedRevokedKeys(b, app, res.Merchant.ID, res.Account.ID, revoked)
			for _, name := range []string{"one", "two"} {
				if _, err := app.db.CreateKey(context.Background(), keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID,
					MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: name}); err != nil {
					b.Fatal(err)
				}
			}
			c := app.client()
			c.login("owner@acme.test")
			path := keysPath(res)
			if r := c.get(path); r.Code != http.StatusOK {
				b.Fatalf("status %d", r.Code)
			}
			req := httptest.NewRequest(http.MethodGet, "http://example.test"+path, nil)
			for _, ck := range c.jar.Cookies(req.URL) {
				req.AddCookie(ck)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rec := httptest.NewRecorder()
				app.srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// seedRevokedKeys inserts n revoked test keys in one transaction, straight into the table.
func seedRevokedKeys(b *testing.B, app *testApp, merchantID, accountID int64, n int) {
	b.Helper()
	tx, err := app.db.SQL().Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	now := app.clock().Unix()
	for i := 0; i < n; i++ {
		hash := make([]byte, 32)
		_, _ = rand.Read(hash)
		if _, err := tx.Exec(`INSERT INTO api_keys (account_id, merchant_id, type, mode, name, hash, prefix, first4, last4, access,
				permissions, created_by_label, created_at, revoked_at, revoked_by_label)
			VALUES ($1, $2, 'secret', 'test', $3, $4, 'sk_test_', 'abcd', 'wxyz', 'full', '', 'system', $5, $6, 'system')`,
			accountID, merchantID, fmt.Sprintf("old-%d", i), hash, now-int64(n-i), now-int64(n-i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAccountsPage renders the API Accounts page of a merchant with 20
// accounts, each with two keys, a registered auth and a growing number of
// shipments, which the page counts.
func BenchmarkAccountsPage(b *testing.B) {
	for _, shipments := range []int{0, 100, 5000} {
		b.Run(fmt.Sprintf("shipments-per-account=%d", shipments), func(b *testing.B) {
			app := newTestApp(b)
			c, res := app.merchant("Acme", "owner@acme.test")
			ctx := context.Background()
			owner := keyport.UserActor(&res.Owner, "")
			courier, err := app.db.Courier(ctx, "dpd")
			if err != nil {
				b.Fatal(err)
			}
			for i := 0; i < 20; i++ {
				a, err := app.db.CreateAccount(ctx, owner, res.Merchant.ID, keyport.NewAccount{Name: fmt.Sprintf("Account %d", i)})
				if err != nil {
					b.Fatal(err)
				}
				if _, err := app.db.CreateKey(ctx, owner, keyport.NewKey{AccountID: a.Account.ID, MerchantID: res.Merchant.ID,
					Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "second"}); err != nil {
					b.Fatal(err)
				}
				in := keyport.NewAuth{Courier: "dpd", Company: "Acme", Testing: "yes",
					Values: map[string]string{"username": "u", "password": "p", "account_number": "1"}}
				if _, err := app.db.RegisterAuth(ctx, owner, res.Merchant.ID, a.Account.ID, courier, in); err != nil {
					b.Fatal(err)
				}
				seedShipments(b, app, res.Merchant.ID, a.Account.ID, shipments)
			}
			req := httptest.NewRequest(http.MethodGet, "http://example.test/accounts", nil)
			for _, ck := range c.jar.Cookies(req.URL) {
				req.AddCookie(ck)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				rec := httptest.NewRecorder()
				app.srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// seedShipments inserts n test shipments in one transaction, straight into the table.
func seedShipments(b *testing.B, app *testApp, merchantID, accountID int64, n int) {
	b.Helper()
	tx, err := app.db.SQL().Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for i := 0; i < n; i++ {
		if _, err := tx.Exec(`INSERT INTO shipments (account_id, merchant_id, mode, courier, service_code, status, tracking_number,
				label_ref, amount_minor, currency, from_postcode, from_country, to_postcode, to_country, weight_grams, created_at, updated_at)
			VALUES ($1, $2, 'test', 'dpd', 'DPD_NEXT_DAY', 'created', $3, 'L', 675, 'GBP', 'M1', 'GB', 'SW1', 'GB', 900, 1, 1)`,
			accountID, merchantID, fmt.Sprintf("KP%d-%d", accountID, i)); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkAPIRequest compares a verified /v1 call with the unauthenticated
// health check through the whole app (middleware included, network excluded).
func BenchmarkAPIRequest(b *testing.B) {
	app := newTestApp(b)
	res := app.signupMerchant("Acme", "owner@acme.test")
	key := app.newKey(res, keyport.NewKey{})
	cases := []struct {
		name, path string
		auth       bool
	}{
		{"healthz", "/healthz", false},
		{"v1 couriers", "/v1/couriers", true},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				req := httptest.NewRequest(http.MethodGet, "http://example.test"+c.path, nil)
				if c.auth {
					req.Header.Set("Authorization", "Bearer "+key)
				}
				rec := httptest.NewRecorder()
				app.srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkAPIWithMetrics is GET /v1/couriers with a cached key, the same
// answer with the Prometheus metrics off and on, side by side: the cost of
// counting and timing the request and its key check.
func BenchmarkAPIWithMetrics(b *testing.B) {
	for _, on := range []bool{false, true} {
		b.Run(fmt.Sprintf("metrics=%v", on), func(b *testing.B) {
			app := newTestApp(b)
			if on {
				app = newMetricsApp(b)
			}
			m := app.apiMerchant("Acme")
			req := httptest.NewRequest(http.MethodGet, "http://example.test/v1/couriers", nil)
			req.Header.Set("Authorization", "Bearer "+m.key)
			req.RemoteAddr = "127.0.0.1:40000"
			b.ReportAllocs()
			for b.Loop() {
				rec := httptest.NewRecorder()
				app.srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("status %d", rec.Code)
				}
			}
		})
	}
}

// BenchmarkWebhookDelivery measures, one event at a time, the time from the
// commit of an event to its arrival at a receiver on loopback: the sender
// is woken by the commit, claims the delivery, signs and posts it. It reports
// the median and the 99th percentile.
func BenchmarkWebhookDelivery(b *testing.B) {
	app := newTestApp(b)
	res := app.signupMerchant("Acme", "owner@acme.test")
	arrived := make(chan time.Time, 1)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
		arrived <- time.Now()
	}))
	b.Cleanup(receiver.Close)
	ctx := context.Background()
	owner := keyport.Actor{UserID: res.Owner.ID, Label: res.Owner.Email}
	hook, _, err := app.db.CreateWebhookEndpoint(ctx, owner, res.Merchant.ID, keyport.WebhookEndpointInput{URL: receiver.URL,
		Events: keyport.WebhookEventTypes, Enabled: true})
	if err != nil {
		b.Fatal(err)
	}
	app.runWebhookSender(time.Second)
	latencies := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if err := app.db.SendTestWebhook(ctx, owner, res.Merchant.ID, hook.ID); err != nil {
			b.Fatal(err)
		}
		latencies = append(latencies, (<-arrived).Sub(start))
	}
	b.StopTimer()
	slices.Sort(latencies)
	b.ReportMetric(float64(latencies[len(latencies)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(latencies[len(latencies)*99/100].Microseconds())/1000, "p99-ms")
}
