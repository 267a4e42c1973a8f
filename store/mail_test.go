package store

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"keyport"
)

func TestExpiryRemindersAreWrittenOnceByConcurrentSweeps(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Ann", Email: "ann@acme.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"A", "B", "C"} {
		if _, err := db.CreateKey(ctx, keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
			Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: name, Access: keyport.AccessFull,
			ExpiresAt: time.Now().Add(5 * 24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	other, err := Open(db.target, Options{Sealer: testSealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for _, sweeper := range []*DB{db, other, db, other} {
		wg.Go(func() {
			n, err := sweeper.SendExpiryReminders(ctx)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	if total != 3 || count(t, db, `SELECT count(*) FROM outbox WHERE kind = 'key_expiring'`) != 3 ||
		count(t, db, `SELECT count(*) FROM key_reminders WHERE threshold = '7d'`) != 3 {
		t.Fatalf("%d keys reminded by four concurrent sweeps, want each of the 3 keys once", total)
	}
}

func TestMailOptOuts(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Ann", Email: "ann@acme.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	if off, err := db.MailOptOuts(ctx, res.Owner.ID); err != nil || len(off) != 0 {
		t.Fatalf("a new user has opt-outs %v (%v)", off, err)
	}
	if err := db.SetMailOptOuts(ctx, res.Owner.ID, []keyport.MailTopic{keyport.MailExpiry, keyport.MailRequests}); err != nil {
		t.Fatal(err)
	}
	if off, _ := db.MailOptOuts(ctx, res.Owner.ID); len(off) != 2 || off[0] != keyport.MailRequests {
		t.Fatalf("opt-outs %v", off)
	}
	var v *keyport.ValidationError
	if err := db.SetMailOptOuts(ctx, res.Owner.ID, []keyport.MailTopic{"security"}); !errors.As(err, &v) {
		t.Fatalf("an unknown topic was stored: %v", err)
	}
	if err := db.SetMailOptOuts(ctx, 999, nil); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("an unknown user: %v", err)
	}
}
