package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"io/fs"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"keyport"
	"keyport/migrations"
	"keyport/store"
	"keyport/store/storetest"
)

// buildKeyport builds this command into a temporary directory.
func buildKeyport(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "keyport")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// replicaEnv is the configuration three replicas share: one database and the same keys.
func replicaEnv(target string, sealKey, sessionKey []byte) []string {
	return []string{"KEYPORT_DATABASE_URL=" + target, "KEYPORT_ENCRYPTION_KEY=" + hex.EncodeToString(sealKey),
		"KEYPORT_SESSION_KEY=" + hex.EncodeToString(sessionKey)}
}

// TestReplicasOnOnePostgres runs three real server processes on one
// PostgreSQL database behind a round-robin client and checks what a user of
// one process could not tell apart: migrations, sessions, revocations, the
// token cap and usage counts.
func TestReplicasOnOnePostgres(t *testing.T) {
	target := storetest.Schema(t)
	if testing.Short() {
		t.Skip("builds and runs three servers")
	}
	bin := buildKeyport(t)
	sealKey := bytes.Repeat([]byte{7}, keyport.EncryptionKeySize)
	env := replicaEnv(target, sealKey, bytes.Repeat([]byte{5}, 64))
	var reps []*crashServer
	for i := 0; i < 3; i++ {
		reps = append(reps, launchServer(t, bin, []string{"--data", t.TempDir()}, env...))
	}
	for _, r := range reps {
		r.await(t)
	}
	names, err := fs.Glob(migrations.Postgres, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for _, r := range reps {
		applied += strings.Count(r.stderr.String(), "applied migration")
	}
	if applied != len(names) {
		t.Fatalf("three replicas started at once applied %d migrations, want each of the %d once", applied, len(names))
	}
	seed := seedCrashData(t, target, sealKey)
	sealer, err := keyport.NewSealer(sealKey)
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(target, store.Options{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	owner, err := db.UserByEmail(ctx, seed.email)
	if err != nil {
		t.Fatal(err)
	}
	ownerActor := keyport.UserActor(&owner, "127.0.0.1")
	newKeys := func(n int, name string) []store.CreatedKey {
		var out []store.CreatedKey
		for i := 0; i < n; i++ {
			k, err := db.CreateKey(ctx, ownerActor, keyport.NewKey{AccountID: seed.accountID, MerchantID: owner.MerchantID,
				Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: fmt.Sprintf("%s %d", name, i), Access: keyport.AccessFull})
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, k)
		}
		return out
	}
	status := func(base, key string) int {
		code, _, err := apiRequest(base, http.MethodGet, "/v1/couriers", key, "")
		if err != nil {
			t.Fatal(err)
		}
		return code
	}

	t.Run("a session made on one replica works on the others and ends on all at logout", func(t *testing.T) {
		c := newCrashClient()
		if _, err := c.signIn(reps[0].base, seed.email); err != nil {
			t.Fatal(err)
		}
		for i, r := range reps {
			if code, _, err := c.get(r.base, "/accounts"); err != nil || code != http.StatusOK {
				t.Fatalf("replica %d with the session of replica 0: status %d (%v)", i, code, err)
			}
		}
		if code, _, err := c.post(reps[1].base, "/logout", url.Values{}); err != nil || code != http.StatusSeeOther {
			t.Fatalf("logout on replica 1: status %d (%v)", code, err)
		}
		for i, r := range reps {
			if code, _, err := c.get(r.base, "/accounts"); err != nil || code != http.StatusSeeOther {
				t.Fatalf("replica %d after logging out on replica 1: status %d (%v), want a redirect to log in", i, code, err)
			}
		}
	})

	t.Run("a revocation on one replica is refused by every replica within a second", func(t *testing.T) {
		const revocations = 120
		keys := newKeys(revocations, "Propagation")
		c := newCrashClient()
		if _, err := c.signIn(reps[0].base, seed.email); err != nil {
			t.Fatal(err)
		}
		var took []time.Duration
		for i, k := range keys {
			for j, r := range reps {
				if code := status(r.base, k.Plaintext); code != http.StatusOK {
					t.Fatalf("key %d on replica %d before its revocation: status %d", i, j, code)
				}
			}
			code, body, err := c.post(reps[i%3].base, fmt.Sprintf("/accounts/%d/keys/%d/revoke", seed.accountID, k.Key.ID), url.Values{})
			if err != nil || code != http.StatusSeeOther {
				t.Fatalf("revoke on replica %d: status %d (%v): %.300s", i%3, code, err, body)
			}
			revoked := time.Now()
			var slowest time.Duration
			for j, r := range reps {
				for status(r.base, k.Plaintext) != http.StatusUnauthorized {
					if time.Since(revoked) > time.Second {
						t.Fatalf("key %d revoked on replica %d still verifies on replica %d after 1s", i, i%3, j)
					}
					time.Sleep(time.Millisecond)
				}
				slowest = max(slowest, time.Since(revoked))
			}
			took = append(took, slowest)
		}
		slices.Sort(took)
		t.Logf("%d revocations, refused by all 3 replicas after: p50 %v, p99 %v, max %v", len(took),
			took[len(took)/2].Round(time.Microsecond), took[len(took)*99/100].Round(time.Microsecond), took[len(took)-1].Round(time.Microsecond))
	})

	t.Run("the token cap holds over 100 concurrent requests spread over the replicas", func(t *testing.T) {
		var active int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM api_keys WHERE account_id = $1 AND mode = 'test' AND type = 'secret'
			AND revoked_at IS NULL`, seed.accountID).Scan(&active); err != nil {
			t.Fatal(err)
		}
		if err := db.SetTokenCap(ctx, keyport.SystemActor, active+2); err != nil {
			t.Fatal(err)
		}
		defer db.SetTokenCap(ctx, keyport.SystemActor, 0)
		c := newCrashClient()
		if _, err := c.signIn(reps[0].base, seed.email); err != nil {
			t.Fatal(err)
		}
		var made, refused atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 100; i++ {
			wg.Go(func() {
				code, body, err := c.post(reps[i%3].base, fmt.Sprintf("/accounts/%d/keys", seed.accountID),
					url.Values{"name": {fmt.Sprintf("Capped %d", i)}, "expiry": {"never"}})
				switch {
				case err != nil:
					t.Errorf("create key %d: %v", i, err)
				case code == http.StatusOK && crashPlaintext.MatchString(body):
					made.Add(1)
				case code == http.StatusUnprocessableEntity:
					refused.Add(1)
				default:
					t.Errorf("create key %d: status %d: %.300s", i, code, body)
				}
			})
		}
		wg.Wait()
		var stored int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM api_keys WHERE name LIKE 'Capped %'`).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if made.Load() != 2 || stored != 2 {
			t.Fatalf("cap of %d: %d keys made (%d refused), %d stored, want 2", active+2, made.Load(), refused.Load(), stored)
		}
	})

	t.Run("usage counted by three replicas adds up", func(t *testing.T) {
		k := newKeys(1, "Counted")[0]
		const calls = 300
		var wg sync.WaitGroup
		for w := 0; w < 6; w++ {
			wg.Go(func() {
				for i := w; i < calls; i += 6 {
					if code := status(reps[i%3].base, k.Plaintext); code != http.StatusOK {
						t.Errorf("call %d: status %d", i, code)
					}
				}
			})
		}
		wg.Wait()
		var n int64
		deadline := time.Now().Add(5 * time.Second)
		for {
			if err := db.SQL().QueryRow(`SELECT use_count FROM api_keys WHERE id = $1`, k.Key.ID).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == calls || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n != calls {
			t.Fatalf("use count %d after %d calls over three replicas", n, calls)
		}
	})

	t.Run("the login throttle holds for a burst spread over the replicas", func(t *testing.T) {
		c := newCrashClient()
		_, body, err := c.get(reps[0].base, "/login")
		if err != nil {
			t.Fatal(err)
		}
		m := crashCSRF.FindStringSubmatch(body)
		if m == nil {
			t.Fatal("no CSRF token on the login page")
		}
		c.csrf = m[1]
		var checked, throttled atomic.Int64
		var wg sync.WaitGroup
		for i := 0; i < 30; i++ {
			wg.Go(func() {
				code, body, err := c.post(reps[i%3].base, "/login", url.Values{"email": {seed.email}, "password": {"wrong-password-123"}})
				switch {
				case err != nil:
					t.Errorf("guess %d: %v", i, err)
				case code == http.StatusTooManyRequests:
					throttled.Add(1)
				case code == http.StatusUnauthorized || code == http.StatusUnprocessableEntity:
					checked.Add(1)
				default:
					t.Errorf("guess %d: status %d: %.200s", i, code, body)
				}
			})
		}
		wg.Wait()
		if checked.Load() > 5 || checked.Load()+throttled.Load() != 30 {
			t.Fatalf("30 concurrent guesses over 3 replicas: %d checked, %d throttled; the limit is 5", checked.Load(), throttled.Load())
		}
		for i, r := range reps {
			if code, _, err := c.post(r.base, "/login", url.Values{"email": {seed.email}, "password": {crashPassword}}); err != nil || code != http.StatusTooManyRequests {
				t.Fatalf("the right password on replica %d during the lockout: status %d (%v)", i, code, err)
			}
		}
	})

	for i, r := range reps {
		if strings.Contains(r.stderr.String(), "level=ERROR") {
			t.Errorf("replica %d logged errors:\n%s", i, r.stderr.String())
		}
	}
}
