package web

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/andybalholm/brotli"

	"keyport"
	"keyport/static"
)

// staticAssets are the text files the static handler serves compressed.
var staticAssets = []string{"app.css", "app.js", static.HTMX, "favicon.svg"}

// decode undoes a content coding.
func decode(t *testing.T, coding string, body []byte) []byte {
	t.Helper()
	var r io.Reader
	switch coding {
	case "":
		return body
	case "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		r = zr
	case "br":
		r = brotli.NewReader(bytes.NewReader(body))
	default:
		t.Fatalf("unknown coding %q", coding)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("decode %s: %v", coding, err)
	}
	return out
}

func varies(h http.Header) bool {
	return strings.Contains(strings.Join(h.Values("Vary"), ","), "Accept-Encoding")
}

func TestStaticFilesAreServedInTheCodingTheClientAccepts(t *testing.T) {
	app := newTestApp(t)
	cases := []struct {
		accept, want string
	}{
		{"gzip", "gzip"},
		{"br", "br"},
		{"gzip, deflate, br", "br"},
		{"gzip, deflate, br, zstd", "br"},
		{"br;q=0.5, gzip", "gzip"},
		{"BR;q=0.9, gzip;q=0.8", "br"},
		{"br;q=0, gzip", "gzip"},
		{"*", "br"},
		{"br;q=0, *", "gzip"},
		{"gzip;q=0", ""},
		{"gzip;q=0, br;q=0", ""},
		{"*;q=0", ""},
		{"identity", ""},
		{"deflate", ""},
		{"", ""},
	}
	for _, name := range staticAssets {
		original, err := static.FS.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		plain := app.send(http.MethodGet, "/static/"+name, nil)
		baseTag := plain.Header().Get("ETag")
		if plain.Code != http.StatusOK || !strings.HasPrefix(baseTag, `"`) || strings.HasPrefix(baseTag, "W/") {
			t.Fatalf("%s: status %d, ETag %q", name, plain.Code, baseTag)
		}
		for _, tc := range cases {
			t.Run(name+" "+tc.accept, func(t *testing.T) {
				header := map[string]string{}
				if tc.accept != "" {
					header["Accept-Encoding"] = tc.accept
				}
				rec := app.send(http.MethodGet, "/static/"+name, header)
				if rec.Code != http.StatusOK {
					t.Fatalf("status %d", rec.Code)
				}
				h := rec.Header()
				if got := h.Get("Content-Encoding"); got != tc.want {
					t.Fatalf("Content-Encoding %q, want %q", got, tc.want)
				}
				if !varies(h) {
					t.Fatalf("Vary %q lacks Accept-Encoding", h.Values("Vary"))
				}
				if got := h.Get("Content-Length"); got != strconv.Itoa(rec.Body.Len()) {
					t.Fatalf("Content-Length %s for %d bytes", got, rec.Body.Len())
				}
				if !strings.HasPrefix(h.Get("Content-Type"), mimeOf(name)) {
					t.Fatalf("Content-Type %q", h.Get("Content-Type"))
				}
				wantTag := baseTag
				if tc.want != "" {
					wantTag = strings.TrimSuffix(baseTag, `"`) + map[string]string{"gzip": "-gz", "br": "-br"}[tc.want] + `"`
					if rec.Body.Len() >= len(original) {
						t.Fatalf("%s answered %d bytes for %d", tc.want, rec.Body.Len(), len(original))
					}
				}
				if got := h.Get("ETag"); got != wantTag {
					t.Fatalf("ETag %q, want %q", got, wantTag)
				}
				if !bytes.Equal(decode(t, tc.want, rec.Body.Bytes()), original) {
					t.Fatal("the decoded answer differs from the file")
				}
			})
		}
	}
}

func mimeOf(name string) string {
	switch {
	case strings.HasSuffix(name, ".css"):
		return "text/css"
	case strings.HasSuffix(name, ".js"):
		return "text/javascript"
	}
	return "image/svg+xml"
}

func TestStaticFilesRevalidatePerCoding(t *testing.T) {
	app := newTestApp(t)
	path := "/static/app.css"
	tags := map[string]string{}
	for _, coding := range []string{"", "gzip", "br"} {
		rec := app.send(http.MethodGet, path, map[string]string{"Accept-Encoding": coding})
		tags[coding] = rec.Header().Get("ETag")
	}
	if tags[""] == tags["gzip"] || tags[""] == tags["br"] || tags["gzip"] == tags["br"] {
		t.Fatalf("codings share an ETag: %v", tags)
	}
	for _, coding := range []string{"", "gzip", "br"} {
		t.Run("coding "+coding, func(t *testing.T) {
			for _, method := range []string{http.MethodGet, http.MethodHead} {
				rec := app.send(method, path, map[string]string{"Accept-Encoding": coding, "If-None-Match": tags[coding]})
				h := rec.Header()
				if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
					t.Fatalf("%s with its ETag: status %d, %d bytes", method, rec.Code, rec.Body.Len())
				}
				if h.Get("ETag") != tags[coding] || !varies(h) || h.Get("Content-Encoding") != "" {
					t.Fatalf("%s 304: ETag %q, Vary %q, Content-Encoding %q", method, h.Get("ETag"), h.Values("Vary"), h.Get("Content-Encoding"))
				}
			}
			for other, tag := range tags {
				if other == coding {
					continue
				}
				rec := app.send(http.MethodGet, path, map[string]string{"Accept-Encoding": coding, "If-None-Match": tag})
				if rec.Code != http.StatusOK || rec.Header().Get("Content-Encoding") != coding {
					t.Fatalf("the ETag of %q answered %d, Content-Encoding %q", other, rec.Code, rec.Header().Get("Content-Encoding"))
				}
			}
			full := app.send(http.MethodGet, path, map[string]string{"Accept-Encoding": coding})
			head := app.send(http.MethodHead, path, map[string]string{"Accept-Encoding": coding})
			if head.Code != http.StatusOK || head.Body.Len() != 0 {
				t.Fatalf("HEAD: status %d, %d bytes", head.Code, head.Body.Len())
			}
			for _, name := range []string{"Content-Encoding", "Content-Length", "Content-Type", "ETag", "Cache-Control"} {
				if head.Header().Get(name) != full.Header().Get(name) {
					t.Fatalf("HEAD %s %q, GET %q", name, head.Header().Get(name), full.Header().Get(name))
				}
			}
		})
	}
}

func TestVersionedStaticFilesStayImmutableInEveryCoding(t *testing.T) {
	app := newTestApp(t)
	for _, coding := range []string{"", "gzip", "br"} {
		rec := app.send(http.MethodGet, static.Path(static.HTMX), map[string]string{"Accept-Encoding": coding})
		if got := rec.Header().Get("Cache-Control"); rec.Code != http.StatusOK || got != "public, max-age=31536000, immutable" {
			t.Fatalf("%q: status %d, Cache-Control %q", coding, rec.Code, got)
		}
		if rec.Header().Get("Content-Encoding") != coding {
			t.Fatalf("%q: Content-Encoding %q", coding, rec.Header().Get("Content-Encoding"))
		}
	}
	if got := app.send(http.MethodGet, "/static/nothing.css", map[string]string{"Accept-Encoding": "gzip"}); got.Code != http.StatusNotFound {
		t.Fatalf("unknown file: status %d", got.Code)
	}
}

func TestOnlyTheAPIAndStaticFilesAreCompressible(t *testing.T) {
	for path, want := range map[string]bool{
		"/v1/shipments": true, "/v1/openapi.json": true, "/static/app.css": true,
		"/": false, "/login": false, "/accounts": false, "/accounts/1/keys": false, "/accounts/1/auths/2/reveal": false,
		"/settings/two-factor/recovery-codes": false, "/webhooks": false, "/docs/api": false, "/healthz": false, "/v1x": false,
	} {
		if got := compressible(path); got != want {
			t.Errorf("compressible(%q) = %v, want %v", path, got, want)
		}
	}
}

// sendAcceptingCompression sends a request as c, as a browser that accepts
// every compression does; a POST carries the form and the CSRF token.
func (c *client) sendAcceptingCompression(method, path string, form url.Values, htmx bool) response {
	c.app.t.Helper()
	if c.csrf == "" {
		c.get("/login")
	}
	var body io.Reader
	if method == http.MethodPost {
		form.Set("_csrf", c.csrf)
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://example.test"+path, body)
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if htmx {
		req.Header.Set("HX-Request", "true")
	}
	req.Header.Set("Accept-Encoding", "gzip, deflate, br")
	return c.do(req)
}

// TestPagesThatRevealSecretsAreNeverCompressed walks the answers that show a
// secret once, from a browser that accepts every compression: a compressed
// page holding a secret beside text an attacker controls leaks the secret
// through its length (BREACH), so none of them may be compressed.
func TestPagesThatRevealSecretsAreNeverCompressed(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	authID := owner.registerDPD(res, "Acme Ltd")
	app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	secret, _ := app.enableTwoFactor("dev@acme.test")
	dev := app.client()
	dev.passwordStep("dev@acme.test")
	wantStatus(t, dev.post("/login/code", url.Values{"code": {app.totpCode(secret)}}), http.StatusSeeOther)

	n := 0
	cases := []struct {
		name   string
		c      *client
		method string
		path   string
		form   func() url.Values
		shows  string
	}{
		{"a new key", owner, http.MethodPost, keysPath(res), func() url.Values {
			n++
			return url.Values{"name": {fmt.Sprintf("CI %d", n)}, "expiry": {"never"}}
		}, "sk_test_"},
		{"a new API account's first secret", owner, http.MethodPost, "/accounts", func() url.Values {
			n++
			return url.Values{"name": {fmt.Sprintf("Warehouse %d", n)}}
		}, "sk_test_"},
		{"a revealed courier secret", owner, http.MethodPost, fmt.Sprintf("%s/auths/%d/reveal", accountPath(res), authID), func() url.Values {
			return url.Values{"field": {"password"}}
		}, "Secret-DPD-pass-77"},
		{"new recovery codes", dev, http.MethodPost, "/settings/two-factor/recovery-codes", func() url.Values { return url.Values{} }, "Save these codes now"},
		{"a webhook signing secret", owner, http.MethodPost, "/webhooks", func() url.Values {
			n++
			return webhookForm(fmt.Sprintf("https://hooks.acme.test/%d", n))
		}, "whsec_"},
	}
	for _, tc := range cases {
		for _, htmx := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s, htmx %v", tc.name, htmx), func(t *testing.T) {
				form := url.Values{}
				if tc.form != nil {
					form = tc.form()
				}
				r := tc.c.sendAcceptingCompression(tc.method, tc.path, form, htmx)
				wantStatus(t, r, http.StatusOK)
				wantContains(t, r.Body, tc.shows)
				if got := r.Header.Get("Content-Encoding"); got != "" {
					t.Fatalf("a page showing a secret is sent with Content-Encoding %q", got)
				}
			})
		}
	}
	for _, path := range []string{"/accounts", keysPath(res), accountPath(res) + "/auths", "/webhooks", "/settings", "/login?next=%2Faccounts"} {
		if r := owner.sendAcceptingCompression(http.MethodGet, path, nil, false); r.Header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s: Content-Encoding %q", path, r.Header.Get("Content-Encoding"))
		}
	}
}
