package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"keyport"
)

// send serves one request with the given headers and returns the recorder.
func (a *testApp) send(method, path string, header map[string]string) *httptest.ResponseRecorder {
	a.t.Helper()
	req := httptest.NewRequest(method, "http://example.test"+path, nil)
	for name, value := range header {
		req.Header.Set(name, value)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	a.serve(rec, req)
	return rec
}

func TestAcceptsGzip(t *testing.T) {
	tests := []struct {
		header string
		want   bool
	}{
		{"gzip", true},
		{"gzip, deflate, br", true},
		{"br;q=1.0, GZIP;q=0.5", true},
		{"gzip;q=0.05", true},
		{"*", true},
		{"", false},
		{"identity", false},
		{"br", false},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"*;q=0", false},
		{"*;q=0, gzip", true},
		{"gzip;q=0, *", false},
		{"x-gzip", false},
	}
	for _, tt := range tests {
		if got := acceptsGzip(tt.header); got != tt.want {
			t.Errorf("acceptsGzip(%q) = %v, want %v", tt.header, got, tt.want)
		}
	}
}

func TestAPIAnswersAreGzippedWhenAsked(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	app.addShipments(m.res, keyport.ModeTest, 99)
	auth := "Bearer " + m.key
	plain := app.send("GET", "/v1/shipments?limit=100", map[string]string{"Authorization": auth})
	wantStatus(t, response{Code: plain.Code, Body: plain.Body.String()}, http.StatusOK)
	if plain.Body.Len() < 10_000 || plain.Header().Get("Content-Encoding") != "" {
		t.Fatalf("uncompressed answer: %d bytes, encoding %q", plain.Body.Len(), plain.Header().Get("Content-Encoding"))
	}
	tests := []struct {
		name, method, path, accept string
		gzipped                    bool
	}{
		{"large list, gzip asked", "GET", "/v1/shipments?limit=100", "gzip, deflate", true},
		{"large list, gzip refused", "GET", "/v1/shipments?limit=100", "gzip;q=0", false},
		{"large list, nothing asked", "GET", "/v1/shipments?limit=100", "", false},
		{"small answer", "GET", "/v1/shipments?limit=1", "gzip", false},
		{"error answer", "GET", "/v1/shipments/999999", "gzip", false},
		{"HEAD of a large list", "HEAD", "/v1/shipments?limit=100", "gzip", false},
		{"a page", "GET", "/login", "gzip", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{"Authorization": auth}
			if tt.accept != "" {
				header["Accept-Encoding"] = tt.accept
			}
			rec := app.send(tt.method, tt.path, header)
			if got := rec.Header().Get("Content-Encoding") == "gzip"; got != tt.gzipped {
				t.Fatalf("gzipped %v, want %v (status %d)", got, tt.gzipped, rec.Code)
			}
			if strings.HasPrefix(tt.path, "/v1/") && tt.method == "GET" && !strings.Contains(strings.Join(rec.Header().Values("Vary"), ","), "Accept-Encoding") {
				t.Fatalf("Vary %q lacks Accept-Encoding", rec.Header().Values("Vary"))
			}
			if !tt.gzipped {
				return
			}
			zr, err := gzip.NewReader(rec.Body)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(body, plain.Body.Bytes()) {
				t.Fatal("the gzipped answer differs from the plain one")
			}
			if rec.Body.Len() >= plain.Body.Len()/3 {
				t.Fatalf("gzip answered %d bytes for %d", rec.Body.Len(), plain.Body.Len())
			}
		})
	}
}

func TestCourierCatalogRevalidatesWithItsETag(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	auth := "Bearer " + m.key
	first := app.send("GET", "/v1/couriers", map[string]string{"Authorization": auth})
	etag := first.Header().Get("ETag")
	if first.Code != http.StatusOK || !strings.HasPrefix(etag, `W/"`) || first.Header().Get("Cache-Control") != "private, max-age=300" {
		t.Fatalf("status %d, ETag %q, Cache-Control %q", first.Code, etag, first.Header().Get("Cache-Control"))
	}
	tests := []struct {
		name, auth, ifNoneMatch string
		status                  int
	}{
		{"same ETag", auth, etag, http.StatusNotModified},
		{"strong form of the ETag", auth, strings.TrimPrefix(etag, "W/"), http.StatusNotModified},
		{"in a list", auth, `"other", ` + etag, http.StatusNotModified},
		{"any", auth, "*", http.StatusNotModified},
		{"another ETag", auth, `W/"0123"`, http.StatusOK},
		{"no key", "", etag, http.StatusUnauthorized},
		{"unknown key", "Bearer sk_test_nope", etag, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := map[string]string{"If-None-Match": tt.ifNoneMatch}
			if tt.auth != "" {
				header["Authorization"] = tt.auth
			}
			rec := app.send("GET", "/v1/couriers", header)
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d", rec.Code, tt.status)
			}
			switch tt.status {
			case http.StatusNotModified:
				if rec.Body.Len() != 0 || rec.Header().Get("ETag") != etag {
					t.Fatalf("304 with %d bytes, ETag %q", rec.Body.Len(), rec.Header().Get("ETag"))
				}
			case http.StatusOK:
				if rec.Body.String() != first.Body.String() {
					t.Fatal("the catalog changed")
				}
			default:
				if rec.Header().Get("ETag") != "" || rec.Header().Get("Cache-Control") != "no-store" {
					t.Fatalf("a refusal carries ETag %q, Cache-Control %q", rec.Header().Get("ETag"), rec.Header().Get("Cache-Control"))
				}
			}
		})
	}
	for _, path := range []string{"/v1/shipments", "/v1/tracking/none"} {
		if cc := app.send("GET", path, map[string]string{"Authorization": auth}).Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q, want no-store", path, cc)
		}
	}
}

// postAPI sends a JSON POST to /v1 with key and the extra headers.
func (a *testApp) postAPI(path, key, body string, header map[string]string) response {
	a.t.Helper()
	req := httptest.NewRequest("POST", "http://example.test"+path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+key)
	for name, value := range header {
		req.Header.Set(name, value)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	rec := httptest.NewRecorder()
	a.serve(rec, req)
	res := rec.Result()
	return response{Code: res.StatusCode, Header: res.Header, Body: rec.Body.String()}
}

func TestAPIIdempotencyKeyReplaysTheFirstAnswer(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	other := app.newKey(m.res, keyport.NewKey{Name: "Other"})
	shipments := func() int { return app.count(`SELECT count(*) FROM shipments`) }
	var toCancel struct{ ID int64 }
	wantJSON(t, app.api("POST", "/v1/shipments", m.key, shipmentBody), http.StatusCreated, &toCancel)
	before := shipments()
	cancelPath := "/v1/shipments/" + itoa(toCancel.ID) + "/cancel"
	other2 := strings.Replace(shipmentBody, `"weight_grams": 1800`, `"weight_grams": 1900`, 1)
	steps := []struct {
		name, path, key, idem, body string
		status                      int
		replayed                    bool
		sameAs                      string
		created                     int
		errorCode                   string
	}{
		{"first shipment", "/v1/shipments", m.key, "order-1", shipmentBody, 201, false, "", 1, ""},
		{"retried", "/v1/shipments", m.key, "order-1", shipmentBody, 201, true, "first shipment", 0, ""},
		{"retried again", "/v1/shipments", m.key, "order-1", shipmentBody, 201, true, "first shipment", 0, ""},
		{"same key, another body", "/v1/shipments", m.key, "order-1", other2, 422, false, "", 0, "idempotency_key_reused"},
		{"same key, another endpoint", "/v1/rates", m.key, "order-1", rateBody, 422, false, "", 0, "idempotency_key_reused"},
		{"same key string, another API key", "/v1/shipments", other, "order-1", shipmentBody, 201, false, "", 1, ""},
		{"no key: a new shipment each time", "/v1/shipments", m.key, "", shipmentBody, 201, false, "", 1, ""},
		{"a refused request stores nothing", "/v1/shipments", m.key, "order-2", strings.Replace(shipmentBody, `"dpd"`, `"pigeon"`, 1), 400, false, "", 0, "invalid_request"},
		{"so the key still works", "/v1/shipments", m.key, "order-2", shipmentBody, 201, false, "", 1, ""},
		{"a key with a space", "/v1/shipments", m.key, "order 3", shipmentBody, 400, false, "", 0, "invalid_request"},
		{"a key too long", "/v1/shipments", m.key, strings.Repeat("k", 256), shipmentBody, 400, false, "", 0, "invalid_request"},
		{"rates", "/v1/rates", m.key, "quote-1", rateBody, 200, false, "", 0, ""},
		{"rates retried", "/v1/rates", m.key, "quote-1", rateBody, 200, true, "rates", 0, ""},
		{"cancel", cancelPath, m.key, "cancel-1", "", 200, false, "", 0, ""},
		{"cancel retried gets the same answer", cancelPath, m.key, "cancel-1", "", 200, true, "cancel", 0, ""},
		{"cancel without a key", cancelPath, m.key, "", "", 409, false, "", 0, "shipment_not_cancellable"},
	}
	bodies := map[string]string{}
	for _, s := range steps {
		header := map[string]string{}
		if s.idem != "" {
			header["Idempotency-Key"] = s.idem
		}
		count := shipments()
		r := app.postAPI(s.path, s.key, s.body, header)
		if r.Code != s.status {
			t.Fatalf("%s: status %d, want %d\n%s", s.name, r.Code, s.status, r.Body)
		}
		if got := r.Header.Get("Idempotent-Replayed") == "true"; got != s.replayed {
			t.Fatalf("%s: replayed %v, want %v", s.name, got, s.replayed)
		}
		if s.sameAs != "" && r.Body != bodies[s.sameAs] {
			t.Fatalf("%s: answered %s, the first answer was %s", s.name, r.Body, bodies[s.sameAs])
		}
		if s.errorCode != "" && !strings.Contains(r.Body, `"error": "`+s.errorCode+`"`) {
			t.Fatalf("%s: %s, want error %s", s.name, r.Body, s.errorCode)
		}
		if s.errorCode == "idempotency_key_reused" || strings.HasPrefix(s.name, "a key ") {
			if !strings.Contains(r.Body, `"field": "Idempotency-Key"`) {
				t.Fatalf("%s: %s does not name the header", s.name, r.Body)
			}
		}
		if got := shipments() - count; got != s.created {
			t.Fatalf("%s: %d shipments created, want %d", s.name, got, s.created)
		}
		bodies[s.name] = r.Body
	}
	if got := shipments() - before; got != 4 {
		t.Fatalf("%d shipments in all, want 4", got)
	}
}

func TestPurgeStoredAnswersDropsThoseOutOfTheWindow(t *testing.T) {
	app := newTestApp(t)
	m := app.apiMerchant("Acme")
	for _, key := range []string{"old-1", "old-2"} {
		wantStatus(t, app.postAPI("/v1/rates", m.key, rateBody, map[string]string{"Idempotency-Key": key}), http.StatusOK)
	}
	app.advance(keyport.IdempotencyWindow)
	wantStatus(t, app.postAPI("/v1/rates", m.key, rateBody, map[string]string{"Idempotency-Key": "new"}), http.StatusOK)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		app.srv.PurgeStoredAnswers(ctx, time.Hour)
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); app.count(`SELECT count(*) FROM idempotency_keys`) != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d stored answers left, want the new one", app.count(`SELECT count(*) FROM idempotency_keys`))
		}
	}
	cancel()
	<-done
	if !strings.Contains(app.logs.String(), "stored answers purged") {
		t.Fatalf("logs: %s", app.logs.String())
	}
}

func TestSweepSessionsDeletesThosePastTheirLifetime(t *testing.T) {
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	old := app.client()
	old.login("owner@acme.test")
	app.advance(13 * time.Hour)
	current := app.client()
	current.login("owner@acme.test")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		app.srv.SweepSessions(ctx, time.Hour)
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); app.count(`SELECT count(*) FROM sessions`) != 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions left, want the current one", app.count(`SELECT count(*) FROM sessions`))
		}
	}
	cancel()
	<-done
	wantStatus(t, current.get("/accounts"), http.StatusOK)
	if !strings.Contains(app.logs.String(), "expired sessions deleted") {
		t.Fatalf("logs: %s", app.logs.String())
	}
}
