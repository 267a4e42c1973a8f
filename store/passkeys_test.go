package store

import (
	"context"
	"errors"
	"testing"

	"keyport"
)

func TestPasskeysAreSecondFactorsWithTheirRecoveryCodes(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Bolt", Name: "Bo", Email: "bo@bolt.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	other, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Acme", Name: "Ada", Email: "ada@acme.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	u, actor := res.Owner, keyport.SystemActor
	codes, err := keyport.NewRecoveryCodes()
	if err != nil {
		t.Fatal(err)
	}
	issued, err := db.AddPasskey(ctx, actor, u, "Laptop", []byte("cred-1"), []byte(`{"id":"1"}`), codes)
	if err != nil || !issued {
		t.Fatalf("first passkey: issued %v, %v", issued, err)
	}
	issued, err = db.AddPasskey(ctx, actor, u, "Security key", []byte("cred-2"), []byte(`{"id":"2"}`), codes)
	if err != nil || issued {
		t.Fatalf("second passkey: issued %v, %v", issued, err)
	}
	if _, err := db.AddPasskey(ctx, actor, other.Owner, "Copy", []byte("cred-1"), []byte(`{}`), codes); !errors.Is(err, keyport.ErrConflict) {
		t.Fatalf("a credential id registered twice: %v", err)
	}
	reloaded, err := db.UserByID(ctx, u.ID)
	if err != nil || !reloaded.TwoFactor {
		t.Fatalf("a user with passkeys: TwoFactor %v, %v", reloaded.TwoFactor, err)
	}
	if err := db.PasskeyUsed(ctx, u.ID, []byte("cred-2"), []byte(`{"id":"2","n":1}`)); err != nil {
		t.Fatal(err)
	}
	if err := db.PasskeyUsed(ctx, other.Owner.ID, []byte("cred-2"), []byte(`{}`)); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another user's passkey marked used: %v", err)
	}
	tf, err := db.TwoFactorOf(ctx, u.ID)
	if err != nil || len(tf.Passkeys) != 2 || tf.Passkeys[1].LastUsedAt.IsZero() || tf.RecoveryLeft != keyport.RecoveryCodeCount || !tf.Enabled() {
		t.Fatalf("two-factor state %+v, %v", tf, err)
	}
	if _, err := db.RemovePasskey(ctx, actor, other.Owner, tf.Passkeys[0].ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another user removed a passkey: %v", err)
	}
	for i, p := range tf.Passkeys {
		name, err := db.RemovePasskey(ctx, actor, u, p.ID)
		if err != nil || name != p.Name {
			t.Fatalf("remove %d: %q, %v", i, name, err)
		}
		left, _ := db.TwoFactorOf(ctx, u.ID)
		if wantCodes := i == 0; (left.RecoveryLeft > 0) != wantCodes {
			t.Fatalf("after removing %d of 2 passkeys, %d recovery codes left", i+1, left.RecoveryLeft)
		}
	}
	if err := db.TurnOffTwoFactor(ctx, actor, u); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("turning off nothing: %v", err)
	}
}
