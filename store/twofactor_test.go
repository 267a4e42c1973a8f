package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"keyport"
)

func TestSecondFactorCodesWorkOnceAndGuessesAreThrottled(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Bolt", Name: "Bo", Email: "bo@bolt.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	u := res.Owner
	secret, err := keyport.NewTOTPSecret(u.Email)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.BeginTOTP(ctx, u.ID, secret); err != nil {
		t.Fatal(err)
	}
	if got, err := db.PendingTOTP(ctx, u.ID); err != nil || got != secret {
		t.Fatalf("pending secret %q, %v", got, err)
	}
	codes, err := keyport.NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := db.ConfirmTOTP(ctx, keyport.SystemActor, u, now.Unix()/30-2, codes); err != nil {
		t.Fatal(err)
	}
	if err := db.BeginTOTP(ctx, u.ID, secret); !errors.Is(err, keyport.ErrConflict) {
		t.Fatalf("a second app over a confirmed one: %v", err)
	}
	if tf, err := db.TwoFactorOf(ctx, u.ID); err != nil || !tf.Enabled() || tf.RecoveryLeft != keyport.RecoveryCodeCount {
		t.Fatalf("two-factor state %+v, %v", tf, err)
	}

	unlimited := &keyport.LoginThrottle{PerAccount: 1000, PerIP: 1000, Window: time.Minute}
	actor := keyport.Actor{UserID: u.ID, Label: u.Email, IP: "192.0.2.9"}
	code, err := keyport.TOTPCode(secret, now)
	if err != nil {
		t.Fatal(err)
	}
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			r, err := db.CheckSecondFactor(ctx, unlimited, actor, u, code)
			if err != nil {
				t.Error(err)
			}
			if r == SecondFactorTOTP {
				wins.Add(1)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("one code was accepted %d times by 20 concurrent checks", wins.Load())
	}
	steps := []struct {
		name string
		code string
		want SecondFactorResult
	}{
		{"an older step after a newer one", mustCode(t, secret, now.Add(-30*time.Second)), SecondFactorWrong},
		{"the next step", mustCode(t, secret, now.Add(30*time.Second)), SecondFactorTOTP},
		{"a recovery code", codes[0], SecondFactorRecovery},
		{"the same recovery code", codes[0], SecondFactorWrong},
		{"a made-up recovery code", "abcde-fghjk", SecondFactorWrong},
	}
	for _, s := range steps {
		if got, err := db.CheckSecondFactor(ctx, unlimited, actor, u, s.code); err != nil || got != s.want {
			t.Errorf("%s: %v, %v; want %v", s.name, got, err, s.want)
		}
	}

	if r, err := db.CheckSecondFactor(ctx, unlimited, actor, u, codes[2]); err != nil || r != SecondFactorRecovery {
		t.Fatalf("a good code, which forgets the wrong ones before it: %v, %v", r, err)
	}
	strict := keyport.NewSecondFactorThrottle()
	actor.IP = "192.0.2.10"
	for range strict.PerAccount {
		if r, err := db.CheckSecondFactor(ctx, strict, actor, u, "000000"); err != nil || r != SecondFactorWrong {
			t.Fatalf("a wrong code: %v, %v", r, err)
		}
	}
	var te *keyport.ThrottledError
	if _, err := db.CheckSecondFactor(ctx, strict, actor, u, codes[1]); !errors.As(err, &te) {
		t.Fatalf("the code after %d wrong ones: %v, want a ThrottledError", strict.PerAccount, err)
	}
	actor.IP = "192.0.2.11"
	fromIP := func() int {
		return count(t, db, `SELECT count(*) FROM login_attempts WHERE scope_hash = $1`, scopeHash(keyport.SecondFactorIPScope(actor.IP)))
	}
	if r, err := db.CheckSecondFactor(ctx, unlimited, actor, u, "000000"); err != nil || r != SecondFactorWrong {
		t.Fatalf("a wrong code: %v, %v", r, err)
	}
	if r, err := db.CheckSecondFactor(ctx, unlimited, actor, u, codes[3]); err != nil || r != SecondFactorRecovery {
		t.Fatalf("a good code: %v, %v", r, err)
	}
	if n := fromIP(); n != 1 {
		t.Fatalf("%d attempts counted against the IP, want the wrong code only", n)
	}
	if err := db.TurnOffTwoFactor(ctx, actor, u); err != nil {
		t.Fatal(err)
	}
	if tf, _ := db.TwoFactorOf(ctx, u.ID); tf.Enabled() || tf.RecoveryLeft != 0 {
		t.Fatalf("after turning off: %+v", tf)
	}
}

func mustCode(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	code, err := keyport.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return code
}
