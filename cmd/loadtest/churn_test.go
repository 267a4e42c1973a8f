package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport"
	"keyport/store"
	"keyport/store/storetest"
	"keyport/web"
)

// portal seeds a small database the way the load test does (a SQLite file,
// or a PostgreSQL schema when the run's tests use PostgreSQL) and serves the
// real Keyport app on 127.0.0.1. It returns the seed, the server and the
// database, which the test may read.
func portal(t *testing.T) (seeded, *httptest.Server, *store.DB) {
	t.Helper()
	ctx := context.Background()
	target := storetest.Target(t)
	data, err := seed(ctx, target, seedOptions{Accounts: 3, Shipments: 2, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	srv := httptest.NewServer(newApp(db))
	t.Cleanup(srv.Close)
	if err := checkLoopback(srv.URL + "/"); err != nil {
		t.Fatal(err)
	}
	return data, srv, db
}

// newApp is the real Keyport app on db, configured as for 127.0.0.1.
func newApp(db *store.DB) *web.Server {
	base, _ := url.Parse("http://127.0.0.1")
	return web.New(db, web.Config{
		BaseURL:         base,
		SessionKey:      []byte(strings.Repeat("k", 64)),
		IdleTimeout:     30 * time.Minute,
		SessionLifetime: time.Hour,
		Logger:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
}

func countKeys(t *testing.T, db *store.DB, accountID int64) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM api_keys WHERE account_id = $1`, accountID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestSeedKeepsEveryKeyAndTheChurnLogin(t *testing.T) {
	data, _, db := portal(t)
	if data.Accounts != 3 || len(data.Keys) != 6 || data.Shipments != 2 {
		t.Fatalf("seeded %d accounts, %d keys, %d shipments; want 3, 6, 2", data.Accounts, len(data.Keys), data.Shipments)
	}
	distinct := map[string]bool{}
	for _, k := range data.Keys {
		if !createdKey.MatchString(k) {
			t.Fatalf("seeded key %q is not a test secret key", k)
		}
		distinct[k] = true
	}
	if len(distinct) != len(data.Keys) || !distinct[data.Key] {
		t.Fatalf("%d distinct keys of %d; the shipments' key among them: %v", len(distinct), len(data.Keys), distinct[data.Key])
	}
	if data.Churn.Email == "" || data.Churn.Password == "" || data.Churn.AccountID == 0 {
		t.Fatalf("churn login %+v", data.Churn)
	}
	if n := countKeys(t, db, data.Churn.AccountID); n != 0 {
		t.Fatalf("the churn account starts with %d keys", n)
	}
}

// The churn client goes through the real login and Generate Token forms, CSRF
// tokens included, and each of its successes is a key in the database.
func TestChurnClientSignsInAndCreatesKeys(t *testing.T) {
	data, srv, db := portal(t)
	client := newClient(4)
	defer client.CloseIdleConnections()
	otherAccount := data.Churn
	otherAccount.AccountID--
	wrongPassword := data.Churn
	wrongPassword.Password += "x"
	cases := []struct {
		name         string
		login        churnLogin
		wantSignedIn bool
		wantErr      string
	}{
		{"the churn merchant's owner", data.Churn, true, ""},
		{"wrong password", wrongPassword, false, "POST /login answered 401"},
		{"an account of another merchant", otherAccount, true, "answered 404 without a form token"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := countKeys(t, db, data.Churn.AccountID)
			churn, err := newChurner([]string{srv.URL}, tc.login, client.Transport, 10*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			signedIn, err := churn.once(context.Background(), "Churn test key")
			if signedIn != tc.wantSignedIn {
				t.Fatalf("signed in %v, want %v (err %v)", signedIn, tc.wantSignedIn, err)
			}
			created := countKeys(t, db, data.Churn.AccountID) - before
			if tc.wantErr == "" {
				if err != nil || created != 1 {
					t.Fatalf("err %v, %d keys created; want none and 1", err, created)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || created != 0 {
				t.Fatalf("err %v, %d keys created; want an error with %q and none", err, created, tc.wantErr)
			}
		})
	}
}

func TestChurnRunKeepsItsRateUntilStopped(t *testing.T) {
	data, srv, db := portal(t)
	client := newClient(4)
	defer client.CloseIdleConnections()
	churn, err := newChurner([]string{srv.URL}, data.Churn, client.Transport, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	stop, ready := make(chan struct{}), make(chan struct{})
	done := make(chan churnResult, 1)
	go func() { done <- churn.run(context.Background(), 20, 4, stop, ready) }()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatal("no sign-in finished within 30s")
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	res := <-done
	if res.Errors != 0 || res.Keys < 2 || res.Keys != res.SignIns || res.Keys != res.Attempts || len(res.Took) != res.Keys {
		t.Fatalf("%+v; want no errors and every attempt, at least 2, signed in with a key", res)
	}
	if n := countKeys(t, db, data.Churn.AccountID); n != res.Keys {
		t.Fatalf("%d keys in the database, the churn client counted %d", n, res.Keys)
	}
}

func TestChurnLoginTakesEachMemberInTurn(t *testing.T) {
	login := churnLogin{Email: "owner@x.test", Team: []string{"dev1@x.test", "dev2@x.test"}}
	for turn, want := range []string{"owner@x.test", "dev1@x.test", "dev2@x.test", "owner@x.test", "dev1@x.test"} {
		if got := login.member(uint64(turn)); got != want {
			t.Errorf("member(%d) = %q, want %q", turn, got, want)
		}
	}
}

// TestChurnBurstStaysUnderTheLoginThrottle starts twice as many concurrent
// sign-ins as the throttle lets one account have in flight: spread over the
// team, every one signs in and creates its key.
func TestChurnBurstStaysUnderTheLoginThrottle(t *testing.T) {
	data, srv, db := portal(t)
	if len(data.Churn.Team) != churnTeamSize {
		t.Fatalf("team of %d, want %d", len(data.Churn.Team), churnTeamSize)
	}
	client := newClient(16)
	defer client.CloseIdleConnections()
	churn, err := newChurner([]string{srv.URL}, data.Churn, client.Transport, 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	burst := 2 * keyport.NewLoginThrottle().PerAccount
	errs := make(chan error, burst)
	for i := range burst {
		go func() {
			_, err := churn.once(context.Background(), fmt.Sprintf("Burst key %d", i))
			errs <- err
		}()
	}
	for range burst {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := countKeys(t, db, data.Churn.AccountID); n != burst {
		t.Fatalf("%d keys created, want %d", n, burst)
	}
}

func TestChurnerRefusesAnythingButLoopback(t *testing.T) {
	for _, base := range []string{"http://localhost:8080", "http://10.0.0.1:80", "https://127.0.0.1:443", "http://127.0.0.1"} {
		if _, err := newChurner([]string{base}, churnLogin{}, http.DefaultTransport, time.Second); err == nil {
			t.Errorf("newChurner(%q) allowed", base)
		}
	}
}

func TestParseStats(t *testing.T) {
	cases := []struct {
		body    string
		want    int64
		wantErr bool
	}{
		{`{"key_lookups": 20013}`, 20013, false},
		{`{"key_lookups": 0}`, 0, false},
		{`{"key_lookups": 7, "later": true}`, 7, false},
		{`{}`, 0, true},
		{`{"key_lookups": -1}`, 0, true},
		{`{"key_lookups": "12"}`, 0, true},
		{`{"detail": "Not found."}`, 0, true},
		{`not json`, 0, true},
		{``, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.body, func(t *testing.T) {
			got, err := parseStats([]byte(tc.body))
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed %+v, want an error", got)
				}
				return
			}
			if err != nil || got.KeyLookups != tc.want {
				t.Fatalf("parseStats = %+v, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func TestReadStatsNeedsA200(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/loadtest/stats" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = io.WriteString(w, `{"detail": "Not found."}`)
			return
		}
		_, _ = io.WriteString(w, `{"key_lookups": 42}`)
	}))
	defer srv.Close()
	client := newClient(1)
	defer client.CloseIdleConnections()
	cases := []struct {
		path    string
		want    int64
		wantErr string
	}{
		{"/v1/loadtest/stats", 42, ""},
		{"/v1/other", 0, "status 404"},
	}
	for _, tc := range cases {
		tg, err := newTarget([]string{srv.URL}, tc.path, "")
		if err != nil {
			t.Fatal(err)
		}
		got, err := readStats(context.Background(), client, tg, 5*time.Second)
		if tc.wantErr == "" && (err != nil || got.KeyLookups != tc.want) {
			t.Errorf("%s: %+v, %v; want %d", tc.path, got, err, tc.want)
		}
		if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
			t.Errorf("%s: err %v, want one with %q", tc.path, err, tc.wantErr)
		}
	}
}

func TestRatioAndMissRateReporting(t *testing.T) {
	cases := []struct {
		name, got, want string
	}{
		{"ratio met", ratioLine("keyed/unkeyed twin", 9600, 10000, 0.95), "ratio keyed/unkeyed twin = 0.96 (target >= 0.95: met)"},
		{"ratio exactly at target", ratioLine("churn/quiet", 900, 1000, 0.90), "ratio churn/quiet = 0.90 (target >= 0.90: met)"},
		{"ratio missed", ratioLine("churn/quiet", 410, 1000, 0.90), "ratio churn/quiet = 0.41 (target >= 0.90: missed)"},
		{"nothing to compare", ratioLine("churn/quiet", 10, 0, 0.90), "ratio churn/quiet: nothing to compare (no successful request in the denominator)"},
		{"misses", missLine("churn", 873, 1000), "key lookups during the churn run: 873 for 1000 requests, 87.30% cache misses"},
		{"no misses", missLine("quiet", 0, 52000), "key lookups during the quiet run: 0 for 52000 requests, 0.00% cache misses"},
		{"no requests", missLine("churn", 5, 0), "key lookups during the churn run: 5 for 0 requests, - cache misses"},
		{"CPU ratio met", cpuRatioLine("keyed/unkeyed twin", cpuStats(100, 6400*time.Microsecond, 6300*time.Microsecond), cpuStats(100, 6200*time.Microsecond, 6000*time.Microsecond), 0.95),
			"ratio keyed/unkeyed twin by CPU time per request, server and client (127.0µs vs 122.0µs) = 0.96 (target >= 0.95: met)"},
		{"CPU ratio missed", cpuRatioLine("churn/quiet", cpuStats(10, 2*time.Millisecond, 0), cpuStats(10, time.Millisecond, 0), 0.90),
			"ratio churn/quiet by CPU time per request, server and client (200.0µs vs 100.0µs) = 0.50 (target >= 0.90: missed)"},
		{"CPU ratio without requests", cpuRatioLine("churn/quiet", cpuStats(0, 0, 0), cpuStats(10, time.Millisecond, 0), 0.90),
			"ratio churn/quiet by CPU time: nothing to compare"},
		{"churn summary", churnResult{Attempts: 21, SignIns: 20, Keys: 19, Errors: 2, Elapsed: 2 * time.Second,
			Took: []time.Duration{300 * time.Millisecond, 100 * time.Millisecond, 200 * time.Millisecond}}.summary(),
			"21 sign-ins started in 2s (10.5 a second), 20 signed in, 19 keys created (each in p50 200.00ms, max 300.00ms), 2 errors"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, tc.got, tc.want)
		}
	}
}

// cpuStats is the outcome of n successful requests that used server and
// client CPU time.
func cpuStats(n int, server, client time.Duration) stats {
	return stats{Latencies: make([]time.Duration, n), Elapsed: time.Second, CPU: cpuUse{Server: server, Client: client}}
}

// Any run of as many requests as there are keys presents each key once, however
// the workers interleave.
func TestSendEachPresentsEveryKeyOnce(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get("Authorization")]++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"data":[]}`)
	}))
	defer srv.Close()
	keys := []string{"sk_test_a", "sk_test_b", "sk_test_c", "sk_test_d", "sk_test_e"}
	tg, err := newRotatingTarget([]string{srv.URL}, "/v1/couriers", keys)
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(4)
	defer client.CloseIdleConnections()
	for pass := 1; pass <= 3; pass++ {
		// The first pass starts the ring at its beginning; the later ones part way through.
		n := len(keys)
		if pass == 2 {
			n = 3
		}
		s := sendEach(context.Background(), client, tg, 4, n, 5*time.Second)
		if s.Errors != 0 || len(s.Latencies) != n {
			t.Fatalf("pass %d: %d successes, %d errors", pass, len(s.Latencies), s.Errors)
		}
	}
	// a, b and c came in every pass; d and e in the first and the last.
	want := map[string]int{"Bearer sk_test_a": 3, "Bearer sk_test_b": 3, "Bearer sk_test_c": 3, "Bearer sk_test_d": 2, "Bearer sk_test_e": 2}
	if !maps.Equal(seen, want) {
		t.Fatalf("keys presented %v, want %v", seen, want)
	}
}

// TestChurnPasswordCostIsTheOneAskedFor seeds the churn team at the production
// cost and at the minimal one (-churn-cheap-passwords) and reads the cost
// back from the stored hashes.
func TestChurnPasswordCostIsTheOneAskedFor(t *testing.T) {
	cases := []struct {
		name string
		cost keyport.PasswordCost
		want string
	}{
		{"production", keyport.PasswordCost{}, fmt.Sprintf("$m=%d,t=%d,", keyport.DefaultPasswordCost.MemoryKiB, keyport.DefaultPasswordCost.Passes)},
		{"minimal", keyport.MinimalPasswordCost, fmt.Sprintf("$m=%d,t=%d,", keyport.MinimalPasswordCost.MemoryKiB, keyport.MinimalPasswordCost.Passes)},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := storetest.Target(t)
			if _, err := seed(context.Background(), target, seedOptions{Accounts: 2, Workers: 1, ChurnPasswordCost: tc.cost}); err != nil {
				t.Fatal(err)
			}
			db, err := store.Open(target, store.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			rows, err := db.SQL().Query(`SELECT password_hash FROM users
				WHERE merchant_id = (SELECT merchant_id FROM users WHERE email = 'churn@keyport.local')`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			n := 0
			for rows.Next() {
				var hash string
				if err := rows.Scan(&hash); err != nil {
					t.Fatal(err)
				}
				if !strings.Contains(hash, tc.want) {
					t.Fatalf("churn hash %s, want %s", hash[:30], tc.want)
				}
				n++
			}
			if n != churnTeamSize+1 {
				t.Fatalf("%d churn users", n)
			}
		})
	}
}
