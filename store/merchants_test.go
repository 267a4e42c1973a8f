package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"keyport"
)

// addSession stores a session row for a user, as a sign-in would.
func addSession(t *testing.T, db *DB, userID int64, id string) {
	t.Helper()
	hash := hashSessionID(id)
	if _, err := db.sql.Exec(`INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)`,
		hash[:], userID, db.now(), db.now()); err != nil {
		t.Fatal(err)
	}
}

func TestDisablingAMerchantEndsSessionsAndKeysUntilEnabled(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	other := otherMerchant(t, db)
	dev, err := db.AddMember(ctx, keyport.SystemActor, res.Merchant.ID, "Dev", "dev@acme.test", keyport.RoleDeveloper, "hash")
	if err != nil {
		t.Fatal(err)
	}
	addSession(t, db, res.Owner.ID, "owner-laptop")
	addSession(t, db, dev.ID, "dev-laptop")
	addSession(t, db, other.Owner.ID, "other-laptop")
	_, token, err := db.CreateInvitation(ctx, nil, keyport.UserActor(&res.Owner, ""), res.Merchant.ID,
		keyport.NewInvitation{Email: "late@acme.test", Role: keyport.RoleReviewer})
	if err != nil {
		t.Fatal(err)
	}
	created, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "CI"))
	if err != nil {
		t.Fatal(err)
	}
	otherKey, err := db.CreateKey(ctx, keyport.SystemActor, newKey(other, keyport.ModeTest, "CI"))
	if err != nil {
		t.Fatal(err)
	}
	v := keyport.NewVerifier(db)
	verify := func(plaintext string) error {
		_, err := v.Verify(ctx, plaintext, time.Now())
		return err
	}
	if err := verify(created.Plaintext); err != nil {
		t.Fatalf("a fresh key does not verify: %v", err)
	}

	admin, err := db.CreateAdmin(ctx, "Staff", "staff@keyport.test", "hash")
	if err != nil {
		t.Fatal(err)
	}
	staff := keyport.UserActor(&admin, "192.0.2.9")
	m, err := db.SetMerchantDisabled(ctx, staff, res.Merchant.ID, true)
	if err != nil || !m.Disabled || m.Name != "Acme" {
		t.Fatalf("disable: %+v %v", m, err)
	}
	if _, err := db.SetMerchantDisabled(ctx, staff, res.Merchant.ID, true); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM merchants WHERE id = $1 AND disabled_at IS NOT NULL`, res.Merchant.ID); n != 1 {
		t.Fatal("disabled_at is not set")
	}
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id IN ($1, $2)`, res.Owner.ID, dev.ID); n != 0 {
		t.Fatalf("%d sessions of the disabled merchant's users survive", n)
	}
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id = $1`, other.Owner.ID); n != 1 {
		t.Fatal("another merchant's session ended")
	}
	if err := verify(created.Plaintext); !errors.Is(err, keyport.ErrInvalidKey) {
		t.Fatalf("a key of a disabled merchant verifies: %v", err)
	}
	if err := verify(otherKey.Plaintext); err != nil {
		t.Fatalf("another merchant's key stopped working: %v", err)
	}
	for _, load := range []func() (keyport.User, error){
		func() (keyport.User, error) { return db.UserByID(ctx, dev.ID) },
		func() (keyport.User, error) { return db.UserByEmail(ctx, signup.Email) },
	} {
		if u, err := load(); err != nil || !u.MerchantDisabled {
			t.Fatalf("user of a disabled merchant loads as %+v (%v)", u, err)
		}
	}
	if u, err := db.UserByID(ctx, other.Owner.ID); err != nil || u.MerchantDisabled {
		t.Fatalf("user of an enabled merchant: %+v %v", u, err)
	}
	if inv, err := db.InvitationByToken(ctx, token); err != nil || !inv.MerchantDisabled {
		t.Fatalf("invitation of a disabled merchant: %+v %v", inv, err)
	}
	if _, err := db.AcceptInvitation(ctx, token, "Late", "hash", ""); !errors.Is(err, keyport.ErrMerchantDisabled) {
		t.Fatalf("joined a disabled merchant: %v", err)
	}
	list, err := db.ListMerchants(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list {
		if m.Disabled != (m.ID == res.Merchant.ID) {
			t.Fatalf("merchant list: %+v", m)
		}
	}

	if m, err := db.SetMerchantDisabled(ctx, staff, res.Merchant.ID, false); err != nil || m.Disabled {
		t.Fatalf("enable: %+v %v", m, err)
	}
	if err := verify(created.Plaintext); err != nil {
		t.Fatalf("the key does not verify after enabling: %v", err)
	}
	if u, err := db.UserByID(ctx, dev.ID); err != nil || u.MerchantDisabled {
		t.Fatalf("user after enabling: %+v %v", u, err)
	}
	if _, err := db.AcceptInvitation(ctx, token, "Late", "hash", ""); err != nil {
		t.Fatalf("joining after enabling: %v", err)
	}
	if _, err := db.SetMerchantDisabled(ctx, staff, 9999, true); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("disabling an unknown merchant: %v", err)
	}

	events := map[string]int{}
	rows, err := db.sql.Query(`SELECT action FROM audit_events WHERE object_type = 'merchant' AND action LIKE 'merchant.%abled'
		AND merchant_id = $1 AND actor = 'staff@keyport.test' AND actor_user = $2`, res.Merchant.ID, admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var action string
		if err := rows.Scan(&action); err != nil {
			t.Fatal(err)
		}
		events[action]++
	}
	if events["merchant.disabled"] != 1 || events["merchant.enabled"] != 1 || len(events) != 2 {
		t.Fatalf("audit events %v, want one disable and one enable", events)
	}
}
