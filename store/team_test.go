package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"keyport"
)

func TestInvitationIsOneTimeAndExpires(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	now := time.Now()
	db.Now = func() time.Time { return now }
	res := signedUp(t, db)
	owner := keyport.UserActor(&res.Owner, "192.0.2.1")
	inv, token, err := db.CreateInvitation(ctx, nil, owner, res.Merchant.ID, keyport.NewInvitation{Email: "rita@acme.test", Role: keyport.RoleReviewer})
	if err != nil || len(token) < 40 || inv.MerchantName != "Acme" || !inv.ExpiresAt.Equal(now.Add(keyport.InvitationTTL).Truncate(time.Second)) {
		t.Fatalf("invitation %+v, token %q, %v", inv, token, err)
	}
	if n := count(t, db, `SELECT count(*) FROM invitations WHERE token_hash = $1`, []byte(token)); n != 0 {
		t.Fatal("the token is stored as it is")
	}
	_, _, err = db.CreateInvitation(ctx, nil, owner, res.Merchant.ID, keyport.NewInvitation{Email: "RITA@acme.test", Role: keyport.RoleDeveloper})
	wantField(t, err, "email")
	_, _, err = db.CreateInvitation(ctx, nil, owner, res.Merchant.ID, keyport.NewInvitation{Email: signup.Email, Role: keyport.RoleDeveloper})
	wantField(t, err, "email")

	if _, err := db.InvitationByToken(ctx, token+"x"); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a wrong token: %v", err)
	}
	u, err := db.AcceptInvitation(ctx, token, "Rita", "hash", "192.0.2.2")
	if err != nil || u.Role != keyport.RoleReviewer || u.MerchantID != res.Merchant.ID || u.Email != "rita@acme.test" {
		t.Fatalf("accept: %+v %v", u, err)
	}
	if _, err := db.AcceptInvitation(ctx, token, "Rita again", "hash", ""); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a used invitation worked again: %v", err)
	}

	_, late, _ := db.CreateInvitation(ctx, nil, owner, res.Merchant.ID, keyport.NewInvitation{Email: "late@acme.test", Role: keyport.RoleDeveloper})
	now = now.Add(keyport.InvitationTTL + time.Second)
	if _, err := db.AcceptInvitation(ctx, late, "Late", "hash", ""); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("an expired invitation worked: %v", err)
	}
	if list, _ := db.PendingInvitations(ctx, res.Merchant.ID); len(list) != 0 {
		t.Fatalf("expired invitations listed: %+v", list)
	}
	revoked, revokedToken, _ := db.CreateInvitation(ctx, nil, owner, res.Merchant.ID, keyport.NewInvitation{Email: "late@acme.test", Role: keyport.RoleDeveloper})
	b := otherMerchant(t, db)
	if err := db.RevokeInvitation(ctx, keyport.SystemActor, b.Merchant.ID, revoked.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant revoked it: %v", err)
	}
	if err := db.RevokeInvitation(ctx, owner, res.Merchant.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AcceptInvitation(ctx, revokedToken, "Late", "hash", ""); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a revoked invitation worked: %v", err)
	}
	for action, want := range map[string]int{"member.invited": 3, "member.joined": 1, "member.invitation_revoked": 1} {
		if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = $1`, action); n != want {
			t.Errorf("%s: %d, want %d", action, n, want)
		}
	}
}

func TestLastOwnerStaysAndRemovalEndsSessions(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	owner := keyport.UserActor(&res.Owner, "")
	if err := db.ChangeRole(ctx, owner, res.Merchant.ID, res.Owner.ID, keyport.RoleDeveloper); !errors.Is(err, keyport.ErrLastOwner) {
		t.Fatalf("demoted the last owner: %v", err)
	}
	if err := db.RemoveMember(ctx, owner, res.Merchant.ID, res.Owner.ID); !errors.Is(err, keyport.ErrLastOwner) {
		t.Fatalf("removed the last owner: %v", err)
	}
	dev, err := db.AddMember(ctx, owner, res.Merchant.ID, "Dev", "dev@acme.test", keyport.RoleDeveloper, "hash")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.ChangeRole(ctx, owner, res.Merchant.ID, dev.ID, keyport.Role("admin")); err == nil {
		t.Fatal("a member was made admin")
	}
	if err := db.ChangeRole(ctx, owner, res.Merchant.ID, dev.ID, keyport.RoleOwner); err != nil {
		t.Fatal(err)
	}
	if err := db.ChangeRole(ctx, owner, res.Merchant.ID, res.Owner.ID, keyport.RoleReviewer); err != nil {
		t.Fatalf("demoting one of two owners: %v", err)
	}
	b := otherMerchant(t, db)
	if err := db.RemoveMember(ctx, keyport.SystemActor, b.Merchant.ID, dev.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant removed a member: %v", err)
	}
	if _, err := db.sql.Exec(`INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, 1, 1)`, []byte{1}, res.Owner.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveMember(ctx, keyport.UserActor(&dev, ""), res.Merchant.ID, res.Owner.ID); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id = $1`, res.Owner.ID); n != 0 {
		t.Fatal("the removed member's sessions survive")
	}
	if _, err := db.UserByID(ctx, res.Owner.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatal("a removed member still loads")
	}
	if _, err := db.UserByEmail(ctx, signup.Email); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatal("a removed member can still log in by email")
	}
	if list, _ := db.TeamMembers(ctx, res.Merchant.ID); len(list) != 1 || list[0].ID != dev.ID {
		t.Fatalf("team after removal: %+v", list)
	}
	if _, _, err := db.CreateInvitation(ctx, nil, keyport.UserActor(&dev, ""), res.Merchant.ID, keyport.NewInvitation{Email: signup.Email, Role: keyport.RoleDeveloper}); err != nil {
		t.Fatalf("a removed member's email cannot be invited again: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action IN ('member.role_changed', 'member.removed')`); n != 3 {
		t.Fatalf("team events: %d", n)
	}
}
