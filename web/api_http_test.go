package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

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
	a.srv.ServeHTTP(rec, req)
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
