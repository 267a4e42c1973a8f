package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"keyport"
	"keyport/store"
	"keyport/store/storetest"
)

func openTestStore(t *testing.T) *store.DB {
	t.Helper()
	sealer, err := keyport.NewSealer(make([]byte, keyport.EncryptionKeySize))
	if err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(storetest.Target(t), store.Options{Sealer: sealer})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestSeedDemoCreatesKeysAndAPendingRequestOnce(t *testing.T) {
	t.Parallel()
	db := openTestStore(t)
	ctx := context.Background()
	logins, err := seedDemo(ctx, db)
	if err != nil || !logins.Created {
		t.Fatalf("seed: %+v, %v", logins, err)
	}
	counts := map[string]int{
		`SELECT count(*) FROM api_keys WHERE mode = 'test' AND revoked_at IS NULL`:          3,
		`SELECT count(*) FROM api_keys WHERE legacy = TRUE`:                                 1,
		`SELECT count(*) FROM api_accounts`:                                                 2,
		`SELECT count(*) FROM registered_auths WHERE secrets IS NOT NULL`:                   3,
		`SELECT count(*) FROM shipments WHERE mode = 'test'`:                                72,
		`SELECT count(*) FROM shipments WHERE mode = 'live'`:                                6,
		`SELECT count(*) FROM api_keys WHERE revoked_at IS NOT NULL`:                        1,
		`SELECT count(*) FROM live_key_requests WHERE state = 'pending'`:                    1,
		`SELECT count(*) FROM users WHERE email IN ($1, $2)`:                                2,
		`SELECT count(*) FROM audit_events WHERE action = 'request.filed'`:                  1,
		`SELECT count(*) FROM api_keys WHERE expires_at IS NOT NULL AND revoked_at IS NULL`: 1,
	}
	for q, want := range counts {
		var n int
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{demoAdminEmail, demoMerchantEmail}
		}
		if err := db.SQL().QueryRow(q, args...).Scan(&n); err != nil || n != want {
			t.Fatalf("%s = %d (%v), want %d", q, n, err, want)
		}
	}
	again, err := seedDemo(ctx, db)
	if err != nil || again.Created {
		t.Fatalf("second seed: %+v, %v", again, err)
	}
}

func TestLogExpiredKeysRunsUntilCancelled(t *testing.T) {
	t.Parallel()
	db := openTestStore(t)
	ctx := context.Background()
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Ada", Email: "ada@acme.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateKey(ctx, keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "short", ExpiresAt: time.Now().Add(time.Second)}); err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return time.Now().Add(time.Hour) }
	var logs bytes.Buffer
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		logExpiredKeys(runCtx, db, slog.New(slog.NewTextHandler(&logs, nil)), time.Millisecond)
		close(done)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var n int
		if err := db.SQL().QueryRow(`SELECT count(*) FROM audit_events WHERE action = 'key.expired'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the expired key was never logged")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if !strings.Contains(logs.String(), "keys expired") {
		t.Fatalf("logs: %s", logs.String())
	}
}
