package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
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
)

// lockedBuffer is a bytes.Buffer safe for the server goroutine and the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

var listening = regexp.MustCompile(`listening on (127\.0\.0\.1:\d+)`)

// servedKeyport is a "keyport serve" running in the test's process.
type servedKeyport struct {
	addr           string
	stdout, stderr *lockedBuffer
	cancel         context.CancelFunc
	done           chan int
}

// startServe runs "keyport serve" with args on a free port of 127.0.0.1 and
// waits until it listens; the test fails if it does not start.
func startServe(t *testing.T, args ...string) *servedKeyport {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &servedKeyport{stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, cancel: cancel, done: make(chan int, 1)}
	t.Cleanup(cancel)
	args = append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)
	go func() { s.done <- run(ctx, args, s.stdout, s.stderr) }()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := listening.FindStringSubmatch(s.stdout.String()); m != nil {
			s.addr = m[1]
			return s
		}
		select {
		case code := <-s.done:
			t.Fatalf("serve exited %d before listening:\n%s\n%s", code, s.stdout.String(), s.stderr.String())
		default:
		}
	}
	t.Fatalf("server did not start:\n%s\n%s", s.stdout.String(), s.stderr.String())
	return nil
}

// stop shuts the server down as a SIGTERM would and fails the test unless it exits 0.
func (s *servedKeyport) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	select {
	case code := <-s.done:
		if code != 0 {
			t.Fatalf("serve exited %d:\n%s", code, s.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not shut down")
	}
}

func TestServeFlushesEveryAPICallAtShutdown(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Owner", Email: "owner@acme.test"}, "x", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	key, err := db.CreateKey(ctx, keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "CI", Access: keyport.AccessFull})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()

	srv := startServe(t, "--data", dir, "--usage-flush", "10s")
	addr := srv.addr
	const calls = 25
	for i := 0; i < calls; i++ {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/v1/couriers", nil)
		req.Header.Set("Authorization", "Bearer "+key.Plaintext)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("call %d: status %d", i, r.StatusCode)
		}
	}
	srv.stop(t)

	db, err = store.Open(filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var count int64
	var ip string
	if err := db.SQL().QueryRow(`SELECT use_count, last_used_ip FROM api_keys WHERE id = $1`, key.Key.ID).Scan(&count, &ip); err != nil {
		t.Fatal(err)
	}
	if count != calls || ip != "127.0.0.1" {
		t.Fatalf("use count %d from %q after %d calls and a shutdown", count, ip, calls)
	}
	if s := srv.stderr.String(); bytes.Contains([]byte(s), []byte(key.Plaintext)) {
		t.Fatal("the key reached the logs")
	}
}

var metricsAt = regexp.MustCompile(`Prometheus metrics at http://(127\.0\.0\.1:\d+)/metrics`)

func TestServeMetricsOnTheirOwnAddressOnly(t *testing.T) {
	t.Parallel()
	srv := startServe(t, "--data", t.TempDir(), "--metrics-addr", "127.0.0.1:0")
	m := metricsAt.FindStringSubmatch(srv.stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where the metrics are:\n%s", srv.stdout.String())
	}
	get := func(url string) (int, string) {
		t.Helper()
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		body, _ := io.ReadAll(r.Body)
		return r.StatusCode, string(body)
	}
	if code, _ := get("http://" + srv.addr + "/v1/couriers"); code != http.StatusUnauthorized {
		t.Fatalf("GET /v1/couriers without a key: %d", code)
	}
	if code, body := get("http://" + srv.addr + "/metrics"); code == http.StatusOK || strings.Contains(body, "keyport_") {
		t.Fatalf("the portal's address serves metrics: %d\n%s", code, body)
	}
	code, body := get("http://" + m[1] + "/metrics")
	if code != http.StatusOK || !strings.Contains(body, `keyport_api_key_verifications_total{result="missing"} 1`) {
		t.Fatalf("metrics: %d\n%s", code, body)
	}
	for _, path := range []string{"/", "/login", "/v1/couriers"} {
		if code, _ := get("http://" + m[1] + path); code != http.StatusNotFound {
			t.Errorf("the metrics address answers %s with %d, want 404", path, code)
		}
	}
	srv.stop(t)
}

func TestDemoWithoutSMTPWritesEmailIntoTheDataDirectory(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv := startServe(t, "--data", dir, "--demo")
	mailDir := filepath.Join(dir, "mail")
	if !strings.Contains(srv.stdout.String(), "writes each email (invitations, password resets) as a file into "+mailDir) {
		t.Fatalf("serve --demo did not say where its email goes:\n%s", srv.stdout.String())
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	r, err := client.Get("http://" + srv.addr + "/password/forgot")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(r.Body)
	r.Body.Close()
	csrf := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(page)
	if csrf == nil {
		t.Fatalf("no CSRF token on the page:\n%s", page)
	}
	r, err = client.PostForm("http://"+srv.addr+"/password/forgot", url.Values{"_csrf": {string(csrf[1])}, "email": {demoMerchantEmail}})
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusOK {
		t.Fatalf("status %d", r.StatusCode)
	}
	var reset []byte
	for deadline := time.Now().Add(10 * time.Second); reset == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(mailDir, "*.eml"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err == nil && bytes.Contains(raw, []byte("Reset your Keyport password")) {
				reset = raw
			}
		}
	}
	if reset == nil {
		t.Fatalf("no reset email in %s", mailDir)
	}
	if !bytes.Contains(reset, []byte("To: <"+demoMerchantEmail+">")) || !bytes.Contains(reset, []byte("/password/reset?token=")) {
		t.Fatalf("the reset email is not addressed to the demo merchant or has no link:\n%s", reset)
	}
	srv.stop(t)
}
