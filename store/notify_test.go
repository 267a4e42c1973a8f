package store

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"keyport"
	"keyport/store/storetest"
)

func TestKeyChangeNotificationsRoundTrip(t *testing.T) {
	hash := [32]byte{1, 2, 3, 255}
	long := make([]keyport.KeyChange, 2000)
	for i := range long {
		long[i] = keyport.KeyChanged(int64(i) + 1_000_000)
	}
	cases := []struct {
		name    string
		changes []keyport.KeyChange
		all     bool
	}{
		{"one key", []keyport.KeyChange{keyport.KeyChanged(42)}, false},
		{"every scope", []keyport.KeyChange{keyport.KeyChanged(1), keyport.AccountChanged(2), keyport.MerchantChanged(3), keyport.KeyCreated(hash)}, false},
		{"too many to list", long, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			payload := encodeKeyChanges("abc", 7, tc.changes)
			if len(payload) > 8000 {
				t.Fatalf("payload of %d bytes is over PostgreSQL's limit", len(payload))
			}
			origin, version, changes, all, err := decodeKeyChanges(payload)
			if err != nil || origin != "abc" || version != 7 || all != tc.all {
				t.Fatalf("decode(%.60q) = %q %d all=%t %v", payload, origin, version, all, err)
			}
			if !tc.all && !slices.Equal(changes, tc.changes) {
				t.Fatalf("changes = %v, want %v", changes, tc.changes)
			}
		})
	}
	for _, bad := range []string{"", "abc", "abc x"} {
		if _, _, _, _, err := decodeKeyChanges(bad); err == nil {
			t.Errorf("decode(%q) accepted", bad)
		}
	}
}

// replicas opens n DBs on one fresh PostgreSQL schema, migrated once, like n
// replicas of the server; each one after the first follows the others' key changes.
func replicas(t *testing.T, n int) []*DB {
	t.Helper()
	dbs := sharedDBs(t, storetest.Schema(t), n)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, db := range dbs[1:] {
		wg.Go(func() { db.FollowKeyChanges(ctx, 20*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil))) })
	}
	t.Cleanup(func() { cancel(); wg.Wait() })
	for _, db := range dbs[1:] {
		waitFor(t, "the listener to connect", func() bool { return db.KeyListenerStats().Connected })
	}
	return dbs
}

func waitFor(t *testing.T, what string, ok func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !ok() {
		if time.Since(start) > 5*time.Second {
			t.Fatalf("waited 5s for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

func TestAnotherReplicasRevocationReachesThisOnesVerifier(t *testing.T) {
	dbs := replicas(t, 2)
	a, b := dbs[0], dbs[1]
	ctx := context.Background()
	res := signedUp(t, a)
	created, err := a.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "shared"))
	if err != nil {
		t.Fatal(err)
	}
	v := keyport.NewVerifier(b)
	if _, err := v.Verify(ctx, created.Plaintext, time.Now()); err != nil {
		t.Fatalf("replica B refused a fresh key: %v", err)
	}
	if _, err := a.RevokeKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, created.Key.ID, "leaked"); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, "replica B to refuse the revoked key", func() bool {
		_, err := v.Verify(ctx, created.Plaintext, time.Now())
		return err != nil
	})
	t.Logf("revocation on A refused on B after %v", took)
	if got := b.KeyListenerStats(); got.Notified == 0 {
		t.Fatalf("B applied no notification: %+v", got)
	}
}

func TestAMissedNotificationIsCaughtByThePoll(t *testing.T) {
	dbs := replicas(t, 2)
	a, b := dbs[0], dbs[1]
	before := b.KeyListenerStats().Resets
	seq := b.KeySeq()
	if _, err := a.sql.Exec(`UPDATE key_version SET n = n + 1 WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	took := waitFor(t, "the poll to notice the missed change", func() bool { return b.KeyListenerStats().Resets > before })
	if _, ok := b.KeyChangesSince(seq); ok {
		t.Fatal("after a missed notification the log still reaches back: verifiers would keep stale keys")
	}
	t.Logf("missed notification noticed after %v (poll every 20ms)", took)
}

func TestADroppedListenerEmptiesTheCacheAndReconnects(t *testing.T) {
	dbs := replicas(t, 2)
	a, b := dbs[0], dbs[1]
	before := b.KeyListenerStats().Resets
	seq := b.KeySeq()
	var killed int
	if err := a.sql.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1`,
		listenerName(b.origin)).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("terminated %d listener connections: %v", killed, err)
	}
	waitFor(t, "the dropped listener to reset the log", func() bool { return b.KeyListenerStats().Resets > before })
	if _, ok := b.KeyChangesSince(seq); ok {
		t.Fatal("after the listener dropped the log still reaches back")
	}
	waitFor(t, "the listener to reconnect", func() bool { return b.KeyListenerStats().Connected })
	res := signedUp(t, a)
	created, err := a.CreateKey(context.Background(), keyport.SystemActor, newKey(res, keyport.ModeTest, "after"))
	if err != nil {
		t.Fatal(err)
	}
	seq = b.KeySeq()
	if _, err := a.RevokeKey(context.Background(), keyport.SystemActor, res.Merchant.ID, res.Account.ID, created.Key.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the revocation to arrive after reconnecting", func() bool {
		changes, ok := b.KeyChangesSince(seq)
		return ok && slices.Contains(changes, keyport.KeyChanged(created.Key.ID))
	})
}

func TestWarmPoolOpensEveryConnection(t *testing.T) {
	db, err := Open(storetest.Schema(t), Options{MaxConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.WarmPool(context.Background()); err != nil {
		t.Fatal(err)
	}
	if open := db.sql.Stats().OpenConnections; open != 4 {
		t.Fatalf("%d connections open after warming a pool of 4", open)
	}
}
