package web

import (
	"bytes"
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport"
	"keyport/store"
	"keyport/store/storetest"
)

// testApp is the real Echo app on a fresh SQLite database in a temp dir.
type testApp struct {
	t   testing.TB
	db  *store.DB
	srv *Server
	// now is the clock of the database and the server; tests move it.
	now time.Time
	mu  sync.Mutex
	// logs holds everything the server logged.
	logs *syncBuffer
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newTestApp(t testing.TB) *testApp {
	t.Helper()
	target := storetest.Target(t)
	if !storetest.OnPostgres() {
		migrated, err := migratedSQLite()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(target, migrated, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return openTestApp(t, target)
}

// migratedSQLite is a SQLite database with every migration applied, made once
// per test binary: newTestApp starts each test from a copy of it rather than
// migrating from nothing, which the store's tests cover.
var migratedSQLite = sync.OnceValues(func() ([]byte, error) {
	dir, err := os.MkdirTemp("", "keyport-migrated-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	db, err := store.Open(filepath.Join(dir, "migrating.db"), store.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		return nil, err
	}
	file := filepath.Join(dir, "migrated.db")
	if _, err := db.Backup(context.Background(), file); err != nil {
		return nil, err
	}
	return os.ReadFile(file)
})

// openTestApp is newTestApp on the database at target (a SQLite file or a
// PostgreSQL URL), which may already hold data.
func openTestApp(t testing.TB, target string) *testApp {
	t.Helper()
	sealer, err := keyport.NewSealer(bytes.Repeat([]byte{9}, keyport.EncryptionKeySize))
	if err != nil {
		t.Fatal(err)
	}
	app := &testApp{t: t, now: time.Now(), logs: &syncBuffer{}}
	db, err := store.Open(target, store.Options{Now: app.clock, Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	app.db = db
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	app.setTwoFactorPolicy(keyport.TwoFactorOptional)
	app.srv = New(db, app.config())
	return app
}

// setTwoFactorPolicy sets who must use two-factor authentication, without an
// audit event. Test apps start with it optional, so that admins sign in with
// a password as the tests of other features expect; the tests of the policy
// set it, the default included.
func (a *testApp) setTwoFactorPolicy(p keyport.TwoFactorPolicy) {
	a.t.Helper()
	if _, err := a.db.SQL().Exec(`INSERT INTO settings (name, value) VALUES ('two_factor_policy', $1)
		ON CONFLICT (name) DO UPDATE SET value = excluded.value`, string(p)); err != nil {
		a.t.Fatal(err)
	}
}

// config is the Config of a test app's server.
func (a *testApp) config() Config {
	base, _ := url.Parse("http://example.test")
	return Config{
		BaseURL:         base,
		SessionKey:      []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"),
		IdleTimeout:     30 * time.Minute,
		SessionLifetime: 12 * time.Hour,
		Logger:          slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		PasswordCost:    keyport.MinimalPasswordCost,
		// Tests run their webhook receivers on loopback, over http.
		WebhookAllowHTTP:    true,
		WebhookAllowPrivate: true,
	}
}

// newMetricsApp is newTestApp with the Prometheus metrics on.
func newMetricsApp(t testing.TB) *testApp {
	t.Helper()
	app := newTestApp(t)
	cfg := app.config()
	cfg.Metrics = true
	app.srv = New(app.db, cfg)
	return app
}

func (a *testApp) clock() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.now
}

func (a *testApp) advance(d time.Duration) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.now = a.now.Add(d)
}

var passwordHashOnce = sync.OnceValue(func() string {
	h, err := keyport.MinimalPasswordCost.Hash(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

const testPassword = "correct-horse-staple-42"

// signupMerchant creates a merchant with its Owner directly in the store.
func (a *testApp) signupMerchant(merchant, email string) store.SignupResult {
	a.t.Helper()
	res, err := a.db.CreateSignup(context.Background(), keyport.Signup{MerchantName: merchant, Name: "Owner of " + merchant, Email: email}, passwordHashOnce(), "127.0.0.1")
	if err != nil {
		a.t.Fatal(err)
	}
	return res
}

func (a *testApp) createAdmin(email string) keyport.User {
	a.t.Helper()
	u, err := a.db.CreateAdmin(context.Background(), "Admin", email, passwordHashOnce())
	if err != nil {
		a.t.Fatal(err)
	}
	return u
}

// client is a browser-like client of the app: it keeps cookies and the CSRF token.
type client struct {
	app  *testApp
	jar  http.CookieJar
	csrf string
}

func (a *testApp) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{app: a, jar: jar}
}

var testBase, _ = url.Parse("http://example.test/")

// response is a finished request.
type response struct {
	Code   int
	Header http.Header
	Body   string
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func (c *client) do(req *http.Request) response {
	c.app.t.Helper()
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	if req.RemoteAddr == "" || req.RemoteAddr == "192.0.2.1:1234" {
		req.RemoteAddr = "203.0.113.7:5555"
	}
	rec := httptest.NewRecorder()
	c.app.serve(rec, req)
	res := rec.Result()
	c.jar.SetCookies(req.URL, res.Cookies())
	body, _ := io.ReadAll(res.Body)
	if m := csrfInput.FindSubmatch(body); m != nil {
		c.csrf = string(m[1])
	}
	if req.Method == http.MethodPost && changesSession(req, res) {
		c.learnToken(res)
	}
	return response{Code: res.StatusCode, Header: res.Header, Body: string(body)}
}

// changesSession reports whether a response starts or ends a session: it sets
// the session cookie to a value other than the one sent.
func changesSession(req *http.Request, res *http.Response) bool {
	for _, ck := range res.Cookies() {
		if strings.HasSuffix(ck.Name, "keyport_session") {
			sent, err := req.Cookie(ck.Name)
			return err != nil || sent.Value != ck.Value
		}
	}
	return false
}

// learnToken loads the page a response sends the browser to, as a browser
// would, to learn the CSRF token of the new session (a token is bound to its
// session). The flash cookie stays out of it, so the test still sees the
// notice on the page it loads itself.
func (c *client) learnToken(res *http.Response) {
	to := res.Header.Get("Location")
	if to == "" {
		to = res.Header.Get("HX-Redirect")
	}
	if !strings.HasPrefix(to, "/") {
		to = "/login"
	}
	req := httptest.NewRequest(http.MethodGet, "http://example.test"+to, nil)
	req.RemoteAddr = "203.0.113.7:5555"
	for _, ck := range c.jar.Cookies(req.URL) {
		if !strings.HasSuffix(ck.Name, "keyport_flash") {
			req.AddCookie(ck)
		}
	}
	rec := httptest.NewRecorder()
	c.app.serve(rec, req)
	var keep []*http.Cookie
	for _, ck := range rec.Result().Cookies() {
		if !strings.HasSuffix(ck.Name, "keyport_flash") {
			keep = append(keep, ck)
		}
	}
	c.jar.SetCookies(req.URL, keep)
	if m := csrfInput.FindSubmatch(rec.Body.Bytes()); m != nil {
		c.csrf = string(m[1])
	}
}

func (c *client) get(path string) response {
	c.app.t.Helper()
	return c.do(httptest.NewRequest(http.MethodGet, testBase.ResolveReference(&url.URL{Path: path}).String(), nil))
}

func (c *client) getURL(rawURL string) response {
	c.app.t.Helper()
	return c.do(httptest.NewRequest(http.MethodGet, "http://example.test"+rawURL, nil))
}

// post sends a form with the client's CSRF token (fetched from the login page when it has none).
func (c *client) post(path string, form url.Values) response {
	c.app.t.Helper()
	if c.csrf == "" {
		c.get("/login")
	}
	if form == nil {
		form = url.Values{}
	}
	if form.Get("_csrf") == "" {
		form.Set("_csrf", c.csrf)
	}
	return c.postRaw(path, form)
}

func (c *client) postRaw(path string, form url.Values) response {
	c.app.t.Helper()
	req := httptest.NewRequest(http.MethodPost, "http://example.test"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// htmxPost is post as htmx sends it: the token in the header.
func (c *client) htmxPost(path string, form url.Values) response {
	c.app.t.Helper()
	if c.csrf == "" {
		c.get("/login")
	}
	req := httptest.NewRequest(http.MethodPost, "http://example.test"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("HX-Request", "true")
	req.Header.Set("X-CSRF-Token", c.csrf)
	return c.do(req)
}

func (c *client) htmxGet(path string) response {
	c.app.t.Helper()
	req := httptest.NewRequest(http.MethodGet, "http://example.test"+path, nil)
	req.Header.Set("HX-Request", "true")
	return c.do(req)
}

// sentToLogin reports whether res sends a signed-out browser to the login
// page that returns to path once signed in.
func sentToLogin(res response, path string) bool {
	return res.Code == http.StatusSeeOther && res.Header.Get("Location") == "/login?next="+url.QueryEscape(path)
}

// login signs the client in and fails the test if it cannot.
func (c *client) login(email string) {
	c.app.t.Helper()
	c.get("/login")
	res := c.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	if res.Code != http.StatusSeeOther {
		c.app.t.Fatalf("login %s: status %d\n%s", email, res.Code, res.Body)
	}
}

func (a *testApp) count(query string, args ...any) int {
	a.t.Helper()
	var n int
	if err := a.db.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		a.t.Fatal(err)
	}
	return n
}

func wantStatus(t testing.TB, res response, code int) {
	t.Helper()
	if res.Code != code {
		body := res.Body
		if len(body) > 1500 {
			body = body[:1500]
		}
		t.Fatalf("status %d, want %d\n%s", res.Code, code, body)
	}
}

func wantContains(t testing.TB, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Fatalf("body lacks %q", p)
		}
	}
}

func newFormRequest(path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, "http://example.test"+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

var pagerLinks = regexp.MustCompile(`href="([^"]*)" rel="(prev|next)"`)

// pagerLink returns the unescaped href of the page's rel="prev" or rel="next"
// link, or "" when the page has none.
func pagerLink(body, rel string) string {
	for _, m := range pagerLinks.FindAllStringSubmatch(body, -1) {
		if m[2] == rel {
			return html.UnescapeString(m[1])
		}
	}
	return ""
}

// fileLiveRequest files a live key request named name for the merchant's
// first account as its Owner, straight through the store, and returns its id.
func (a *testApp) fileLiveRequest(res store.SignupResult, name string) int64 {
	a.t.Helper()
	in := keyport.LiveKeyRequestInput{TokenName: name, IntendedUse: "Buy labels for the orders of our web shop.",
		Website: "https://acme.example", MonthlyShipments: "800"}
	req, err := a.db.FileRequest(context.Background(), keyport.UserActor(&res.Owner, ""), res.Merchant.ID, res.Account.ID, in, 800)
	if err != nil {
		a.t.Fatal(err)
	}
	return req.ID
}
