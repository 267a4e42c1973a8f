package store

import (
	"context"
	"errors"
	"sync"
	"testing"

	"keyport"
)

func TestCreateKeyCapHoldsUnderConcurrency(t *testing.T) {
	db := openTestDB(t)
	res, err := db.CreateSignup(context.Background(), signup, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	in := keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "ci"}
	var wg sync.WaitGroup
	var mu sync.Mutex
	created, capped := 0, 0
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := db.CreateKey(context.Background(), keyport.SystemActor, in)
			var ce *keyport.CapError
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				created++
			case errors.As(err, &ce):
				capped++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}()
	}
	wg.Wait()
	if created != 2 || capped != 48 {
		t.Fatalf("created %d, capped %d; want 2 and 48", created, capped)
	}
	if n := count(t, db, "SELECT count(*) FROM api_keys"); n != 2 {
		t.Fatalf("stored keys = %d", n)
	}
}
