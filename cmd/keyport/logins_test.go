package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// peakRSS returns the most resident memory the process has used, from /proc.
func peakRSS(t *testing.T, pid int) int64 {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kib << 10
		}
	}
	t.Fatal("no VmHWM in /proc status")
	return 0
}

// TestConcurrentLoginsStayWithinMemory sends 150 sign-ins at once, each from
// another address and for another email, so that no throttle refuses them
// before the password work: the server hashes at most one password per CPU
// at a time (19 MiB each), refuses those beyond a short queue with 503 and
// Retry-After at once, and its peak memory stays under 300 MiB. Without the
// bound the 150 hashes took 2.8 GiB.
func TestConcurrentLoginsStayWithinMemory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the peak memory from /proc")
	}
	t.Parallel()
	bin := buildKeyport(t)
	s := startServer(t, bin, []string{"--data", t.TempDir()}, "KEYPORT_TRUSTED_PROXIES=127.0.0.1")
	const logins = 150
	visitor, token := visitorToken(t, s.base)
	statuses := make(map[int]int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	var slowestRefusal time.Duration
	for i := range logins {
		wg.Go(func() {
			form := url.Values{"email": {fmt.Sprintf("guess%d@example.test", i)}, "password": {"not-the-password-123"}, "_csrf": {token}}
			req, _ := http.NewRequest(http.MethodPost, s.base+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.AddCookie(visitor)
			req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i%250+1))
			began := time.Now()
			r, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			r.Body.Close()
			took := time.Since(began)
			mu.Lock()
			defer mu.Unlock()
			statuses[r.StatusCode]++
			if r.StatusCode == http.StatusServiceUnavailable {
				if r.Header.Get("Retry-After") == "" {
					t.Error("a 503 without Retry-After")
				}
				slowestRefusal = max(slowestRefusal, took)
			}
		})
	}
	wg.Wait()
	peak := peakRSS(t, s.cmd.Process.Pid)
	t.Logf("%d logins in %v: %v; slowest 503 %v; server peak RSS %d MiB", logins, time.Since(start).Round(time.Millisecond), statuses,
		slowestRefusal.Round(time.Millisecond), peak>>20)
	if statuses[http.StatusUnauthorized]+statuses[http.StatusServiceUnavailable] != logins {
		t.Fatalf("statuses %v, want every login checked (401) or refused as busy (503)", statuses)
	}
	if statuses[http.StatusUnauthorized] < runtime.NumCPU() {
		t.Fatalf("only %d passwords checked", statuses[http.StatusUnauthorized])
	}
	if peak > 300<<20 {
		t.Fatalf("peak RSS %d MiB, want under 300 MiB", peak>>20)
	}
}

// visitorToken loads the login page once and returns the visitor cookie and
// the CSRF token bound to it, which any number of requests may share.
func visitorToken(t *testing.T, base string) (*http.Cookie, string) {
	t.Helper()
	r, err := http.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	page, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := crashCSRF.FindSubmatch(page)
	for _, ck := range r.Cookies() {
		if ck.Name == "keyport_csrf" && m != nil {
			return ck, string(m[1])
		}
	}
	t.Fatal("the login page set no CSRF cookie or token")
	return nil, ""
}
