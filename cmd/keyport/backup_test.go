package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"keyport"
	"keyport/store"
)

// TestBackupWhileWritingAndRestore takes a backup through the command while
// another connection keeps signing up merchants, as a running server would,
// then restores it into a fresh data directory and reads the data back.
func TestBackupWhileWritingAndRestore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	if code := run(ctx, []string{"migrate", "--data", dir}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("migrate exit %d", code)
	}
	live, err := store.Open(filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	signup := func(i int) error {
		_, err := live.CreateSignup(ctx, keyport.Signup{MerchantName: fmt.Sprintf("Merchant %d", i), Name: "Owner",
			Email: fmt.Sprintf("owner%d@example.test", i)}, "hash", "")
		return err
	}
	for i := 0; i < 3; i++ {
		if err := signup(i); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 100; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := signup(i); err != nil {
				t.Errorf("writer: %v", err)
				return
			}
		}
	}()

	copyPath := filepath.Join(t.TempDir(), "keyport-backup.db")
	var out, errOut bytes.Buffer
	code := run(ctx, []string{"backup", copyPath, "--data", dir}, &out, &errOut)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "Wrote a consistent copy of") || !strings.Contains(out.String(), copyPath) ||
		!strings.Contains(out.String(), "encryption.key") {
		t.Fatalf("backup printed %q", out.String())
	}
	info, err := os.Stat(copyPath)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file %v (%v)", info, err)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if err := os.MkdirAll(restored, 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(restored, store.FileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(ctx, []string{"migrate", "--data", restored}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("migrate on the restored copy: exit %d, %q", code, out.String())
	}
	db, err := store.Open(filepath.Join(restored, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.SQL().QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q (%v)", check, err)
	}
	for i := 0; i < 3; i++ {
		u, err := db.UserByEmail(ctx, fmt.Sprintf("owner%d@example.test", i))
		if err != nil || u.MerchantName != fmt.Sprintf("Merchant %d", i) {
			t.Fatalf("owner %d in the restored copy: %+v %v", i, u, err)
		}
	}
}

func TestBackupRefusesAnExistingFileAndBadArguments(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	existing := filepath.Join(t.TempDir(), "existing.db")
	if err := os.WriteFile(existing, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	if code := run(ctx, []string{"backup", "--data", dir, filepath.Join(t.TempDir(), "x.db")}, io.Discard, &errOut); code != 1 ||
		!strings.Contains(errOut.String(), "no database to back up") {
		t.Fatalf("backup without a database: exit %d, %q", code, errOut.String())
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatal("backup created the data directory")
	}
	if code := run(ctx, []string{"migrate", "--data", dir}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("migrate exit %d", code)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"backup", "--data", dir, existing}, "already exists"},
		{[]string{"backup", "--data", dir}, "needs 1 argument"},
		{[]string{"backup", "--data", dir, "a.db", "b.db"}, `unexpected argument "b.db"`},
	}
	for _, tc := range cases {
		errOut.Reset()
		if code := run(ctx, tc.args, io.Discard, &errOut); code != 1 || !strings.Contains(errOut.String(), tc.want) {
			t.Fatalf("%v: exit %d, %q", tc.args, code, errOut.String())
		}
	}
	if b, err := os.ReadFile(existing); err != nil || string(b) != "keep me" {
		t.Fatalf("the existing file was changed: %q %v", b, err)
	}
	if _, err := os.Stat("a.db"); !os.IsNotExist(err) {
		t.Fatal("a refused backup wrote a file")
	}
}
