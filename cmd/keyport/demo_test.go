package main

import (
	"context"
	"strings"
	"testing"

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
