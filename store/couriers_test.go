package store

import (
	"context"
	"errors"
	"strings"
	"testing"

	"keyport"
)

// edited is a change of a DPD auth: the secret fields present are filled.
func edited(company, testing string, values map[string]string) keyport.NewAuth {
	in := keyport.NewAuth{Courier: "dpd", Company: company, Testing: testing, Values: values}
	in.Normalize()
	return in
}

func TestUpdateAuthKeepsBlankSecretsAndReplacesFilledOnes(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	owner := keyport.UserActor(&res.Owner, "192.0.2.7")
	courier, err := db.Courier(ctx, "dpd")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := db.RegisterAuth(ctx, owner, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Acme Ltd", "yes", "first-pass"))
	if err != nil {
		t.Fatal(err)
	}
	reveal := func() string {
		t.Helper()
		_, v, err := db.RevealAuthSecret(ctx, owner, res.Merchant.ID, res.Account.ID, auth.ID, "password")
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	saved, changed, err := db.UpdateAuth(ctx, owner, res.Merchant.ID, res.Account.ID, auth.ID, courier,
		edited("Acme North", "no", map[string]string{"username": "acme-north", "password": "", "account_number": "0012345"}))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(changed, ",") != "Company,Testing,Username" {
		t.Fatalf("changed %v", changed)
	}
	if saved.Company != "Acme North" || saved.Testing || saved.Values["username"] != "acme-north" || !saved.SecretsSet["password"] {
		t.Fatalf("saved %+v", saved)
	}
	if got := reveal(); got != "first-pass" {
		t.Fatalf("a blank secret field changed the secret to %q", got)
	}
	stored, err := db.Auth(ctx, res.Merchant.ID, res.Account.ID, auth.ID)
	if err != nil {
		t.Fatal(err)
	}
	if stored.Company != "Acme North" || stored.Testing || stored.Values["username"] != "acme-north" || stored.Values["account_number"] != "0012345" ||
		stored.Courier.Code != "dpd" || !stored.SecretsSet["password"] {
		t.Fatalf("stored %+v", stored)
	}

	_, changed, err = db.UpdateAuth(ctx, owner, res.Merchant.ID, res.Account.ID, auth.ID, courier,
		edited("Acme North", "no", map[string]string{"username": "acme-north", "password": "second-pass", "account_number": "0012345"}))
	if err != nil || strings.Join(changed, ",") != "Password" {
		t.Fatalf("changed %v: %v", changed, err)
	}
	if got := reveal(); got != "second-pass" {
		t.Fatalf("revealed %q after the password was replaced", got)
	}
	var sealed []byte
	if err := db.sql.QueryRow(`SELECT secrets FROM registered_auths WHERE id = $1`, auth.ID).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), "second-pass") {
		t.Fatal("the new password is stored in the clear")
	}

	_, changed, err = db.UpdateAuth(ctx, owner, res.Merchant.ID, res.Account.ID, auth.ID, courier,
		edited("Acme North", "no", map[string]string{"username": "acme-north", "account_number": "0012345"}))
	if err != nil || len(changed) != 0 {
		t.Fatalf("an unchanged submission changed %v: %v", changed, err)
	}

	rows, err := db.sql.Query(`SELECT detail, ip FROM audit_events WHERE action = 'auth.updated' ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	var details []string
	for rows.Next() {
		var detail, ip string
		if err := rows.Scan(&detail, &ip); err != nil {
			t.Fatal(err)
		}
		if ip != "192.0.2.7" {
			t.Errorf("event from %q", ip)
		}
		details = append(details, detail)
	}
	rows.Close()
	want := []string{
		"DPD · Acme Ltd (testing) → DPD · Acme North (live): Company, Testing, Username",
		"DPD · Acme North (live): Password",
	}
	if strings.Join(details, "\n") != strings.Join(want, "\n") {
		t.Fatalf("audit details:\n%s\nwant:\n%s", strings.Join(details, "\n"), strings.Join(want, "\n"))
	}
}

func TestUpdateAuthFollowsTheRulesOfRegistering(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	courier, _ := db.Courier(ctx, "dpd")
	auth, err := db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Acme Ltd", "yes", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Bolt Ltd", "yes", "p2")); err != nil {
		t.Fatal(err)
	}
	b := otherMerchant(t, db)
	events := count(t, db, `SELECT count(*) FROM audit_events`)
	_, _, err = db.UpdateAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, auth.ID, courier, edited("BOLT LTD", "yes", dpdAuth("", "", "").Values))
	wantField(t, err, "company")
	if _, changed, err := db.UpdateAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, auth.ID, courier,
		edited("BOLT LTD", "no", dpdAuth("", "", "").Values)); err != nil || len(changed) != 2 {
		t.Fatalf("the live auth of the same company: %v %v", changed, err)
	}

	if _, _, err := db.UpdateAuth(ctx, keyport.SystemActor, b.Merchant.ID, res.Account.ID, auth.ID, courier, edited("Mine", "yes", nil)); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant changed it: %v", err)
	}
	if _, _, err := db.UpdateAuth(ctx, keyport.SystemActor, b.Merchant.ID, b.Account.ID, auth.ID, courier, edited("Mine", "yes", nil)); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("changed through another merchant's account: %v", err)
	}
	if _, err := db.Auth(ctx, b.Merchant.ID, res.Account.ID, auth.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant loaded it: %v", err)
	}
	ups, _ := db.Courier(ctx, "ups")
	if _, _, err := db.UpdateAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, auth.ID, ups, edited("Acme Ltd", "yes", nil)); err == nil {
		t.Fatal("the courier of an auth changed")
	}
	if _, err := db.DeleteAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, auth.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.UpdateAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, auth.ID, courier, edited("Acme Ltd", "yes", nil)); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a deleted auth changed: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'auth.updated'`); n != 1 {
		t.Fatalf("%d auth.updated events, want the one change that succeeded", n)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events`); n != events+2 {
		t.Fatalf("%d events written, want the change and the delete", n-events)
	}

	other, _ := db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Cargo Ltd", "yes", "p3"))
	db.Sealer = nil
	if _, _, err := db.UpdateAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, other.ID, courier,
		edited("Cargo Ltd", "yes", map[string]string{"username": "acme-dpd", "password": "new", "account_number": "0012345"})); err == nil {
		t.Fatal("replaced a secret without an encryption key")
	}
}
