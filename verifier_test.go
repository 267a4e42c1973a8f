package keyport_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
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
	db, err := store.Open(filepath.Join(tb.TempDir(), "verify.db"), store.Options{})
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

func TestVerifierCachesUntilTheKeyIsRevoked(t *testing.T) {
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
	if err := v.db.SQL().QueryRow(`SELECT use_count, last_used_ip, last_used_at FROM api_keys WHERE id = $1`, v.keyID).Scan(&count, &ip, &at); err != nil {
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

func TestRateLimiterShare(t *testing.T) {
	cases := []struct {
		limit, replicas, want int
	}{
		{5, 1, 5},
		{5, 2, 3},
		{6, 2, 3},
		{5, 3, 2},
		{5, 10, 1},
		{5, 0, 5},
		{0, 3, 0},
	}
	now := time.Unix(1000, 0)
	for _, tc := range cases {
		r := keyport.NewRateLimiter(tc.limit)
		r.SetReplicas(tc.replicas)
		if got := r.PerSecond(); got != tc.want {
			t.Errorf("limit %d over %d replicas: %d per second, want %d", tc.limit, tc.replicas, got, tc.want)
		}
		allowed := 0
		for range tc.limit + 1 {
			if ok, _ := r.Allow(1, now); ok {
				allowed++
			}
		}
		want := tc.want
		if tc.limit == 0 {
			want = 1
		}
		if allowed != want {
			t.Errorf("limit %d over %d replicas: %d calls allowed in one instant, want %d", tc.limit, tc.replicas, allowed, want)
		}
	}
}

func TestRateLimiterShareChangesWhileServing(t *testing.T) {
	r := keyport.NewRateLimiter(100)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			now := time.Unix(1000, 0)
			for range 2000 {
				now = now.Add(time.Millisecond)
				r.Allow(int64(i), now)
			}
		})
	}
	wg.Go(func() {
		for n := range 2000 {
			r.SetReplicas(n%4 + 1)
		}
	})
	wg.Wait()
	r.SetReplicas(4)
	if got := r.PerSecond(); got != 25 {
		t.Fatalf("%d per second after the last share, want 25", got)
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

// fakeSource is a KeySource in memory, counting the lookups of each key.
type fakeSource struct {
	keyport.KeyChangeLog
	mu      sync.Mutex
	keys    map[[32]byte]keyport.VerifiedKey
	lookups map[[32]byte]int
	// during, when set, runs inside the next lookup, after the key was read.
	during func()
}

func newFakeSource() *fakeSource {
	return &fakeSource{keys: make(map[[32]byte]keyport.VerifiedKey), lookups: make(map[[32]byte]int)}
}

func (f *fakeSource) KeySeq() uint64 { return f.Seq() }

func (f *fakeSource) KeyChangesSince(seq uint64) ([]keyport.KeyChange, bool) { return f.Since(seq) }

func (f *fakeSource) LookupKey(_ context.Context, hash [32]byte) (keyport.VerifiedKey, error) {
	f.mu.Lock()
	f.lookups[hash]++
	k, ok := f.keys[hash]
	during := f.during
	f.during = nil
	f.mu.Unlock()
	if during != nil {
		during()
	}
	if !ok {
		return keyport.VerifiedKey{}, keyport.ErrNotFound
	}
	return k, nil
}

// mint makes a key with a valid checksum and, when k is not nil, stores it in
// the source as k.
func (f *fakeSource) mint(t testing.TB, k *keyport.VerifiedKey) (string, [32]byte) {
	t.Helper()
	parsed, err := keyport.MintKey(keyport.KeySecret, keyport.ModeTest)
	if err != nil {
		t.Fatal(err)
	}
	if k != nil {
		f.set(parsed.Hash(), *k)
	}
	return parsed.String(), parsed.Hash()
}

func (f *fakeSource) set(hash [32]byte, k keyport.VerifiedKey) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.keys[hash] = k
}

func (f *fakeSource) lookupsOf(hash [32]byte) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lookups[hash]
}

func usableKey(id, account, merchant int64) *keyport.VerifiedKey {
	return &keyport.VerifiedKey{ID: id, AccountID: account, MerchantID: merchant, Type: keyport.KeySecret,
		Mode: keyport.ModeTest, Access: keyport.AccessFull, Usable: true}
}

func TestVerifierDropsOnlyTheKeysAChangeTouches(t *testing.T) {
	tests := []struct {
		name     string
		changes  func(unknown [32]byte) []keyport.KeyChange
		reloaded []string
	}{
		{"key revoked", func([32]byte) []keyport.KeyChange { return []keyport.KeyChange{keyport.KeyChanged(1)} }, []string{"a"}},
		{"account disabled", func([32]byte) []keyport.KeyChange { return []keyport.KeyChange{keyport.AccountChanged(10)} }, []string{"a", "b"}},
		{"merchant disabled", func([32]byte) []keyport.KeyChange { return []keyport.KeyChange{keyport.MerchantChanged(100)} },
			[]string{"a", "b", "c"}},
		{"key created", func(u [32]byte) []keyport.KeyChange { return []keyport.KeyChange{keyport.KeyCreated(u)} }, []string{"unknown"}},
		{"key of another merchant", func([32]byte) []keyport.KeyChange { return []keyport.KeyChange{keyport.KeyChanged(99)} }, nil},
		{"several at once", func([32]byte) []keyport.KeyChange {
			return []keyport.KeyChange{keyport.KeyChanged(4), keyport.AccountChanged(20)}
		}, []string{"c", "d"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeSource()
			ctx := context.Background()
			keys := map[string]string{}
			hashes := map[string][32]byte{}
			for name, k := range map[string]*keyport.VerifiedKey{
				"a": usableKey(1, 10, 100), "b": usableKey(2, 10, 100), "c": usableKey(3, 20, 100), "d": usableKey(4, 30, 200), "unknown": nil,
			} {
				keys[name], hashes[name] = src.mint(t, k)
			}
			ver := keyport.NewVerifier(src)
			verifyAll := func() {
				for name, key := range keys {
					_, err := ver.Verify(ctx, key, time.Now())
					if (name == "unknown") != errors.Is(err, keyport.ErrInvalidKey) {
						t.Fatalf("%s: %v", name, err)
					}
				}
			}
			verifyAll()
			verifyAll()
			src.Publish(tt.changes(hashes["unknown"])...)
			verifyAll()
			var reloaded []string
			for name, h := range hashes {
				if n := src.lookupsOf(h); n == 2 {
					reloaded = append(reloaded, name)
				} else if n != 1 {
					t.Fatalf("%s looked up %d times", name, n)
				}
			}
			slices.Sort(reloaded)
			if !slices.Equal(reloaded, tt.reloaded) {
				t.Fatalf("reloaded %v, want %v", reloaded, tt.reloaded)
			}
		})
	}
}

func TestVerifierAnswersTheChangeOnTheNextCall(t *testing.T) {
	src := newFakeSource()
	ctx := context.Background()
	ver := keyport.NewVerifier(src)
	k := usableKey(1, 10, 100)
	key, hash := src.mint(t, k)
	created, createdHash := src.mint(t, nil)
	if _, err := ver.Verify(ctx, key, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := ver.Verify(ctx, created, time.Now()); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("unknown key: %v", err)
	}
	revoked := *k
	revoked.Usable = false
	src.set(hash, revoked)
	src.Publish(keyport.KeyChanged(1))
	if _, err := ver.Verify(ctx, key, time.Now()); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("revoked key: %v", err)
	}
	src.set(createdHash, *usableKey(2, 10, 100))
	src.Publish(keyport.KeyCreated(createdHash))
	if _, err := ver.Verify(ctx, created, time.Now()); err != nil {
		t.Fatalf("created key: %v", err)
	}
}

func TestVerifierEmptiesItsCachesWhenTheLogNoLongerReachesBack(t *testing.T) {
	src := newFakeSource()
	ctx := context.Background()
	ver := keyport.NewVerifier(src)
	key, hash := src.mint(t, usableKey(1, 10, 100))
	unknown, unknownHash := src.mint(t, nil)
	_, _ = ver.Verify(ctx, key, time.Now())
	_, _ = ver.Verify(ctx, unknown, time.Now())
	for i := 0; i < 5000; i++ {
		src.Publish(keyport.KeyChanged(int64(1000 + i)))
	}
	if _, complete := src.Since(0); complete {
		t.Fatal("the log kept every change")
	}
	_, _ = ver.Verify(ctx, key, time.Now())
	_, _ = ver.Verify(ctx, unknown, time.Now())
	if src.lookupsOf(hash) != 2 || src.lookupsOf(unknownHash) != 2 {
		t.Fatalf("lookups %d and %d, want both reloaded", src.lookupsOf(hash), src.lookupsOf(unknownHash))
	}
	_, _ = ver.Verify(ctx, key, time.Now())
	if src.lookupsOf(hash) != 2 {
		t.Fatal("not cached again after catching up")
	}
}

func TestVerifierDoesNotCacheWhatChangedWhileLoading(t *testing.T) {
	tests := []struct {
		name  string
		known bool
	}{
		{"key revoked while it loads", true},
		{"key created while it loads as unknown", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeSource()
			ctx := context.Background()
			ver := keyport.NewVerifier(src)
			var k *keyport.VerifiedKey
			if tt.known {
				k = usableKey(1, 10, 100)
			}
			key, hash := src.mint(t, k)
			src.during = func() {
				if tt.known {
					revoked := *k
					revoked.Usable = false
					src.set(hash, revoked)
					src.Publish(keyport.KeyChanged(1))
				} else {
					src.set(hash, *usableKey(2, 10, 100))
					src.Publish(keyport.KeyCreated(hash))
				}
			}
			_, first := ver.Verify(ctx, key, time.Now())
			_, second := ver.Verify(ctx, key, time.Now())
			if (first == nil) != tt.known || (second == nil) == tt.known || src.lookupsOf(hash) != 2 {
				t.Fatalf("first %v, second %v, %d lookups", first, second, src.lookupsOf(hash))
			}
		})
	}
}

func TestVerifierForgedKeyFloodKeepsVerifiedKeys(t *testing.T) {
	src := newFakeSource()
	ctx := context.Background()
	ver := keyport.NewVerifier(src)
	key, hash := src.mint(t, usableKey(1, 10, 100))
	if _, err := ver.Verify(ctx, key, time.Now()); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200_000; i++ {
		forged, _ := src.mint(t, nil)
		if _, err := ver.Verify(ctx, forged, time.Now()); !errors.Is(err, keyport.ErrInvalidKey) {
			t.Fatalf("forged key: %v", err)
		}
		if i%10_000 == 0 {
			if _, unknown := ver.CacheSizes(); unknown > keyport.UnknownKeyCacheLimit {
				t.Fatalf("%d unknown keys cached", unknown)
			}
		}
	}
	if _, err := ver.Verify(ctx, key, time.Now()); err != nil || src.lookupsOf(hash) != 1 {
		t.Fatalf("verified key after the flood: %v, %d lookups", err, src.lookupsOf(hash))
	}
	if known, unknown := ver.CacheSizes(); known != 1 || unknown > keyport.UnknownKeyCacheLimit {
		t.Fatalf("cache sizes %d and %d", known, unknown)
	}
}

func TestVerifierConcurrentChangesReachOnlyTheirKeys(t *testing.T) {
	src := newFakeSource()
	ctx := context.Background()
	ver := keyport.NewVerifier(src)
	revoked := usableKey(1, 10, 100)
	key, hash := src.mint(t, revoked)
	kept, _ := src.mint(t, usableKey(2, 20, 100))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := int64(0); ; n++ {
				select {
				case <-stop:
					return
				default:
					_, _ = ver.Verify(ctx, key, time.Now())
					if _, err := ver.Verify(ctx, kept, time.Now()); err != nil {
						t.Errorf("kept key: %v", err)
						return
					}
					src.Publish(keyport.KeyChanged(1000 + n%50))
				}
			}
		}()
	}
	time.Sleep(20 * time.Millisecond)
	gone := *revoked
	gone.Usable = false
	src.set(hash, gone)
	src.Publish(keyport.KeyChanged(1))
	if _, err := ver.Verify(ctx, key, time.Now()); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("right after revocation: %v", err)
	}
	close(stop)
	wg.Wait()
	if _, err := ver.Verify(ctx, key, time.Now()); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("after the readers stopped: %v", err)
	}
}

// BenchmarkVerifierAfterARevocation is the first verification after one key
// of many is revoked, with few and with many keys cached: the revocation
// drops its key by id, so the cost should not grow with the cache.
func BenchmarkVerifierAfterARevocation(b *testing.B) {
	for _, cached := range []int{1_000, 100_000} {
		b.Run(fmt.Sprintf("cached=%d", cached), func(b *testing.B) {
			src := newFakeSource()
			ver := keyport.NewVerifier(src)
			ctx := context.Background()
			now := time.Now()
			keys := make([]string, cached)
			for i := range keys {
				keys[i], _ = src.mint(b, usableKey(int64(i+1), int64(i%50+1), 1))
				if _, err := ver.Verify(ctx, keys[i], now); err != nil {
					b.Fatal(err)
				}
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				src.Publish(keyport.KeyChanged(int64(i%cached + 1)))
				if _, err := ver.Verify(ctx, keys[0], now); err != nil && !errors.Is(err, keyport.ErrInvalidKey) {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestVerifierSaysWhyAKeyIsRefused(t *testing.T) {
	now := time.Now()
	revoked := usableKey(2, 10, 100)
	revoked.Usable, revoked.Revoked = false, true
	disabled := usableKey(3, 10, 100)
	disabled.Usable = false
	expired := usableKey(4, 10, 100)
	expired.ExpiresAt = now.Add(-time.Second).Unix()
	revokedAndExpired := usableKey(5, 10, 100)
	revokedAndExpired.Usable, revokedAndExpired.Revoked, revokedAndExpired.ExpiresAt = false, true, now.Add(-time.Second).Unix()
	tests := []struct {
		name string
		key  *keyport.VerifiedKey
		raw  string
		want error
	}{
		{"usable", usableKey(1, 10, 100), "", nil},
		{"malformed", nil, "sk_test_not-a-key", keyport.ErrKeyMalformed},
		{"unknown", nil, "", keyport.ErrKeyUnknown},
		{"revoked", revoked, "", keyport.ErrKeyRevoked},
		{"account or merchant disabled", disabled, "", keyport.ErrKeyDisabled},
		{"expired", expired, "", keyport.ErrKeyExpired},
		{"revoked before it expired", revokedAndExpired, "", keyport.ErrKeyRevoked},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := newFakeSource()
			raw, _ := src.mint(t, tt.key)
			if tt.raw != "" {
				raw = tt.raw
			}
			v := keyport.NewVerifier(src)
			for range 2 {
				_, err := v.Verify(context.Background(), raw, now)
				if err != tt.want {
					t.Fatalf("Verify: %v, want %v", err, tt.want)
				}
				if tt.want != nil && !errors.Is(err, keyport.ErrInvalidKey) {
					t.Fatalf("%v is not ErrInvalidKey", err)
				}
			}
			hits, misses := v.CacheStats()
			if tt.raw != "" && hits+misses != 0 {
				t.Fatalf("a malformed key counted %d hits and %d misses", hits, misses)
			}
			if tt.raw == "" && (hits != 1 || misses != 1) {
				t.Fatalf("%d hits and %d misses, want 1 and 1", hits, misses)
			}
		})
	}
}

func TestRateLimiterTakeReportsWhatIsLeft(t *testing.T) {
	r := keyport.NewRateLimiter(4)
	start := time.Unix(1_000_000, 0)
	steps := []struct {
		after time.Duration
		want  keyport.RateDecision
	}{
		{0, keyport.RateDecision{Allowed: true, Limit: 4, Remaining: 3, Reset: 250 * time.Millisecond}},
		{0, keyport.RateDecision{Allowed: true, Limit: 4, Remaining: 2, Reset: 500 * time.Millisecond}},
		{0, keyport.RateDecision{Allowed: true, Limit: 4, Remaining: 1, Reset: 750 * time.Millisecond}},
		{0, keyport.RateDecision{Allowed: true, Limit: 4, Remaining: 0, Reset: time.Second}},
		{0, keyport.RateDecision{Allowed: false, Limit: 4, Remaining: 0, Reset: time.Second, RetryAfter: 250 * time.Millisecond}},
		{500 * time.Millisecond, keyport.RateDecision{Allowed: true, Limit: 4, Remaining: 1, Reset: 750 * time.Millisecond}},
	}
	now := start
	for i, s := range steps {
		now = now.Add(s.after)
		if got := r.Take(7, now); got != s.want {
			t.Fatalf("call %d: %+v, want %+v", i+1, got, s.want)
		}
	}
	if got := keyport.NewRateLimiter(0).Take(7, now); got != (keyport.RateDecision{Allowed: true}) {
		t.Fatalf("no limit: %+v", got)
	}
}
