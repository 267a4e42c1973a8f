package store

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"

	"keyport"
)

func TestKeyLookupsCountsEveryLookupAndNothingElse(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	created, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "counted"))
	if err != nil {
		t.Fatal(err)
	}
	if n := db.KeyLookups(); n != 0 {
		t.Fatalf("KeyLookups after signup and CreateKey = %d, want 0", n)
	}
	cases := []struct {
		name    string
		hash    [32]byte
		wantErr error
	}{
		{"existing key", sha256.Sum256([]byte(created.Plaintext)), nil},
		{"same key again", sha256.Sum256([]byte(created.Plaintext)), nil},
		{"unknown key", sha256.Sum256([]byte("sk_test_unknown")), keyport.ErrNotFound},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := db.LookupKey(ctx, tc.hash)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("LookupKey err = %v, want %v", err, tc.wantErr)
			}
			if got, want := db.KeyLookups(), int64(i+1); got != want {
				t.Fatalf("KeyLookups = %d, want %d", got, want)
			}
		})
	}
}
