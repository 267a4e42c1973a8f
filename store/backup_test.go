package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"keyport"
	"keyport/store/storetest"
)

func TestBackupIsConsistentWhileWritersKeepWriting(t *testing.T) {
	db := openTestDB(t)
	if db.Engine() != SQLite {
		t.Skip("copies the SQLite file; TestBackupOnPostgresPointsToItsTools covers PostgreSQL")
	}
	ctx := context.Background()
	res := signedUp(t, db)
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "before")); err != nil {
		t.Fatal(err)
	}
	before := count(t, db, `SELECT count(*) FROM merchants`)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var written atomic.Int64
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				s := keyport.Signup{MerchantName: fmt.Sprintf("Writer %d-%d", w, i), Name: "W", Email: fmt.Sprintf("w%d-%d@writers.test", w, i)}
				r, err := db.CreateSignup(ctx, s, "hash", "")
				if err != nil {
					t.Errorf("writer: %v", err)
					return
				}
				if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(r, keyport.ModeTest, "k")); err != nil {
					t.Errorf("writer: %v", err)
					return
				}
				written.Add(1)
			}
		}()
	}
	for written.Load() < 5 && !t.Failed() {
		time.Sleep(time.Millisecond)
	}
	committed := count(t, db, `SELECT count(*) FROM merchants`)
	path := filepath.Join(t.TempDir(), "copy.db")
	start := written.Load()
	size, err := db.Backup(ctx, path)
	t.Logf("%d signups committed while the backup ran", written.Load()-start)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if written.Load() < 5 {
		t.Fatal("the writers did not write")
	}
	info, err := os.Stat(path)
	if err != nil || info.Size() != size || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file %v (size %d reported): %v", info, size, err)
	}

	restored, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	var check string
	if err := restored.sql.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q (%v)", check, err)
	}
	if applied, err := restored.Migrate(ctx); err != nil || len(applied) != 0 {
		t.Fatalf("the copy lacks migrations: applied %v (%v)", applied, err)
	}
	copied := count(t, restored, `SELECT count(*) FROM merchants`)
	if copied < committed || copied < before+5 {
		t.Fatalf("the copy has %d merchants, %d were committed before the backup started", copied, committed)
	}
	if n := count(t, restored, `SELECT count(*) FROM merchants m WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.merchant_id = m.id)
		OR NOT EXISTS (SELECT 1 FROM api_accounts a WHERE a.merchant_id = m.id)`); n != 0 {
		t.Fatalf("%d merchants in the copy lack the Owner or account created in the same transaction", n)
	}
	if n := count(t, restored, `SELECT count(*) FROM pragma_foreign_key_check`); n != 0 {
		t.Fatalf("%d dangling references in the copy", n)
	}
	u, err := restored.UserByEmail(ctx, signup.Email)
	if err != nil || u.MerchantName != "Acme" {
		t.Fatalf("owner in the copy: %+v %v", u, err)
	}
	if keys := currentKeys(t, restored, res.Account.ID, keyport.ModeTest); len(keys) != 1 || keys[0].Name != "before" {
		t.Fatalf("keys in the copy: %+v", keys)
	}

	if _, err := db.Backup(ctx, path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("a backup overwrote an existing file: %v", err)
	}
}

func TestBackupOnPostgresPointsToItsTools(t *testing.T) {
	db, err := Open(storetest.Schema(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	path := filepath.Join(t.TempDir(), "copy.db")
	_, err = db.Backup(context.Background(), path)
	if !errors.Is(err, ErrBackupPostgres) || !strings.Contains(err.Error(), "pg_dump -Fc") {
		t.Fatalf("Backup on PostgreSQL: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Backup on PostgreSQL left a file: %v", err)
	}
}
