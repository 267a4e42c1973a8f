package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport"
	"keyport/store"
)

const (
	bodyNoCredentials = `{"detail": "Authentication credentials were not provided."}`
	bodyNoToken       = `{"detail": "Token does not exist"}`
	bodyNoPermission  = `{"error": "api_secret_no_permission", "error_description": "User has no permission to execute this action"}`
)

// newKey stores a key on the merchant's first account and returns its plaintext.
func (a *testApp) newKey(res store.SignupResult, in keyport.NewKey) string {
	a.t.Helper()
	in.AccountID, in.MerchantID = res.Account.ID, res.Merchant.ID
	if in.Type == "" {
		in.Type = keyport.KeySecret
	}
	if in.Mode == "" {
		in.Mode = keyport.ModeTest
	}
	if in.Name == "" {
		in.Name = "API test"
	}
	if in.Access == "" {
		in.Access = keyport.AccessFull
	}
	created, err := a.db.CreateKey(context.Background(), keyport.SystemActor, in)
	if err != nil {
		a.t.Fatal(err)
	}
	return created.Plaintext
}

// callAPI sends a /v1 request with an Authorization header (none when auth is nil).
func (a *testApp) callAPI(method, path string, auth []string, body string) response {
	a.t.Helper()
	req := httptest.NewRequest(method, "http://example.test"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for _, v := range auth {
		req.Header.Add("Authorization", v)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	a.serve(rec, req)
	res := rec.Result()
	return response{Code: res.StatusCode, Header: res.Header, Body: rec.Body.String()}
}

func (a *testApp) api(method, path, key, body string) response {
	a.t.Helper()
	return a.callAPI(method, path, []string{"Bearer " + key}, body)
}

func wantJSON(t testing.TB, res response, code int, v any) {
	t.Helper()
	wantStatus(t, res, code)
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q, want JSON", ct)
	}
	if v != nil {
		if err := json.Unmarshal([]byte(res.Body), v); err != nil {
			t.Fatalf("decode %s: %v", res.Body, err)
		}
	}
}

const shipmentBody = `{"courier": "dpd", "service_code": "DPD_NEXT_DAY", "from": {"postcode": "M1 1AE", "country": "GB"},
	"to": {"postcode": "EH1 1YZ", "country": "GB"}, "parcel": {"weight_grams": 1800, "length_cm": 30, "width_cm": 20, "height_cm": 10}}`

const rateBody = `{"from": {"postcode": "M1 1AE", "country": "GB"}, "to": {"postcode": "EH1 1YZ", "country": "GB"},
	"parcel": {"weight_grams": 1800}, "courier": "dpd"}`

// apiMerchant is a merchant with a testing DPD auth, test and live shipments, and a full-access test key.
type apiMerchant struct {
	res      store.SignupResult
	owner    *client
	key      string
	testShip int64
	liveShip int64
}

func (a *testApp) apiMerchant(name string) apiMerchant {
	a.t.Helper()
	owner, res := a.merchant(name, "owner@"+strings.ToLower(name)+".test")
	owner.registerDPD(res, name+" Ltd")
	if err := a.db.SetTokenCap(context.Background(), keyport.SystemActor, 0); err != nil {
		a.t.Fatal(err)
	}
	m := apiMerchant{res: res, owner: owner, key: a.newKey(res, keyport.NewKey{})}
	m.testShip = a.addShipments(res, keyport.ModeTest, 1)
	m.liveShip = a.addShipments(res, keyport.ModeLive, 1)
	return m
}

func TestAPIAuthenticationErrorsAreExact(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	ctx := context.Background()
	unknown, _ := keyport.MintKey(keyport.KeySecret, keyport.ModeTest)
	malformed := m.key[:len(m.key)-1] + "x"
	if malformed == m.key {
		malformed = m.key[:len(m.key)-1] + "y"
	}
	restricted := app.newKey(m.res, keyport.NewKey{Name: "Couriers only", Access: keyport.AccessRestricted, Permissions: []string{"couriers:read"}})
	publishable := app.newKey(m.res, keyport.NewKey{Type: keyport.KeyPublishable, Name: "Checkout", Permissions: keyport.PermissionCatalog.Public()})

	revoked := app.newKey(m.res, keyport.NewKey{Name: "Revoked"})
	revokedID := app.keyIDs(m.res.Account.ID, "name = 'Revoked'")[0]
	if _, err := app.db.RevokeKey(ctx, keyport.SystemActor, m.res.Merchant.ID, m.res.Account.ID, revokedID, "test"); err != nil {
		t.Fatal(err)
	}
	expired := app.newKey(m.res, keyport.NewKey{Name: "Short", ExpiresAt: app.clock().Add(time.Hour)})
	app.advance(2 * time.Hour)

	tests := []struct {
		name   string
		path   string
		auth   []string
		status int
		body   string
	}{
		{"no Authorization header", "/v1/couriers", nil, 401, bodyNoCredentials},
		{"empty Authorization header", "/v1/couriers", []string{""}, 401, bodyNoCredentials},
		{"blank Authorization header", "/v1/couriers", []string{"   "}, 401, bodyNoCredentials},
		{"unknown key", "/v1/couriers", []string{"Bearer " + unknown.String()}, 401, bodyNoToken},
		{"malformed key (bad checksum)", "/v1/couriers", []string{"Bearer " + malformed}, 401, bodyNoToken},
		{"not a key at all", "/v1/couriers", []string{"Bearer hello"}, 401, bodyNoToken},
		{"scheme without a key", "/v1/couriers", []string{"Bearer"}, 401, bodyNoToken},
		{"unknown scheme", "/v1/couriers", []string{"Basic " + m.key}, 401, bodyNoToken},
		{"revoked key", "/v1/couriers", []string{"Bearer " + revoked}, 401, bodyNoToken},
		{"expired key", "/v1/couriers", []string{"Bearer " + expired}, 401, bodyNoToken},
		{"key without the permission", "/v1/shipments", []string{"Bearer " + restricted}, 403, bodyNoPermission},
		{"publishable key on a secret endpoint", "/v1/shipments", []string{"Bearer " + publishable}, 403,
			`{"error": "publishable_key_not_allowed", "error_description": "` + errPublishableKey.problem.description + `"}`},
		{"Bearer form", "/v1/couriers", []string{"Bearer " + m.key}, 200, ""},
		{"lower-case bearer", "/v1/couriers", []string{"bearer " + m.key}, 200, ""},
		{"Token form", "/v1/couriers", []string{"Token " + m.key}, 200, ""},
		{"ShippoToken form", "/v1/couriers", []string{"ShippoToken " + m.key}, 200, ""},
		{"bare key", "/v1/couriers", []string{m.key}, 200, ""},
		{"bare key with spaces around", "/v1/couriers", []string{"  " + m.key + "  "}, 200, ""},
		{"restricted key with the permission", "/v1/couriers", []string{"Bearer " + restricted}, 200, ""},
		{"publishable key on a public endpoint", "/v1/couriers", []string{"Bearer " + publishable}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := app.callAPI(http.MethodGet, tt.path, tt.auth, "")
			wantStatus(t, r, tt.status)
			if tt.body != "" && r.Body != tt.body {
				t.Fatalf("body\n%s\nwant\n%s", r.Body, tt.body)
			}
			challenge := map[string]string{bodyNoCredentials: `Bearer realm="keyport"`, bodyNoToken: `Bearer realm="keyport", error="invalid_token"`}[tt.body]
			if got := r.Header.Get("WWW-Authenticate"); tt.status == 401 && got != challenge {
				t.Fatalf("WWW-Authenticate %q, want %q (RFC 6750: invalid_token when a key was given)", got, challenge)
			}
			if tt.status == 200 && !strings.Contains(r.Body, `"code":"dpd"`) {
				t.Fatalf("couriers missing: %s", r.Body)
			}
		})
	}
	if strings.Contains(app.logs.String(), m.key) || strings.Contains(app.logs.String(), restricted) {
		t.Fatal("a key reached the logs")
	}
}

// endpointPath fills an endpoint's path parameters with the merchant's test shipment.
func (a *testApp) endpointPath(e keyport.Endpoint, m apiMerchant) string {
	var tracking string
	if err := a.db.SQL().QueryRow(`SELECT tracking_number FROM shipments WHERE id = $1`, m.testShip).Scan(&tracking); err != nil {
		a.t.Fatal(err)
	}
	return strings.NewReplacer("{id}", fmt.Sprint(m.testShip), "{number}", tracking).Replace(e.Path)
}

func TestAPIEveryEndpointNeedsItsPermission(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	publishable := app.newKey(m.res, keyport.NewKey{Type: keyport.KeyPublishable, Name: "Checkout", Permissions: keyport.PermissionCatalog.Public()})
	for _, e := range keyport.APIEndpoints {
		t.Run(e.Method+" "+e.Path, func(t *testing.T) {
			var others []string
			for _, p := range keyport.PermissionCatalog {
				if p.Name != e.Permission {
					others = append(others, p.Name)
				}
			}
			with := app.newKey(m.res, keyport.NewKey{Name: "With", Access: keyport.AccessRestricted, Permissions: []string{e.Permission}})
			without := app.newKey(m.res, keyport.NewKey{Name: "Without", Access: keyport.AccessRestricted, Permissions: others})

			r := app.api(e.Method, app.endpointPath(e, m), without, e.Request)
			wantStatus(t, r, http.StatusForbidden)
			if r.Body != bodyNoPermission {
				t.Fatalf("body %s", r.Body)
			}
			// The successful call runs last: cancelling changes the shipment.
			r = app.api(e.Method, app.endpointPath(e, m), publishable, e.Request)
			if e.Public() {
				wantStatus(t, r, e.Status)
			} else {
				wantStatus(t, r, http.StatusForbidden)
				wantContains(t, r.Body, `"error": "publishable_key_not_allowed"`)
			}
			r = app.api(e.Method, app.endpointPath(e, m), with, e.Request)
			if r.Code != e.Status && !(strings.HasSuffix(e.Path, "/cancel") && r.Code == http.StatusConflict) {
				t.Fatalf("status %d, want %d: %s", r.Code, e.Status, r.Body)
			}
		})
	}
}

func TestAPIIsolatesAccountsAndModes(t *testing.T) {
	app := newTestApp(t)
	a := app.apiMerchant("Acme")
	b := app.apiMerchant("Bolt")
	live := app.newKey(a.res, keyport.NewKey{Mode: keyport.ModeLive, Name: "Live"})
	var liveTracking, testTracking string
	app.db.SQL().QueryRow(`SELECT tracking_number FROM shipments WHERE id = $1`, a.liveShip).Scan(&liveTracking)
	app.db.SQL().QueryRow(`SELECT tracking_number FROM shipments WHERE id = $1`, a.testShip).Scan(&testTracking)

	var page struct {
		Data []struct {
			ID   int64
			Mode string
		}
	}
	wantJSON(t, app.api("GET", "/v1/shipments", a.key, ""), 200, &page)
	if len(page.Data) != 1 || page.Data[0].ID != a.testShip || page.Data[0].Mode != "test" {
		t.Fatalf("test key sees %+v", page.Data)
	}
	wantJSON(t, app.api("GET", "/v1/shipments", live, ""), 200, &page)
	if len(page.Data) != 1 || page.Data[0].ID != a.liveShip {
		t.Fatalf("live key sees %+v", page.Data)
	}
	cases := []struct {
		name, method, path, key string
	}{
		{"test key reads a live shipment", "GET", fmt.Sprintf("/v1/shipments/%d", a.liveShip), a.key},
		{"live key reads a test shipment", "GET", fmt.Sprintf("/v1/shipments/%d", a.testShip), live},
		{"test key tracks a live shipment", "GET", "/v1/tracking/" + liveTracking, a.key},
		{"other merchant reads a shipment", "GET", fmt.Sprintf("/v1/shipments/%d", a.testShip), b.key},
		{"other merchant tracks a shipment", "GET", "/v1/tracking/" + testTracking, b.key},
		{"other merchant cancels a shipment", "POST", fmt.Sprintf("/v1/shipments/%d/cancel", a.testShip), b.key},
		{"id that is not a number", "GET", "/v1/shipments/abc", a.key},
		{"unknown id", "GET", "/v1/shipments/999999", a.key},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := app.api(c.method, c.path, c.key, "")
			wantStatus(t, r, http.StatusNotFound)
			wantContains(t, r.Body, `"error": "not_found"`)
		})
	}
	if n := app.count(`SELECT count(*) FROM shipments WHERE status = 'cancelled'`); n != 0 {
		t.Fatalf("%d shipments cancelled by another merchant", n)
	}
}

func TestAPIKeyChangesTakeEffectOnTheNextRequest(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	ctx := context.Background()
	mid, aid := m.res.Merchant.ID, m.res.Account.ID
	ok := func(key string) {
		t.Helper()
		wantStatus(t, app.api("GET", "/v1/couriers", key, ""), http.StatusOK)
	}
	refused := func(key string) {
		t.Helper()
		r := app.api("GET", "/v1/couriers", key, "")
		wantStatus(t, r, http.StatusUnauthorized)
		if r.Body != bodyNoToken {
			t.Fatalf("body %s", r.Body)
		}
	}
	idOf := func(name string) int64 { return app.keyIDs(aid, "name = '"+name+"'")[0] }

	revoked := app.newKey(m.res, keyport.NewKey{Name: "Revoke me"})
	ok(revoked)
	if _, err := app.db.RevokeKey(ctx, keyport.SystemActor, mid, aid, idOf("Revoke me"), ""); err != nil {
		t.Fatal(err)
	}
	refused(revoked)

	graced := app.newKey(m.res, keyport.NewKey{Name: "Roll with grace"})
	ok(graced)
	rolled, err := app.db.RollKey(ctx, keyport.SystemActor, mid, aid, idOf("Roll with grace"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	ok(graced)
	ok(rolled.Plaintext)
	app.advance(time.Hour + time.Second)
	refused(graced)
	ok(rolled.Plaintext)

	if _, err := app.db.RevokeKey(ctx, keyport.SystemActor, mid, aid, rolled.Key.ID, ""); err != nil {
		t.Fatal(err)
	}
	now := app.newKey(m.res, keyport.NewKey{Name: "Roll now"})
	ok(now)
	if _, err := app.db.RollKey(ctx, keyport.SystemActor, mid, aid, idOf("Roll now"), 0); err != nil {
		t.Fatal(err)
	}
	refused(now)

	expiring := app.newKey(m.res, keyport.NewKey{Name: "Expiring", ExpiresAt: app.clock().Add(time.Minute)})
	ok(expiring)
	app.advance(time.Minute)
	refused(expiring)

	ok(m.key)
	m.owner.login("owner@acme.test")
	wantStatus(t, m.owner.post(accountPath(m.res)+"/disable", nil), http.StatusSeeOther)
	if n := app.count(`SELECT count(*) FROM api_accounts WHERE disabled_at IS NOT NULL`); n != 1 {
		t.Fatal("account not disabled")
	}
	refused(m.key)
	wantStatus(t, m.owner.post(accountPath(m.res)+"/enable", nil), http.StatusSeeOther)
	ok(m.key)
	admin := app.adminClient()
	merchantPath := fmt.Sprintf("/admin/merchants/%d", mid)
	wantStatus(t, admin.post(merchantPath+"/disable", nil), http.StatusSeeOther)
	refused(m.key)
	wantStatus(t, admin.post(merchantPath+"/enable", nil), http.StatusSeeOther)
	ok(m.key)
	m.owner.login("owner@acme.test")
	r := m.owner.post(accountPath(m.res)+"/delete", url.Values{"confirm_name": {"Default"}})
	if r.Code != http.StatusSeeOther {
		t.Fatalf("delete: %d %s", r.Code, r.Body)
	}
	refused(m.key)
}

func TestAPIVerifiedRequestRunsNoSQL(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	malformed := "sk_test_" + strings.Repeat("a", 36)
	wantStatus(t, app.api("GET", "/v1/couriers", malformed, ""), http.StatusUnauthorized)
	before := app.db.Queries()
	for i := 0; i < 50; i++ {
		wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
		wantStatus(t, app.api("GET", "/v1/couriers", malformed, ""), http.StatusUnauthorized)
	}
	if n := app.db.Queries() - before; n != 0 {
		t.Fatalf("100 requests ran %d SQL queries, want 0", n)
	}
}

func TestAPIUsageIsRecordedInBatches(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	for i := 0; i < 7; i++ {
		wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	}
	wantStatus(t, app.api("GET", "/v1/shipments", app.newKey(m.res, keyport.NewKey{Type: keyport.KeyPublishable, Name: "pk",
		Permissions: keyport.PermissionCatalog.Public()}), ""), http.StatusForbidden)
	if n := app.count(`SELECT COALESCE(sum(use_count), 0) FROM api_keys`); n != 0 {
		t.Fatalf("usage written per request: %d", n)
	}
	if err := app.srv.Usage().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if n := app.count(`SELECT use_count FROM api_keys WHERE name = 'API test'`); n != 7 {
		t.Fatalf("use count %d, want 7", n)
	}
	if n := app.count(`SELECT use_count FROM api_keys WHERE name = 'pk'`); n != 1 {
		t.Fatalf("refused call of a valid key not counted: %d", n)
	}
	app.advance(2 * time.Minute)
	page := m.owner.get(keysPath(m.res))
	wantContains(t, page.Body, "2 minutes ago", " from 127.0.0.1", "7 calls")
	wantContains(t, m.owner.get("/secrets").Body, " from 127.0.0.1", "7 calls")
}

func TestAPIRateLimit(t *testing.T) {
	app := newTestApp(t)
	app.srv.limiter = keyport.NewRateLimiter(2)
	m := app.apiMerchant("Acme")
	other := app.newKey(m.res, keyport.NewKey{Name: "Other"})
	wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	r := app.api("GET", "/v1/couriers", m.key, "")
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") != "1" {
		t.Fatalf("Retry-After %q", r.Header.Get("Retry-After"))
	}
	wantContains(t, r.Body, `"error": "rate_limited"`)
	wantStatus(t, app.api("GET", "/v1/couriers", other, ""), http.StatusOK)
	app.advance(time.Second)
	wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
}

func TestAPIRateLimitHeaders(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	restricted := app.newKey(m.res, keyport.NewKey{Name: "Couriers only", Access: keyport.AccessRestricted, Permissions: []string{"couriers:read"}})
	if r := app.api("GET", "/v1/couriers", m.key, ""); r.Header.Get("RateLimit") != "" || r.Header.Get("RateLimit-Policy") != "" {
		t.Fatalf("headers without a limit: %q, %q", r.Header.Get("RateLimit"), r.Header.Get("RateLimit-Policy"))
	}
	app.srv.limiter = keyport.NewRateLimiter(3)
	tests := []struct {
		name, key, path string
		advance         time.Duration
		status          int
		rateLimit       string
	}{
		{"first call", m.key, "/v1/couriers", 0, 200, `"per-key";r=2;t=1`},
		{"second call", m.key, "/v1/shipments", 0, 200, `"per-key";r=1;t=1`},
		{"another key, its own bucket, refused for permission", restricted, "/v1/shipments", 0, 403, `"per-key";r=2;t=1`},
		{"third call", m.key, "/v1/couriers", 0, 200, `"per-key";r=0;t=1`},
		{"over the limit", m.key, "/v1/couriers", 0, 429, `"per-key";r=0;t=1`},
		{"a second later", m.key, "/v1/couriers", time.Second, 200, `"per-key";r=2;t=1`},
		{"no key", "", "/v1/couriers", 0, 401, ""},
	}
	for _, tt := range tests {
		app.advance(tt.advance)
		var r response
		if tt.key == "" {
			r = app.callAPI("GET", tt.path, nil, "")
		} else {
			r = app.api("GET", tt.path, tt.key, "")
		}
		wantStatus(t, r, tt.status)
		policy := `"per-key";q=3;w=1`
		if tt.rateLimit == "" {
			policy = ""
		}
		if r.Header.Get("RateLimit") != tt.rateLimit || r.Header.Get("RateLimit-Policy") != policy {
			t.Errorf("%s: RateLimit %q, RateLimit-Policy %q; want %q, %q", tt.name, r.Header.Get("RateLimit"), r.Header.Get("RateLimit-Policy"), tt.rateLimit, policy)
		}
	}
}

// TestAPIRateLimitIsSharedAmongLiveReplicas runs the replica heartbeat of
// this server beside another replica's heartbeat in the same database: while
// both are live this server allows each key half the limit, rounded up; once
// the other falls silent for longer than the window, the whole limit.
func TestAPIRateLimitIsSharedAmongLiveReplicas(t *testing.T) {
	app := newTestApp(t)
	app.srv.limiter = keyport.NewRateLimiter(5)
	m := app.apiMerchant("Acme")
	ctx := context.Background()
	if err := app.db.Heartbeat(ctx, "replica-b"); err != nil {
		t.Fatal(err)
	}
	follow, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		app.srv.KeepReplicaShare(follow, "replica-a", 10*time.Millisecond)
	}()
	defer func() { stop(); <-done }()
	burst := func(want int) {
		t.Helper()
		for range want {
			wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
		}
		wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusTooManyRequests)
	}
	waitForShare := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for app.srv.limiter.PerSecond() != want {
			if time.Now().After(deadline) {
				t.Fatalf("the limit per key stays at %d, want %d", app.srv.limiter.PerSecond(), want)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}

	waitForShare(3)
	burst(3)
	// Heartbeats are stored in whole seconds: one second later the other
	// replica would still count whenever the clock started less than the
	// 30 ms window past a whole second.
	app.advance(2 * time.Second)
	waitForShare(5)
	burst(5)

	stop()
	<-done
	var ids []string
	rows, err := app.db.SQL().Query(`SELECT id FROM replicas ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if strings.Join(ids, ",") != "replica-b" {
		t.Fatalf("replicas left after this one stopped: %v", ids)
	}
}

func TestAPIShipmentLifecycle(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	live := app.newKey(m.res, keyport.NewKey{Mode: keyport.ModeLive, Name: "Live"})

	r := app.api("POST", "/v1/shipments", live, shipmentBody)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.Body, `"error": "missing_registered_auth"`, `No live (Testing: No) registered auth for DPD on API account \"Default\"`, `"field": "courier"`)

	var created struct {
		ID             int64
		Status         string
		TrackingNumber string `json:"tracking_number"`
		LabelRef       string `json:"label_ref"`
		AmountMinor    int64  `json:"amount_minor"`
		Currency       string
		Mode           string
	}
	wantJSON(t, app.api("POST", "/v1/shipments", m.key, shipmentBody), http.StatusCreated, &created)
	if created.Status != "created" || created.AmountMinor != 675 || created.Currency != "GBP" || created.Mode != "test" ||
		!strings.HasPrefix(created.TrackingNumber, "KP") || created.LabelRef != "LBL-"+created.TrackingNumber {
		t.Fatalf("created %+v", created)
	}
	page := m.owner.get(accountPath(m.res) + "/shipments")
	wantContains(t, page.Body, created.TrackingNumber)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'shipment.created' AND object_id = $1 AND actor LIKE 'sk_test_%'`, created.ID); n != 1 {
		t.Fatalf("%d audit events", n)
	}

	var tracked struct {
		Status string
		Events []struct{ Status string }
	}
	wantJSON(t, app.api("GET", "/v1/tracking/"+created.TrackingNumber, m.key, ""), 200, &tracked)
	if tracked.Status != "created" || len(tracked.Events) != 1 {
		t.Fatalf("tracking %+v", tracked)
	}

	cancel := fmt.Sprintf("/v1/shipments/%d/cancel", created.ID)
	wantJSON(t, app.api("POST", cancel, m.key, ""), 200, &created)
	if created.Status != "cancelled" {
		t.Fatalf("status %q", created.Status)
	}
	r = app.api("POST", cancel, m.key, "")
	wantStatus(t, r, http.StatusConflict)
	wantContains(t, r.Body, `"error": "shipment_not_cancellable"`)
	r = app.api("POST", fmt.Sprintf("/v1/shipments/%d/cancel", m.testShip), m.key, "")
	wantStatus(t, r, http.StatusConflict)
	audit := m.owner.getURL(fmt.Sprintf("/audit?account=%d&action=shipment.cancelled", m.res.Account.ID))
	wantStatus(t, audit, http.StatusOK)
	wantContains(t, audit.Body, "Shipment cancelled", created.TrackingNumber)
	wantJSON(t, app.api("GET", "/v1/tracking/"+created.TrackingNumber, m.key, ""), 200, &tracked)
	if tracked.Status != "cancelled" || tracked.Events[len(tracked.Events)-1].Status != "cancelled" {
		t.Fatalf("tracking %+v", tracked)
	}
}

func TestAPIShipmentsCursorPagination(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	app.addShipments(m.res, keyport.ModeTest, 24)
	var ids []int64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		var page struct {
			Data       []struct{ ID int64 }
			HasMore    bool   `json:"has_more"`
			NextCursor string `json:"next_cursor"`
		}
		wantJSON(t, app.api("GET", "/v1/shipments?limit=10&cursor="+cursor, m.key, ""), 200, &page)
		for _, s := range page.Data {
			ids = append(ids, s.ID)
		}
		if !page.HasMore {
			if page.NextCursor != "" {
				t.Fatal("next_cursor on the last page")
			}
			break
		}
		cursor = page.NextCursor
	}
	if len(ids) != 25 {
		t.Fatalf("%d shipments, want 25", len(ids))
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] >= ids[i-1] {
			t.Fatalf("not newest first: %v", ids)
		}
	}
}

func TestAPISuppressCostsRemovesEveryAmount(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	hidden := app.newKey(m.res, keyport.NewKey{Name: "No costs", Access: keyport.AccessRestricted,
		Permissions: []string{"rates:read", "shipments:read", "shipments:write"}, SuppressCosts: true})
	for _, r := range []response{
		app.api("POST", "/v1/rates", hidden, rateBody),
		app.api("POST", "/v1/shipments", hidden, shipmentBody),
		app.api("GET", "/v1/shipments", hidden, ""),
		app.api("GET", fmt.Sprintf("/v1/shipments/%d", m.testShip), hidden, ""),
		app.api("POST", fmt.Sprintf("/v1/shipments/%d/cancel", m.testShip), hidden, ""),
	} {
		if r.Code >= 300 && r.Code != http.StatusConflict {
			t.Fatalf("status %d: %s", r.Code, r.Body)
		}
		if r.Code < 300 && (strings.Contains(r.Body, "amount") || strings.Contains(r.Body, "currency") || strings.Contains(r.Body, "GBP")) {
			t.Fatalf("costs shown: %s", r.Body)
		}
	}
	r := app.api("POST", "/v1/rates", m.key, rateBody)
	wantContains(t, r.Body, `"amount_minor":675`, `"currency":"GBP"`)
}

func TestAPIRatesAreDeterministic(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	tests := []struct {
		name   string
		parcel string
		to     string
		want   int64
	}{
		{"within the default weight", `{"weight_grams": 1800}`, "GB", 675},
		{"one started step over", `{"weight_grams": 2001}`, "GB", 725},
		{"two steps over", `{"weight_grams": 3000}`, "GB", 775},
		{"volumetric weight counts", `{"weight_grams": 500, "length_cm": 50, "width_cm": 40, "height_cm": 30}`, "GB", 675 + 20*50},
		{"across a border", `{"weight_grams": 1800}`, "FR", 1350},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := `{"from": {"postcode": "M1 1AE", "country": "gb"}, "to": {"postcode": "75001", "country": "` + tt.to +
				`"}, "parcel": ` + tt.parcel + `, "courier": "dpd"}`
			var out struct {
				Data []struct {
					ServiceCode string `json:"service_code"`
					AmountMinor int64  `json:"amount_minor"`
				}
			}
			wantJSON(t, app.api("POST", "/v1/rates", m.key, body), 200, &out)
			if len(out.Data) != 3 || out.Data[0].ServiceCode != "DPD_NEXT_DAY" || out.Data[0].AmountMinor != tt.want {
				t.Fatalf("rates %+v, want DPD_NEXT_DAY at %d", out.Data, tt.want)
			}
		})
	}
	var all struct{ Data []any }
	wantJSON(t, app.api("POST", "/v1/rates", m.key, strings.Replace(rateBody, `, "courier": "dpd"`, "", 1)), 200, &all)
	if len(all.Data) < 16 {
		t.Fatalf("only %d rates across couriers", len(all.Data))
	}
}

func TestAPIBadInputIs400WithTheField(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	huge := `{"courier": "` + strings.Repeat("a", 1<<20) + `"}`
	tests := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"invalid JSON", "POST", "/v1/shipments", `{"courier": `, 400, "body"},
		{"not JSON", "POST", "/v1/rates", `courier=dpd`, 400, "body"},
		{"empty body", "POST", "/v1/shipments", ``, 400, "body"},
		{"an array", "POST", "/v1/rates", `[1, 2]`, 400, "body"},
		{"two objects", "POST", "/v1/rates", rateBody + rateBody, 400, "body"},
		{"wrong type", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"weight_grams": 1800`, `"weight_grams": "heavy"`, 1), 400, "parcel.weight_grams"},
		{"number too big", "POST", "/v1/rates", strings.Replace(rateBody, `1800`, `1e30`, 1), 400, "parcel.weight_grams"},
		{"negative weight", "POST", "/v1/rates", strings.Replace(rateBody, `1800`, `-5`, 1), 400, "parcel.weight_grams"},
		{"missing courier", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"courier": "dpd", `, "", 1), 400, "courier"},
		{"missing parcel", "POST", "/v1/rates", `{"from": {"postcode": "M1 1AE", "country": "GB"}, "to": {"postcode": "EH1 1YZ", "country": "GB"}}`, 400, "parcel"},
		{"missing postcode", "POST", "/v1/rates", strings.Replace(rateBody, `"postcode": "M1 1AE", `, "", 1), 400, "from.postcode"},
		{"bad country", "POST", "/v1/rates", strings.Replace(rateBody, `"country": "GB"}, "to"`, `"country": "Britain"}, "to"`, 1), 400, "from.country"},
		{"field name in another case", "POST", "/v1/rates", strings.Replace(rateBody, `"parcel": {"weight_grams": 1800}`, `"parcel": {"weight_grams": 1800}, "FROM": {"postcode": "75001", "country": "FR"}`, 1), 400, "FROM"},
		{"field name in another case alone", "POST", "/v1/rates", strings.Replace(rateBody, `"from"`, `"From"`, 1), 400, "From"},
		{"field sent twice", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"courier": "dpd"`, `"courier": "dpd", "courier": "evri"`, 1), 400, "courier"},
		{"nested field sent twice", "POST", "/v1/rates", strings.Replace(rateBody, `"weight_grams": 1800`, `"weight_grams": 1800, "weight_grams": 1`, 1), 400, "parcel.weight_grams"},
		{"null parcel", "POST", "/v1/rates", strings.Replace(rateBody, `"parcel": {"weight_grams": 1800}`, `"parcel": null`, 1), 400, "parcel"},
		{"null courier", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"courier": "dpd"`, `"courier": null`, 1), 400, "courier"},
		{"fractional weight", "POST", "/v1/rates", strings.Replace(rateBody, `1800`, `1800.5`, 1), 400, "parcel.weight_grams"},
		{"invalid UTF-8", "POST", "/v1/rates", strings.Replace(rateBody, `M1 1AE`, "M1 \xff", 1), 400, "body"},
		{"reserved country code", "POST", "/v1/rates", strings.Replace(rateBody, `"country": "GB"}, "to"`, `"country": "UK"}, "to"`, 1), 400, "from.country"},
		{"unknown country code", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"country": "GB"}, "parcel"`, `"country": "ZZ"}, "parcel"`, 1), 400, "to.country"},
		{"too heavy for the service", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"weight_grams": 1800`, `"weight_grams": 31000`, 1), 400, "parcel.weight_grams"},
		{"too long for the service", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"length_cm": 30`, `"length_cm": 200`, 1), 400, "parcel.length_cm"},
		{"a 300 cm cube quoted", "POST", "/v1/rates", strings.Replace(rateBody, `"weight_grams": 1800`, `"weight_grams": 1800, "length_cm": 300, "width_cm": 300, "height_cm": 300`, 1), 400, "parcel"},
		{"unknown field", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"courier"`, `"colour": "red", "courier"`, 1), 400, "colour"},
		{"unknown courier", "POST", "/v1/shipments", strings.Replace(shipmentBody, `"dpd"`, `"pigeon"`, 1), 400, "courier"},
		{"unknown service", "POST", "/v1/shipments", strings.Replace(shipmentBody, `DPD_NEXT_DAY`, `TPN24`, 1), 400, "service_code"},
		{"HTML in a postcode", "POST", "/v1/shipments", strings.Replace(shipmentBody, `M1 1AE`, `<script>`, 1), 400, "from.postcode"},
		{"limit zero", "GET", "/v1/shipments?limit=0", "", 400, "limit"},
		{"limit over 100", "GET", "/v1/shipments?limit=101", "", 400, "limit"},
		{"limit not a number", "GET", "/v1/shipments?limit=ten", "", 400, "limit"},
		{"bad cursor", "GET", "/v1/shipments?cursor=-3", "", 400, "cursor"},
		{"body over 1 MiB", "POST", "/v1/shipments", huge, 413, ""},
		{"unknown endpoint", "GET", "/v1/parcels", "", 404, ""},
		{"wrong method", "DELETE", "/v1/shipments", "", 405, ""},
	}
	before := app.count(`SELECT count(*) FROM shipments`)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := app.api(tt.method, tt.path, m.key, tt.body)
			var out struct {
				Error       string
				Description string `json:"error_description"`
				Field       string
			}
			wantJSON(t, r, tt.status, &out)
			if out.Field != tt.field || out.Description == "" || out.Error == "" {
				t.Fatalf("error %+v, want field %q", out, tt.field)
			}
		})
	}
	if after := app.count(`SELECT count(*) FROM shipments`); after != before {
		t.Fatalf("shipments %d -> %d", before, after)
	}
	if strings.Contains(app.logs.String(), "level=ERROR") {
		t.Fatalf("client mistakes logged as server errors:\n%s", app.logs.String())
	}
}

func TestAPIBodiesMustBeSentAsJSON(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	tests := []struct {
		contentType string
		status      int
	}{
		{"application/json", http.StatusOK},
		{"application/json; charset=utf-8", http.StatusOK},
		{"Application/JSON; charset=UTF-8", http.StatusOK},
		{"", http.StatusUnsupportedMediaType},
		{"text/plain", http.StatusUnsupportedMediaType},
		{"application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"application/json; charset=latin1", http.StatusUnsupportedMediaType},
		{"application/jsonp", http.StatusUnsupportedMediaType},
		{"application/json;;", http.StatusUnsupportedMediaType},
	}
	for _, tt := range tests {
		t.Run(tt.contentType, func(t *testing.T) {
			req := httptest.NewRequest("POST", "http://example.test/v1/rates", strings.NewReader(rateBody))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			req.Header.Set("Authorization", "Bearer "+m.key)
			rec := httptest.NewRecorder()
			app.serve(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d\n%s", rec.Code, tt.status, rec.Body.String())
			}
			if tt.status == http.StatusUnsupportedMediaType && !strings.Contains(rec.Body.String(), `"error": "unsupported_media_type"`) {
				t.Fatalf("body %s", rec.Body.String())
			}
		})
	}
}

func TestOpenAPIListsEveryV1Route(t *testing.T) {
	app := newTestApp(t)
	r := app.callAPI("GET", "/v1/openapi.json", nil, "")
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	wantJSON(t, r, 200, &doc)
	if doc.OpenAPI != "3.1.0" {
		t.Fatalf("openapi %q", doc.OpenAPI)
	}
	routes, unauthenticated := 0, 0
	for _, rt := range app.srv.Echo().Routes() {
		if !strings.HasPrefix(rt.Path, "/v1/") || rt.Path == "/v1/*" || rt.Path == "/v1/openapi.json" || isLoadTestRoute(rt.Path) ||
			rt.Method == http.MethodHead {
			// HEAD is registered beside every GET endpoint and answers as GET does, without the body.
			continue
		}
		routes++
		path := rt.Path
		for _, seg := range strings.Split(rt.Path, "/") {
			if strings.HasPrefix(seg, ":") {
				path = strings.Replace(path, seg, "{"+seg[1:]+"}", 1)
			}
		}
		op, ok := doc.Paths[path][strings.ToLower(rt.Method)]
		if !ok {
			t.Errorf("%s %s is missing from /v1/openapi.json", rt.Method, path)
			continue
		}
		security, open := op["security"].([]any)
		if open && len(security) == 0 {
			unauthenticated++
		} else if op["x-permission"] == "" || op["x-permission"] == nil {
			t.Errorf("%s %s has no permission", rt.Method, path)
		}
	}
	if unauthenticated != 1 {
		t.Errorf("%d /v1 routes take no key, want 1 (the leak report)", unauthenticated)
	}
	if routes != len(keyport.APIEndpoints)+unauthenticated {
		t.Fatalf("%d /v1 routes, %d documented endpoints", routes, len(keyport.APIEndpoints))
	}
	if n := len(app.srv.apiRoutes()); n != len(keyport.APIEndpoints) {
		t.Fatalf("%d API handlers, %d endpoints: a handler serves no endpoint", n, len(keyport.APIEndpoints))
	}
}

func TestAPIDocsPage(t *testing.T) {
	app := newTestApp(t)
	anon := app.client().get("/docs/api")
	wantStatus(t, anon, http.StatusOK)
	for _, e := range keyport.APIEndpoints {
		wantContains(t, anon.Body, e.Path, e.Permission)
	}
	wantContains(t, anon.Body, "sk_test_YOUR_KEY", "api_secret_no_permission", "publishable_key_not_allowed", "Secret key only",
		"curl -X POST http://example.test/v1/shipments")

	owner, res := app.merchant("Acme", "owner@acme.test")
	key := app.newKey(res, keyport.NewKey{Name: "Docs"})
	page := owner.get("/docs/api")
	redacted := key[:12] + "********" + key[len(key)-4:]
	wantContains(t, page.Body, "Authorization: Bearer "+redacted)
	if strings.Contains(page.Body, key) {
		t.Fatal("docs show a whole key")
	}
}

// FuzzAuthorizationHeader sends any header value through the /v1 middleware:
// never a panic, never a 500.
func FuzzAuthorizationHeader(f *testing.F) {
	app := newTestApp(f)
	res := app.signupMerchant("Acme", "owner@acme.test")
	key := app.newKey(res, keyport.NewKey{})
	for _, seed := range []string{"", " ", "Bearer", "Bearer ", "Bearer " + key, "Token " + key, "ShippoToken " + key, key,
		"Bearer  " + key + " extra", "Basic dXNlcjpwYXNz", "sk_test_", "pk_live_" + strings.Repeat("z", 36), "\x00", "Bearer \xff\xfe",
		strings.Repeat("A", 10000)} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, header string) {
		req := httptest.NewRequest(http.MethodGet, "http://example.test/v1/couriers", nil)
		req.Header["Authorization"] = []string{header}
		rec := httptest.NewRecorder()
		app.srv.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK, http.StatusUnauthorized:
		default:
			t.Fatalf("header %q: status %d %s", header, rec.Code, rec.Body.String())
		}
	})
}

func TestApprovalQueueShowsRealTestActivity(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	for i := 0; i < 3; i++ {
		wantStatus(t, app.api("POST", "/v1/shipments", m.key, shipmentBody), http.StatusCreated)
	}
	wantStatus(t, app.api("GET", "/v1/shipments", m.key, ""), http.StatusOK)
	if err := app.srv.Usage().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	m.owner.file(m.res, "Production")
	queue := app.adminClient().get("/admin/requests")
	wantStatus(t, queue, http.StatusOK)
	// One test shipment was seeded and three created through the API; four calls were made.
	wantContains(t, queue.Body, "1 test key ·", "4 test shipments", "4 test API calls")
}

// TestPermissionsPanelIsWhatTheAPIEnforces walks every kind of key through
// every permission of the catalog: the eye icon's panel says "Granted"
// exactly when /v1 lets the key call an endpoint that needs the permission.
func TestPermissionsPanelIsWhatTheAPIEnforces(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	kinds := []struct {
		name string
		key  keyport.NewKey
	}{
		{"secret full", keyport.NewKey{}},
		{"legacy secret", keyport.NewKey{Legacy: true}},
		{"secret restricted to everything", keyport.NewKey{Access: keyport.AccessRestricted,
			Permissions: []string{"couriers:read", "rates:read", "tracking:read", "shipments:read", "shipments:write"}}},
		{"publishable", keyport.NewKey{Type: keyport.KeyPublishable, Access: keyport.AccessRestricted, Permissions: keyport.PermissionCatalog.Public()}},
		{"publishable with couriers only", keyport.NewKey{Type: keyport.KeyPublishable, Access: keyport.AccessRestricted, Permissions: []string{"couriers:read"}}},
		{"publishable holding a secret permission", keyport.NewKey{Type: keyport.KeyPublishable, Access: keyport.AccessRestricted,
			Permissions: []string{"couriers:read", "shipments:read"}}},
		{"publishable full", keyport.NewKey{Type: keyport.KeyPublishable, Access: keyport.AccessFull}},
	}
	for _, p := range keyport.PermissionCatalog {
		kinds = append(kinds, struct {
			name string
			key  keyport.NewKey
		}{"secret restricted to " + p.Name, keyport.NewKey{Access: keyport.AccessRestricted, Permissions: []string{p.Name}}})
	}
	endpointOf := map[string]keyport.Endpoint{}
	for _, e := range keyport.APIEndpoints {
		if _, ok := endpointOf[e.Permission]; !ok && !strings.HasSuffix(e.Path, "/cancel") {
			endpointOf[e.Permission] = e
		}
	}
	row := regexp.MustCompile(`<code class="mono">([a-z]+:[a-z]+)</code></td><td data-label="What it allows">[^<]*</td><td data-label="Granted"><span class="badge [a-z-]+">(Granted|Not granted)</span>`)
	for _, kind := range kinds {
		t.Run(kind.name, func(t *testing.T) {
			kind.key.Name = kind.name
			plaintext := app.newKey(m.res, kind.key)
			var id int64
			if err := app.db.SQL().QueryRow(`SELECT max(id) FROM api_keys`).Scan(&id); err != nil {
				t.Fatal(err)
			}
			panel := m.owner.get(fmt.Sprintf("/secrets/%d", id))
			wantStatus(t, panel, http.StatusOK)
			shown := map[string]bool{}
			for _, match := range row.FindAllStringSubmatch(panel.Body, -1) {
				shown[match[1]] = match[2] == "Granted"
			}
			if len(shown) != len(keyport.PermissionCatalog) {
				t.Fatalf("panel lists %d permissions, want %d", len(shown), len(keyport.PermissionCatalog))
			}
			for _, p := range keyport.PermissionCatalog {
				e, ok := endpointOf[p.Name]
				if !ok {
					t.Fatalf("no endpoint needs %s", p.Name)
				}
				r := app.api(e.Method, app.endpointPath(e, m), plaintext, e.Request)
				if r.Code == http.StatusUnauthorized || r.Code >= 500 {
					t.Fatalf("%s %s: %d %s", e.Method, e.Path, r.Code, r.Body)
				}
				if allowed := r.Code != http.StatusForbidden; allowed != shown[p.Name] {
					t.Errorf("%s: panel says granted=%v, /v1 %s %s answered %d", p.Name, shown[p.Name], e.Method, e.Path, r.Code)
				}
			}
		})
	}
}

// TestAPIMethodsOnKnownPaths checks the HTTP answers to methods: HEAD beside
// every GET answers as GET without a body, OPTIONS lists the methods, and
// another method on an endpoint's path is 405 with Allow, while an unknown
// path stays 404.
func TestAPIMethodsOnKnownPaths(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	cases := []struct {
		method, path string
		status       int
		allow        string
		body         bool
	}{
		{"HEAD", "/v1/couriers", 200, "", false},
		{"HEAD", "/v1/shipments", 200, "", false},
		{"HEAD", "/v1/shipments/999", 404, "", false},
		{"OPTIONS", "/v1/shipments", 204, "GET, HEAD, POST, OPTIONS", false},
		{"OPTIONS", "/v1/rates", 204, "POST, OPTIONS", false},
		{"DELETE", "/v1/shipments", 405, "GET, HEAD, POST, OPTIONS", true},
		{"PUT", "/v1/shipments/42", 405, "GET, HEAD, OPTIONS", true},
		{"GET", "/v1/shipments/42/cancel", 405, "POST, OPTIONS", true},
		{"GET", "/v1/rates", 405, "POST, OPTIONS", true},
		{"DELETE", "/v1/parcels", 404, "", true},
		{"GET", "/v1/shipments/", 404, "", true},
	}
	for _, tc := range cases {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			r := app.api(tc.method, tc.path, m.key, "")
			wantStatus(t, r, tc.status)
			if got := r.Header.Get("Allow"); got != tc.allow {
				t.Fatalf("Allow %q, want %q", got, tc.allow)
			}
			if (r.Body != "") != tc.body {
				t.Fatalf("body %q", r.Body)
			}
			if tc.status == 405 {
				wantContains(t, r.Body, `"error": "method_not_allowed"`)
			}
		})
	}
	get := app.api("GET", "/v1/couriers", m.key, "")
	head := app.api("HEAD", "/v1/couriers", m.key, "")
	if head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
		t.Fatalf("HEAD Content-Type %q, GET %q", head.Header.Get("Content-Type"), get.Header.Get("Content-Type"))
	}
	if r := app.api("HEAD", "/v1/couriers", "", ""); r.Code != 401 || r.Body != "" {
		t.Fatalf("HEAD without a key: %d %q", r.Code, r.Body)
	}
}
