package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"keyport"
	"keyport/store/storetest"
)

// metricValue returns the value of the series of family name whose labels
// include want (a counter, a gauge, or a histogram's count), or -1 when the
// registry has no such series.
func (a *testApp) metricValue(name string, want map[string]string) float64 {
	a.t.Helper()
	families, err := a.srv.metrics.registry.Gather()
	if err != nil {
		a.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			if hasLabels(m, want) {
				switch {
				case m.Counter != nil:
					return m.GetCounter().GetValue()
				case m.Gauge != nil:
					return m.GetGauge().GetValue()
				case m.Histogram != nil:
					return float64(m.GetHistogram().GetSampleCount())
				}
			}
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, want map[string]string) bool {
	found := 0
	for _, l := range m.GetLabel() {
		if v, ok := want[l.GetName()]; ok {
			if v != l.GetValue() {
				return false
			}
			found++
		}
	}
	return found == len(want)
}

// scrape reads the metrics as Prometheus does, in its text format.
func (a *testApp) scrape() string {
	a.t.Helper()
	h := a.srv.MetricsHandler()
	if h == nil {
		a.t.Fatal("metrics are off")
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		a.t.Fatalf("scrape: status %d\n%s", rec.Code, rec.Body.String())
	}
	return rec.Body.String()
}

func TestMetricsCountEveryKeyVerificationResult(t *testing.T) {
	app := newMetricsApp(t)
	m := app.apiMerchant("Acme")
	other := app.apiMerchant("Globex")
	ctx := context.Background()
	unknown, _ := keyport.MintKey(keyport.KeySecret, keyport.ModeTest)
	restricted := app.newKey(m.res, keyport.NewKey{Name: "Couriers only", Access: keyport.AccessRestricted, Permissions: []string{"couriers:read"}})
	publishable := app.newKey(m.res, keyport.NewKey{Name: "Checkout", Type: keyport.KeyPublishable})
	shopOnly := app.newKey(m.res, keyport.NewKey{Name: "Shop only", Type: keyport.KeyPublishable, Access: keyport.AccessRestricted,
		Permissions: keyport.PermissionCatalog.Public(), AllowedOrigins: []string{"https://shop.example"}})
	revoked := app.newKey(m.res, keyport.NewKey{Name: "Revoked"})
	revokedID, err := app.keyIDByPlaintext(revoked)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.db.RevokeKey(ctx, keyport.SystemActor, m.res.Merchant.ID, m.res.Account.ID, revokedID, "test"); err != nil {
		t.Fatal(err)
	}
	expiring := app.newKey(m.res, keyport.NewKey{Name: "Short", ExpiresAt: app.clock().Add(time.Minute)})
	if _, err := app.db.SetAccountDisabled(ctx, keyport.SystemActor, other.res.Merchant.ID, other.res.Account.ID, true); err != nil {
		t.Fatal(err)
	}
	limited := app.newKey(m.res, keyport.NewKey{Name: "Limited"})

	cases := []struct {
		result string
		call   func() response
		status int
	}{
		{"ok", func() response { return app.api("GET", "/v1/couriers", m.key, "") }, http.StatusOK},
		{"missing", func() response { return app.callAPI("GET", "/v1/couriers", nil, "") }, http.StatusUnauthorized},
		{"malformed", func() response { return app.api("GET", "/v1/couriers", "sk_test_not-a-key", "") }, http.StatusUnauthorized},
		{"unknown", func() response { return app.api("GET", "/v1/couriers", unknown.String(), "") }, http.StatusUnauthorized},
		{"revoked", func() response { return app.api("GET", "/v1/couriers", revoked, "") }, http.StatusUnauthorized},
		{"disabled", func() response { return app.api("GET", "/v1/couriers", other.key, "") }, http.StatusUnauthorized},
		{"forbidden", func() response { return app.api("GET", "/v1/shipments", restricted, "") }, http.StatusForbidden},
		{"publishable_not_allowed", func() response { return app.api("GET", "/v1/shipments", publishable, "") }, http.StatusForbidden},
		{"origin_not_allowed", func() response {
			rec := app.send("GET", "/v1/couriers", map[string]string{"Authorization": "Bearer " + shopOnly, "Origin": "https://evil.example"})
			return response{Code: rec.Code, Header: rec.Header(), Body: rec.Body.String()}
		}, http.StatusForbidden},
		{"expired", func() response {
			app.advance(2 * time.Minute)
			return app.api("GET", "/v1/couriers", expiring, "")
		}, http.StatusUnauthorized},
		{"rate_limited", func() response {
			app.srv.limiter = keyport.NewRateLimiter(1)
			wantStatus(t, app.api("GET", "/v1/couriers", limited, ""), http.StatusOK)
			return app.api("GET", "/v1/couriers", limited, "")
		}, http.StatusTooManyRequests},
	}
	for _, tc := range cases {
		t.Run(tc.result, func(t *testing.T) {
			before := make(map[string]float64)
			for _, label := range verificationLabels {
				before[label] = max(0, app.metricValue("keyport_api_key_verifications_total", map[string]string{"result": label}))
			}
			wantStatus(t, tc.call(), tc.status)
			for _, label := range verificationLabels {
				want := before[label]
				if label == tc.result {
					want++
				}
				if label == "ok" && tc.result == "rate_limited" {
					want++
				}
				if got := max(0, app.metricValue("keyport_api_key_verifications_total", map[string]string{"result": label})); got != want {
					t.Errorf("result %q counted %v, want %v", label, got, want)
				}
			}
		})
	}
	if got := app.metricValue("keyport_api_requests_total", map[string]string{"method": "GET", "endpoint": "/v1/couriers", "status": "401"}); got != 6 {
		t.Errorf("401 answers of GET /v1/couriers counted %v, want 6", got)
	}
	if got := app.metricValue("keyport_api_requests_total", map[string]string{"method": "GET", "endpoint": "/v1/shipments", "status": "403"}); got != 2 {
		t.Errorf("403 answers of GET /v1/shipments counted %v, want 2", got)
	}
	if got := app.metricValue("keyport_api_key_verification_duration_seconds", nil); got != 11 {
		t.Errorf("verification timings %v, want one per request that presented a key (11)", got)
	}
}

func TestMetricsLabelRoutesNeverRawPaths(t *testing.T) {
	app := newMetricsApp(t)
	m := app.apiMerchant("Acme")
	wantStatus(t, app.api("GET", "/v1/shipments/"+itoa(m.testShip), m.key, ""), http.StatusOK)
	wantStatus(t, app.api("GET", "/v1/shipments/999999", m.key, ""), http.StatusNotFound)
	wantStatus(t, app.api("GET", "/v1/no-such-endpoint-4242", m.key, ""), http.StatusNotFound)
	app.api("DELETE", "/v1/shipments/"+itoa(m.testShip), m.key, "")
	c := m.owner
	wantStatus(t, c.get(keysPath(m.res)), http.StatusOK)
	wantStatus(t, c.get("/no-such-page-4242"), http.StatusNotFound)

	cases := []struct {
		name   string
		labels map[string]string
	}{
		{"keyport_api_requests_total", map[string]string{"method": "GET", "endpoint": "/v1/shipments/{id}", "status": "200"}},
		{"keyport_api_requests_total", map[string]string{"method": "GET", "endpoint": "/v1/shipments/{id}", "status": "404"}},
		{"keyport_api_requests_total", map[string]string{"method": "GET", "endpoint": unmatchedRoute, "status": "404"}},
		{"keyport_api_requests_total", map[string]string{"method": "DELETE", "endpoint": unmatchedRoute, "status": "405"}},
		{"keyport_portal_requests_total", map[string]string{"method": "GET", "route": "/accounts/:id/keys", "status": "200"}},
		{"keyport_portal_requests_total", map[string]string{"method": "GET", "route": unmatchedRoute, "status": "404"}},
		{"keyport_api_request_duration_seconds", map[string]string{"method": "GET", "endpoint": "/v1/shipments/{id}"}},
		{"keyport_portal_request_duration_seconds", map[string]string{"method": "GET", "route": "/accounts/:id/keys"}},
	}
	for _, tc := range cases {
		if got := app.metricValue(tc.name, tc.labels); got < 1 {
			t.Errorf("%s%v = %v, want at least 1", tc.name, tc.labels, got)
		}
	}
	var series strings.Builder
	for line := range strings.Lines(app.scrape()) {
		if name, _, ok := strings.Cut(line, "} "); ok && !strings.HasPrefix(line, "#") {
			series.WriteString(name + "}\n")
		}
	}
	text := series.String()
	for _, raw := range []string{"4242", "/v1/shipments/" + itoa(m.testShip) + `"`, "/accounts/" + itoa(m.res.Account.ID), "Acme", m.key[:12]} {
		if strings.Contains(text, raw) {
			t.Errorf("the scrape names %q: labels must be route patterns and outcomes only", raw)
		}
	}
}

func TestMetricsCountLogins(t *testing.T) {
	app := newMetricsApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	login := func(email, password string) int {
		return app.client().post("/login", url.Values{"email": {email}, "password": {password}}).Code
	}
	if code := login("owner@acme.test", testPassword); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	if code := login("owner@acme.test", ""); code != http.StatusUnprocessableEntity {
		t.Fatalf("empty password: %d", code)
	}
	throttled := 0
	for range 8 {
		if login("owner@acme.test", "wrong-password-123") == http.StatusTooManyRequests {
			throttled++
		}
	}
	if throttled == 0 {
		t.Fatal("eight wrong passwords were never throttled")
	}
	want := map[string]float64{"success": 1, "incomplete_form": 1, "wrong_credentials": float64(8 - throttled), "throttled": float64(throttled)}
	for result, n := range want {
		if got := app.metricValue("keyport_logins_total", map[string]string{"result": result}); got != n {
			t.Errorf("logins %q = %v, want %v", result, got, n)
		}
	}
	if got := app.metricValue("keyport_sessions_active", nil); got != 1 {
		t.Errorf("active sessions %v, want 1", got)
	}
}

func TestMetricsFollowTheVerifierCacheAndUsageFlushes(t *testing.T) {
	app := newMetricsApp(t)
	m := app.apiMerchant("Acme")
	ctx := context.Background()
	for range 3 {
		wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	}
	if hits, misses := app.metricValue("keyport_verifier_cache_hits_total", nil), app.metricValue("keyport_verifier_cache_misses_total", nil); hits != 2 || misses != 1 {
		t.Errorf("cache hits %v, misses %v; want 2 and 1", hits, misses)
	}
	if got := app.metricValue("keyport_verifier_cache_entries", map[string]string{"kind": "known"}); got != 1 {
		t.Errorf("known keys cached %v, want 1", got)
	}
	local := app.metricValue("keyport_verifier_invalidations_total", map[string]string{"source": "local"})
	if _, err := app.db.SetAccountDisabled(ctx, keyport.SystemActor, m.res.Merchant.ID, m.res.Account.ID, true); err != nil {
		t.Fatal(err)
	}
	if got := app.metricValue("keyport_verifier_invalidations_total", map[string]string{"source": "local"}); got != local+1 {
		t.Errorf("local invalidations %v after disabling an account, want %v", got, local+1)
	}

	if got := app.metricValue("keyport_usage_pending_calls", nil); got != 3 {
		t.Errorf("pending calls %v, want 3", got)
	}
	if got := app.metricValue("keyport_usage_pending_keys", nil); got != 1 {
		t.Errorf("pending keys %v, want 1", got)
	}
	if _, err := app.db.SQL().Exec(`ALTER TABLE api_accounts RENAME TO api_accounts_away`); err != nil {
		t.Fatal(err)
	}
	if err := app.srv.Usage().Flush(ctx); err == nil {
		t.Fatal("a flush without its table succeeded")
	}
	if _, err := app.db.SQL().Exec(`ALTER TABLE api_accounts_away RENAME TO api_accounts`); err != nil {
		t.Fatal(err)
	}
	if err := app.srv.Usage().Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := app.metricValue("keyport_usage_flush_failures_total", nil); got != 1 {
		t.Errorf("flush failures %v, want 1", got)
	}
	if got := app.metricValue("keyport_usage_flush_duration_seconds", nil); got != 2 {
		t.Errorf("flushes timed %v, want 2", got)
	}
	if got := app.metricValue("keyport_usage_pending_calls", nil); got != 0 {
		t.Errorf("pending calls %v after the flush, want 0", got)
	}
	if got := app.metricValue("keyport_db_connections_max", nil); got < 0 {
		t.Error("the connection pool is not reported")
	}
}

func TestKeyListenerMetricOnPostgres(t *testing.T) {
	if !storetest.OnPostgres() {
		t.Skip("the key change listener runs on PostgreSQL only")
	}
	app := newMetricsApp(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		app.db.FollowKeyChanges(ctx, 0, discardLogger())
		close(done)
	}()
	defer func() { cancel(); <-done }()
	for deadline := time.Now().Add(10 * time.Second); app.metricValue("keyport_key_listener_up", nil) != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("keyport_key_listener_up never became 1")
		}
	}
	if got := app.metricValue("keyport_verifier_invalidations_total", map[string]string{"source": "reconnect"}); got < 1 {
		t.Errorf("reconnect invalidations %v, want at least the start's", got)
	}
}

func TestSweepExpiredKeysLogsAndCounts(t *testing.T) {
	app := newMetricsApp(t)
	_, res := app.merchant("Acme", "owner@acme.test")
	app.expiredKeys(res, 2)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		app.srv.SweepExpiredKeys(ctx, time.Millisecond)
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); app.metricValue("keyport_expiry_sweeps_total", map[string]string{"result": "ok"}) < 2; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sweep did not run twice")
		}
	}
	cancel()
	<-done
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'key.expired'`); n != 2 {
		t.Fatalf("%d key.expired events, want 2", n)
	}
	if got := app.metricValue("keyport_keys_expired_total", nil); got != 2 {
		t.Errorf("keys expired %v, want 2", got)
	}
	if !strings.Contains(app.logs.String(), "keys expired") {
		t.Errorf("logs: %s", app.logs.String())
	}
}

func TestMetricsAreNeverServedByTheApp(t *testing.T) {
	for _, on := range []bool{false, true} {
		app := newTestApp(t)
		if on {
			app = newMetricsApp(t)
		}
		if (app.srv.MetricsHandler() != nil) != on {
			t.Fatalf("metrics on=%v: handler %v", on, app.srv.MetricsHandler())
		}
		anonymous := app.client().get("/metrics")
		owner, _ := app.merchant("Acme", "owner@acme.test")
		owner.login("owner@acme.test")
		signedIn := owner.get("/metrics")
		wantStatus(t, signedIn, http.StatusNotFound)
		for _, res := range []response{anonymous, signedIn} {
			if res.Code == http.StatusOK || strings.Contains(res.Body, "keyport_") {
				t.Fatalf("the app's /metrics answers %d:\n%s", res.Code, res.Body)
			}
		}
	}
}

// promtool returns the path of Prometheus's promtool, or skips the test when
// it is missing outside CI.
func promtool(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("promtool is missing: .ci/run installs Debian's prometheus package")
		}
		t.Skip("promtool is not installed (apt-get install prometheus); CI runs this test")
	}
	return path
}

func TestPromtoolAcceptsTheScrape(t *testing.T) {
	tool := promtool(t)
	app := newMetricsApp(t)
	m := app.apiMerchant("Acme")
	wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	wantStatus(t, app.api("GET", "/v1/shipments", "sk_test_nope", ""), http.StatusUnauthorized)
	wantStatus(t, app.api("POST", "/v1/shipments", m.key, shipmentBody), http.StatusCreated)
	m.owner.get(keysPath(m.res))
	if err := app.srv.Usage().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tool, "check", "metrics")
	cmd.Stdin = strings.NewReader(app.scrape())
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
}
