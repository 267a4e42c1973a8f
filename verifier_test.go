package keyport_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport"
	"keyport/store"
)

// verifierDB is a real database with a merchant, its account and one full-access test key.
type verifierDB struct {
	db    *store.DB
	res   store.SignupResult
	key   string
	keyID int64
}

func newVerifierDB(tb testing.TB) verifierDB {
	tb.Helper()
	ctx := context.Background()
	db, err := store.Open(filepath.Join(tb.TempDir(), "verify.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Owner", Email: "owner@acme.test"}, "x", "127.0.0.1")
	if err != nil {
		tb.Fatal(err)
	}
	k, err := db.CreateKey(ctx, keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "CI", Access: keyport.AccessFull})
	if err != nil {
		tb.Fatal(err)
	}
	return verifierDB{db: db, res: res, key: k.Plaintext, keyID: k.Key.ID}
}

func TestVerifierCachesUntilTheKeyEpochMoves(t *testing.T) {
	v := newVerifierDB(t)
	ctx := context.Background()
	ver := keyport.NewVerifier(v.db)
	now := time.Now()

	k, err := ver.Verify(ctx, v.key, now)
	if err != nil || k.ID != v.keyID || k.Mode != keyport.ModeTest || !k.Allows("shipments:write") {
		t.Fatalf("verify: %+v, %v", k, err)
	}
	before := v.db.Queries()
	for i := 0; i < 100; i++ {
		if _, err := ver.Verify(ctx, v.key, now); err != nil {
			t.Fatal(err)
		}
	}
	if n := v.db.Queries() - before; n != 0 {
		t.Fatalf("cached verifications ran %d queries", n)
	}
	if _, err := v.db.RevokeKey(ctx, keyport.SystemActor, v.res.Merchant.ID, v.res.Account.ID, v.keyID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ver.Verify(ctx, v.key, now); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("revoked key: %v", err)
	}
}

func TestVerifierRefusesWithoutTheDatabase(t *testing.T) {
	v := newVerifierDB(t)
	ctx := context.Background()
	ver := keyport.NewVerifier(v.db)
	unknown, _ := keyport.MintKey(keyport.KeySecret, keyport.ModeLive)
	tests := []struct {
		name    string
		key     string
		queries int64
	}{
		{"empty", "", 0},
		{"wrong prefix", "xk_test_" + v.key[8:], 0},
		{"bad checksum", v.key[:len(v.key)-1] + flip(v.key[len(v.key)-1]), 0},
		{"too long", v.key + "a", 0},
		{"invalid UTF-8", "sk_test_\xff\xfe", 0},
		{"unknown, first time", unknown.String(), 1},
		{"unknown, cached", unknown.String(), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := v.db.Queries()
			if _, err := ver.Verify(ctx, tt.key, time.Now()); !errors.Is(err, keyport.ErrInvalidKey) {
				t.Fatalf("err %v", err)
			}
			if n := v.db.Queries() - before; n != tt.queries {
				t.Fatalf("%d queries, want %d", n, tt.queries)
			}
		})
	}
}

func flip(c byte) string {
	if c == 'a' {
		return "b"
	}
	return "a"
}

func TestVerifierHonoursExpiryWithoutInvalidation(t *testing.T) {
	v := newVerifierDB(t)
	ctx := context.Background()
	now := time.Now()
	k, err := v.db.CreateKey(ctx, keyport.SystemActor, keyport.NewKey{AccountID: v.res.Account.ID, MerchantID: v.res.Merchant.ID,
		Type: keyport.KeyPublishable, Mode: keyport.ModeTest, Name: "Short", ExpiresAt: now.Add(time.Minute), Permissions: keyport.PermissionCatalog.Public()})
	if err != nil {
		t.Fatal(err)
	}
	ver := keyport.NewVerifier(v.db)
	got, err := ver.Verify(ctx, k.Plaintext, now)
	if err != nil || got.Allows("shipments:read") || !got.Allows("couriers:read") {
		t.Fatalf("publishable: %+v %v", got, err)
	}
	if _, err := ver.Verify(ctx, k.Plaintext, now.Add(time.Minute)); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("expired key: %v", err)
	}
}

func TestVerifierConcurrentRevocation(t *testing.T) {
	v := newVerifierDB(t)
	ctx := context.Background()
	ver := keyport.NewVerifier(v.db)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
					_, _ = ver.Verify(ctx, v.key, time.Now())
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := v.db.RevokeKey(ctx, keyport.SystemActor, v.res.Merchant.ID, v.res.Account.ID, v.keyID, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := ver.Verify(ctx, v.key, time.Now()); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("right after revocation: %v", err)
	}
	close(stop)
	wg.Wait()
	if _, err := ver.Verify(ctx, v.key, time.Now()); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("after the readers stopped: %v", err)
	}
}

func TestUsageRecorderLosesNothing(t *testing.T) {
	v := newVerifierDB(t)
	ctx := context.Background()
	u := keyport.NewUsageRecorder(v.db)
	start := time.Now().Truncate(time.Second)
	var wg sync.WaitGroup
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 100; i++ {
				u.Record(v.keyID, "127.0.0.1", start)
				if i%25 == 0 {
					_ = u.Flush(ctx)
				}
			}
		}()
	}
	wg.Wait()
	u.Record(v.keyID, "198.51.100.4", start.Add(time.Second))
	if err := u.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var count int64
	var ip string
	var at int64
	if err := v.db.SQL().QueryRow(`SELECT use_count, last_used_ip, last_used_at FROM api_keys WHERE id = ?`, v.keyID).Scan(&count, &ip, &at); err != nil {
		t.Fatal(err)
	}
	if count != 1001 || ip != "198.51.100.4" || at != start.Add(time.Second).Unix() {
		t.Fatalf("count %d ip %s at %d", count, ip, at)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	u.Record(v.keyID, "127.0.0.1", start)
	if err := u.Flush(cancelled); err == nil {
		t.Fatal("flush with a cancelled context succeeded")
	}
	if u.Pending() != 1 {
		t.Fatalf("failed flush lost calls: %d pending", u.Pending())
	}
	if err := u.Flush(ctx); err != nil || u.Pending() != 0 {
		t.Fatalf("retry: %v, %d pending", err, u.Pending())
	}
}

func TestRateLimiter(t *testing.T) {
	r := keyport.NewRateLimiter(3)
	now := time.Unix(1000, 0)
	for i := 0; i < 3; i++ {
		if ok, _ := r.Allow(1, now); !ok {
			t.Fatalf("call %d refused", i)
		}
	}
	ok, wait := r.Allow(1, now)
	if ok || wait <= 0 || wait > time.Second {
		t.Fatalf("over the limit: %v %v", ok, wait)
	}
	if ok, _ := r.Allow(2, now); !ok {
		t.Fatal("another key shares the bucket")
	}
	if ok, _ := r.Allow(1, now.Add(wait)); !ok {
		t.Fatal("refused after waiting")
	}
	if ok, _ := keyport.NewRateLimiter(0).Allow(1, now); !ok {
		t.Fatal("0 should turn the limit off")
	}
}

func BenchmarkVerifier(b *testing.B) {
	v := newVerifierDB(b)
	ctx := context.Background()
	ver := keyport.NewVerifier(v.db)
	unknown, _ := keyport.MintKey(keyport.KeySecret, keyport.ModeTest)
	now := time.Now()
	cases := []struct {
		name string
		key  string
	}{
		{"cached hit", v.key},
		{"malformed key", strings.Repeat("x", len(v.key))},
		{"unknown key", unknown.String()},
	}
	for _, c := range cases {
		_, _ = ver.Verify(ctx, c.key, now)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				_, _ = ver.Verify(ctx, c.key, now)
			}
		})
	}
	b.Run("cached hit, parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				_, _ = ver.Verify(ctx, v.key, now)
			}
		})
	})
}
