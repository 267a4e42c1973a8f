package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"keyport"
)

func TestChangePasswordEndsEveryOtherSession(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	other := otherMerchant(t, db)
	for _, id := range []string{"current", "phone", "tablet"} {
		addSession(t, db, res.Owner.ID, id)
	}
	addSession(t, db, other.Owner.ID, "other")

	ended, err := db.ChangePassword(ctx, keyport.UserActor(&res.Owner, "192.0.2.1"), res.Owner, "new-hash", "current")
	if err != nil || ended != 2 {
		t.Fatalf("ended %d sessions (%v), want 2", ended, err)
	}
	current := hashSessionID("current")
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id = $1 AND id_hash = $2`, res.Owner.ID, current[:]); n != 1 {
		t.Fatal("the current session ended")
	}
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id = $1`, res.Owner.ID); n != 1 {
		t.Fatalf("%d sessions of the user remain, want only the current one", n)
	}
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id = $1`, other.Owner.ID); n != 1 {
		t.Fatal("another user's session ended")
	}
	if u, err := db.UserByID(ctx, res.Owner.ID); err != nil || u.PasswordHash != "new-hash" {
		t.Fatalf("password hash after the change: %q %v", u.PasswordHash, err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'user.password_changed' AND object_id = $1 AND ip = '192.0.2.1'`,
		res.Owner.ID); n != 1 {
		t.Fatalf("password change events: %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE detail LIKE '%new-hash%'`); n != 0 {
		t.Fatal("the password hash reached the audit log")
	}

	removed, err := db.AddMember(ctx, keyport.SystemActor, res.Merchant.ID, "Dev", "dev@acme.test", keyport.RoleDeveloper, "hash")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.RemoveMember(ctx, keyport.SystemActor, res.Merchant.ID, removed.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ChangePassword(ctx, keyport.SystemActor, removed, "x", ""); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a removed member's password changed: %v", err)
	}
}

func TestEndAllSessionsSignsTheUserOutEverywhere(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	other := otherMerchant(t, db)
	for _, id := range []string{"current", "phone"} {
		addSession(t, db, res.Owner.ID, id)
	}
	addSession(t, db, other.Owner.ID, "other")
	sessions := db.NewSessionStore(make([]byte, 32), 30*time.Minute, 12*time.Hour, false)
	if n, err := sessions.CountActive(ctx, res.Owner.ID, ""); err != nil || n != 2 {
		t.Fatalf("active sessions %d (%v), want 2", n, err)
	}

	ended, err := db.EndAllSessions(ctx, keyport.UserActor(&res.Owner, ""), res.Owner)
	if err != nil || ended != 2 {
		t.Fatalf("ended %d (%v), want 2", ended, err)
	}
	if n, err := sessions.CountActive(ctx, res.Owner.ID, ""); err != nil || n != 0 {
		t.Fatalf("active sessions after signing out everywhere: %d %v", n, err)
	}
	if n := count(t, db, `SELECT count(*) FROM sessions WHERE user_id = $1`, other.Owner.ID); n != 1 {
		t.Fatal("another user's session ended")
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'user.signed_out_everywhere' AND object_id = $1`, res.Owner.ID); n != 1 {
		t.Fatalf("sign-out events: %d", n)
	}
}

func TestCountActiveSkipsIdleAndOldSessions(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	now := time.Now()
	db.Now = func() time.Time { return now }
	for i, ages := range [][2]time.Duration{{0, 0}, {time.Hour, 2 * time.Hour}, {5 * time.Minute, 13 * time.Hour}} {
		hash := hashSessionID(string(rune('a' + i)))
		if _, err := db.sql.Exec(`INSERT INTO sessions (id_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)`,
			hash[:], res.Owner.ID, now.Add(-ages[1]).Unix(), now.Add(-ages[0]).Unix()); err != nil {
			t.Fatal(err)
		}
	}
	sessions := db.NewSessionStore(make([]byte, 32), 30*time.Minute, 12*time.Hour, false)
	if n, err := sessions.CountActive(ctx, res.Owner.ID, ""); err != nil || n != 1 {
		t.Fatalf("active sessions %d (%v), want 1: an idle and an expired one do not count", n, err)
	}
	for _, tc := range []struct {
		current string
		want    int
	}{
		{"a", 1},
		{"b", 2},
		{"c", 1},
	} {
		if n, err := sessions.CountActive(ctx, res.Owner.ID, tc.current); err != nil || n != tc.want {
			t.Fatalf("active sessions seen from session %s: %d (%v), want %d: the current one counts within its lifetime", tc.current, n, err, tc.want)
		}
	}
}

func TestLookupsByUnstorableTextFindNothing(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	for _, text := range []string{"ada@acme.test\x00", "ada\xff@acme.test"} {
		lookups := map[string]func() error{
			"user by email": func() error { _, err := db.UserByEmail(ctx, text); return err },
			"tracking number": func() error {
				_, err := db.TrackShipment(ctx, res.Account.ID, keyport.ModeTest, text)
				return err
			},
			"auth secret field": func() error {
				_, _, err := db.RevealAuthSecret(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, 1, text)
				return err
			},
		}
		for name, lookup := range lookups {
			if err := lookup(); !errors.Is(err, keyport.ErrNotFound) {
				t.Errorf("%s %q: %v, want ErrNotFound", name, text, err)
			}
		}
	}
}
