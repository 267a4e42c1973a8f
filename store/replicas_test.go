package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"keyport"
	"keyport/store/storetest"
)

// sharedDBs opens n DBs on one database, as n server processes would: n
// handles on one SQLite file, or n pools on one PostgreSQL schema.
func sharedDBs(t *testing.T, target string, n int) []*DB {
	t.Helper()
	var dbs []*DB
	for i := 0; i < n; i++ {
		db, err := Open(target, Options{Sealer: testSealer(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		dbs = append(dbs, db)
	}
	return dbs
}

// spread runs fn 100 times at once, the i-th call on DB i mod len(dbs), and
// returns how many calls succeeded; an error other than the expected refusal fails the test.
func spread(t *testing.T, dbs []*DB, refused func(error) bool, fn func(db *DB, i int) error) int {
	t.Helper()
	var ok atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 100; i++ {
		wg.Go(func() {
			<-start
			err := fn(dbs[i%len(dbs)], i)
			switch {
			case err == nil:
				ok.Add(1)
			case !refused(err):
				t.Errorf("call %d: %v", i, err)
			}
		})
	}
	close(start)
	wg.Wait()
	return int(ok.Load())
}

func isCapError(err error) bool {
	var ce *keyport.CapError
	return errors.As(err, &ce)
}

func isConflict(err error) bool {
	return errors.Is(err, keyport.ErrConflict) || errors.Is(err, keyport.ErrIllegalTransition) || errors.Is(err, keyport.ErrNotFound)
}

// TestRulesHoldAcrossReplicas runs each rule that reads and then writes 100
// times at once over 3 processes' pools on one database: the outcome must be
// what one process with one writer gives.
func TestRulesHoldAcrossReplicas(t *testing.T) {
	ctx := context.Background()
	t.Run("the token cap is never exceeded", func(t *testing.T) {
		dbs := sharedDBs(t, storetest.Target(t), 3)
		res := signedUp(t, dbs[0])
		if err := dbs[0].SetTokenCap(ctx, keyport.SystemActor, 2); err != nil {
			t.Fatal(err)
		}
		made := spread(t, dbs, isCapError, func(db *DB, i int) error {
			_, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "burst"))
			return err
		})
		if made != 2 || count(t, dbs[0], `SELECT count(*) FROM api_keys WHERE name = 'burst'`) != 2 {
			t.Fatalf("%d keys created under a cap of 2", made)
		}
	})
	t.Run("a key is revoked once and rolled once", func(t *testing.T) {
		dbs := sharedDBs(t, storetest.Target(t), 3)
		res := signedUp(t, dbs[0])
		if err := dbs[0].SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
			t.Fatal(err)
		}
		revoked, err := dbs[0].CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "revoke me"))
		if err != nil {
			t.Fatal(err)
		}
		if n := spread(t, dbs, isConflict, func(db *DB, i int) error {
			_, err := db.RevokeKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, revoked.Key.ID, "")
			return err
		}); n != 1 {
			t.Fatalf("revoked %d times", n)
		}
		rolled, err := dbs[0].CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "roll me"))
		if err != nil {
			t.Fatal(err)
		}
		if n := spread(t, dbs, isConflict, func(db *DB, i int) error {
			_, err := db.RollKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, rolled.Key.ID, time.Hour)
			return err
		}); n != 1 || count(t, dbs[0], `SELECT count(*) FROM api_keys WHERE name = 'roll me'`) != 2 {
			t.Fatalf("rolled %d times", n)
		}
	})
	t.Run("an approved live key is issued once", func(t *testing.T) {
		dbs := sharedDBs(t, storetest.Target(t), 3)
		res := signedUp(t, dbs[0])
		id := requestIn(t, dbs[0], res, keyport.RequestApproved)
		if n := spread(t, dbs, isConflict, func(db *DB, i int) error {
			_, err := db.IssueLiveKey(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, id)
			return err
		}); n != 1 || count(t, dbs[0], `SELECT count(*) FROM api_keys WHERE mode = 'live'`) != 1 {
			t.Fatalf("issued %d times", n)
		}
	})
	t.Run("usage counts add up", func(t *testing.T) {
		dbs := sharedDBs(t, storetest.Target(t), 3)
		res := signedUp(t, dbs[0])
		if err := dbs[0].SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for i := 0; i < 5; i++ {
			k, err := dbs[0].CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "counted"))
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, k.Key.ID)
		}
		at := time.Now()
		spread(t, dbs, func(error) bool { return false }, func(db *DB, i int) error {
			var uses []keyport.KeyUse
			for j := range ids {
				k := ids[(i+j)%len(ids)]
				uses = append(uses, keyport.KeyUse{KeyID: k, Count: 3, LastAt: at.Add(time.Duration(i) * time.Second), LastIP: "192.0.2.1"})
			}
			return db.RecordUsage(ctx, uses)
		})
		if n := count(t, dbs[0], `SELECT sum(use_count) FROM api_keys WHERE name = 'counted'`); n != 100*5*3 {
			t.Fatalf("use counts sum to %d, want %d", n, 100*5*3)
		}
		if n := count(t, dbs[0], `SELECT count(*) FROM api_keys WHERE name = 'counted' AND last_used_at = $1`, at.Add(99*time.Second).Unix()); n != 5 {
			t.Fatalf("%d keys kept the latest use", n)
		}
	})
	t.Run("an expiry is logged once", func(t *testing.T) {
		dbs := sharedDBs(t, storetest.Target(t), 3)
		res := signedUp(t, dbs[0])
		nk := newKey(res, keyport.ModeTest, "expiring")
		nk.ExpiresAt = time.Now().Add(-time.Minute)
		if _, err := dbs[0].CreateKey(ctx, keyport.SystemActor, nk); err != nil {
			t.Fatal(err)
		}
		logged := 0
		var mu sync.Mutex
		spread(t, dbs, func(error) bool { return false }, func(db *DB, i int) error {
			n, err := db.LogExpiredKeys(ctx)
			mu.Lock()
			logged += n
			mu.Unlock()
			return err
		})
		if logged != 1 || count(t, dbs[0], `SELECT count(*) FROM audit_events WHERE action = 'key.expired'`) != 1 {
			t.Fatalf("expiry logged %d times", logged)
		}
	})
}
