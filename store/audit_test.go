package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"keyport"
)

func TestAuditEventsAreAppendOnly(t *testing.T) {
	db := openTestDB(t)
	res := signedUp(t, db)
	var id int64
	if err := db.sql.QueryRow(`SELECT max(id) FROM audit_events WHERE merchant_id = $1`, res.Merchant.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	row := func() string {
		t.Helper()
		var at int64
		var actor, action, detail string
		if err := db.sql.QueryRow(`SELECT at, actor, action, detail FROM audit_events WHERE id = $1`, id).Scan(&at, &actor, &action, &detail); err != nil {
			t.Fatal(err)
		}
		return fmt.Sprint(at, actor, action, detail)
	}
	before := row()
	total := count(t, db, `SELECT count(*) FROM audit_events`)
	stmts := []string{
		`UPDATE audit_events SET action = 'key.nothing', detail = 'rewritten' WHERE id = $1`,
		`UPDATE audit_events SET at = 0 WHERE id >= $1`,
		`DELETE FROM audit_events WHERE id = $1`,
		`DELETE FROM audit_events WHERE id > 0 OR id = $1`,
	}
	if db.Engine() == Postgres {
		stmts = append(stmts, `TRUNCATE audit_events`)
	}
	for _, stmt := range stmts {
		var err error
		if strings.Contains(stmt, "$1") {
			_, err = db.sql.Exec(stmt, id)
		} else {
			_, err = db.sql.Exec(stmt)
		}
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Fatalf("%s: err = %v, want the trigger's refusal", stmt, err)
		}
	}
	if got := row(); got != before {
		t.Fatalf("event changed: %s, was %s", got, before)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events`); n != total {
		t.Fatalf("%d events, was %d", n, total)
	}
}

func actionsOf(events []keyport.AuditEvent) []string {
	var out []string
	for _, e := range events {
		out = append(out, e.Action)
	}
	return out
}

// auditFixture builds two merchants' and the platform's events on known days:
// Acme signs up on 1 March 2024, works on its Default account on 2 March
// (a key, a registered auth that it deletes, a live key request) and creates
// and deletes an "EU" account on 3 March; Bolt signs up and creates a key on 2 March;
// an admin changes the token cap on 3 March.
func auditFixture(t *testing.T) (*DB, SignupResult, SignupResult, int64) {
	t.Helper()
	db := openTestDB(t)
	ctx := context.Background()
	at := func(s string) { db.Now = func() time.Time { tm, _ := time.Parse(time.DateTime, s); return tm } }

	at("2024-03-01 09:00:00")
	acme := signedUp(t, db)
	owner := keyport.UserActor(&acme.Owner, "198.51.100.4")

	at("2024-03-02 00:00:00")
	if _, err := db.CreateKey(ctx, owner, newKey(acme, keyport.ModeTest, "CI")); err != nil {
		t.Fatal(err)
	}
	dpd, err := db.Courier(ctx, "dpd")
	if err != nil {
		t.Fatal(err)
	}
	auth, err := db.RegisterAuth(ctx, owner, acme.Merchant.ID, acme.Account.ID, dpd, dpdAuth("Acme Ltd", "yes", "hunter2hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteAuth(ctx, owner, acme.Merchant.ID, acme.Account.ID, auth.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FileRequest(ctx, owner, acme.Merchant.ID, acme.Account.ID, goodInput, 100); err != nil {
		t.Fatal(err)
	}
	bolt := otherMerchant(t, db)
	if _, err := db.CreateKey(ctx, keyport.UserActor(&bolt.Owner, ""), newKey(bolt, keyport.ModeTest, "Bolt CI")); err != nil {
		t.Fatal(err)
	}

	at("2024-03-02 23:59:59")
	if _, err := db.SetAccountDisabled(ctx, owner, acme.Merchant.ID, acme.Account.ID, true); err != nil {
		t.Fatal(err)
	}

	at("2024-03-03 00:00:00")
	eu, err := db.CreateAccount(ctx, keyport.Actor{UserID: acme.Owner.ID, Label: "=HYPERLINK(\"x\")"}, acme.Merchant.ID, keyport.NewAccount{Name: "EU"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteAccount(ctx, owner, acme.Merchant.ID, eu.Account.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.SetTokenCap(ctx, keyport.Actor{Label: "staff@keyport.test"}, 3); err != nil {
		t.Fatal(err)
	}
	return db, acme, bolt, eu.Account.ID
}

func day(s string) time.Time {
	d, err := time.Parse(keyport.AuditDateLayout, s)
	if err != nil {
		panic(err)
	}
	return d
}

func TestAuditEventsScopesAndFilters(t *testing.T) {
	db, acme, bolt, euID := auditFixture(t)
	ctx := context.Background()
	acmeScope := keyport.AuditScope{MerchantID: acme.Merchant.ID}
	all := keyport.AuditScope{All: true}
	acmeAll := []string{"account.deleted", "key.revoked", "key.revealed", "key.created", "account.created", "account.disabled",
		"request.filed", "auth.deleted", "auth.registered", "key.revealed", "key.created", "account.created", "merchant.signed_up"}
	tests := []struct {
		name   string
		scope  keyport.AuditScope
		filter AuditFilter
		want   []string
	}{
		{"a merchant sees its own events, newest first", acmeScope, AuditFilter{}, acmeAll},
		{"the merchant fields of the filter cannot widen a merchant's scope", acmeScope,
			AuditFilter{MerchantID: bolt.Merchant.ID}, acmeAll},
		{"nor reach platform events", acmeScope, AuditFilter{Platform: true}, acmeAll},
		{"another merchant's account selects nothing", acmeScope, AuditFilter{AccountID: bolt.Account.ID}, nil},
		{"an account selects its own events and those of its keys, auths and requests", acmeScope,
			AuditFilter{AccountID: acme.Account.ID},
			[]string{"account.disabled", "request.filed", "auth.deleted", "auth.registered", "key.revealed", "key.created", "account.created"}},
		{"a deleted account keeps its history", acmeScope, AuditFilter{AccountID: euID},
			[]string{"account.deleted", "key.revoked", "key.revealed", "key.created", "account.created"}},
		{"action", acmeScope, AuditFilter{Action: "key.created"}, []string{"key.created", "key.created"}},
		{"action and account", acmeScope, AuditFilter{Action: "key.created", AccountID: euID}, []string{"key.created"}},
		{"actor prefix", acmeScope, AuditFilter{Actor: "=HYPER"}, []string{"key.revealed", "key.created", "account.created"}},
		{"actor prefix, ignoring case", acmeScope, AuditFilter{Actor: "ADA@"},
			append(slices.Clone(acmeAll[:2]), acmeAll[5:]...)},
		{"actor wildcards are literal", acmeScope, AuditFilter{Actor: "%"}, nil},
		{"actor underscore is literal", acmeScope, AuditFilter{Actor: "_da"}, nil},
		{"one day, both ends inclusive", acmeScope, AuditFilter{From: day("2024-03-02"), To: day("2024-03-02")},
			[]string{"account.disabled", "request.filed", "auth.deleted", "auth.registered", "key.revealed", "key.created"}},
		{"from only", acmeScope, AuditFilter{From: day("2024-03-03")}, acmeAll[:5]},
		{"to only", acmeScope, AuditFilter{To: day("2024-03-01")}, []string{"account.created", "merchant.signed_up"}},
		{"a range with nothing in it", acmeScope, AuditFilter{From: day("2024-04-01"), To: day("2024-04-30")}, nil},
		{"admins see platform events", all, AuditFilter{Platform: true}, []string{"settings.token_cap_changed"}},
		{"admins limit to one merchant", all, AuditFilter{MerchantID: bolt.Merchant.ID},
			[]string{"key.revealed", "key.created", "account.created", "merchant.signed_up"}},
		{"admins filter by account", all, AuditFilter{AccountID: bolt.Account.ID},
			[]string{"key.revealed", "key.created", "account.created"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page, err := db.AuditEvents(ctx, tt.scope, tt.filter, 50)
			if err != nil {
				t.Fatal(err)
			}
			if got := actionsOf(page.Items); !slices.Equal(got, tt.want) {
				t.Fatalf("actions %v\nwant    %v", got, tt.want)
			}
			if page.HasPrev() || page.HasNext() {
				t.Fatal("a short list offers other pages")
			}
			for _, e := range page.Items {
				if !tt.scope.All && e.MerchantID != acme.Merchant.ID {
					t.Fatalf("Acme sees event %d of merchant %d", e.ID, e.MerchantID)
				}
			}
		})
	}

	every, err := db.AuditEvents(ctx, all, AuditFilter{}, 50)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(every.Items); n != count(t, db, `SELECT count(*) FROM audit_events`) {
		t.Fatalf("admins see %d events", n)
	}
	first := every.Items[0]
	if first.Action != "settings.token_cap_changed" || first.MerchantID != 0 || first.MerchantName != "" || first.Detail != "3" {
		t.Fatalf("platform event %+v", first)
	}
	byAction := map[string]keyport.AuditEvent{}
	for _, e := range every.Items {
		if e.MerchantID == acme.Merchant.ID {
			byAction[e.Action] = e
		}
	}
	revoked := byAction["key.revoked"]
	if revoked.MerchantName != "Acme" || revoked.AccountName != "EU" || revoked.ObjectType != "api_key" {
		t.Fatalf("revoked key event %+v", revoked)
	}
	if e := byAction["auth.deleted"]; e.AccountName != keyport.DefaultAccountName || e.IP != "198.51.100.4" || e.Actor != "ada@acme.test" {
		t.Fatalf("deleted auth event %+v", e)
	}
	if e := byAction["request.filed"]; e.AccountName != keyport.DefaultAccountName ||
		!e.At.Equal(time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("request event %+v", e)
	}
	if e := byAction["merchant.signed_up"]; e.AccountName != "" {
		t.Fatalf("the merchant's event names account %q", e.AccountName)
	}
}

// addEvents appends n events of a merchant directly, alternating two actions.
func addEvents(t *testing.T, db *DB, merchantID int64, n int) {
	t.Helper()
	tx, err := db.sql.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		action := "test.even"
		if i%2 == 1 {
			action = "test.odd"
		}
		if _, err := tx.Exec(`INSERT INTO audit_events (at, merchant_id, actor, action, detail) VALUES ($1, $2, 'seed', $3, $4)`,
			1_700_000_000+i, merchantID, action, fmt.Sprint(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

func details(events []keyport.AuditEvent) string {
	var parts []string
	for _, e := range events {
		parts = append(parts, e.Detail)
	}
	return strings.Join(parts, ",")
}

func TestAuditEventsPageWithCursorsBothWays(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	other := otherMerchant(t, db)
	addEvents(t, db, res.Merchant.ID, 240)
	addEvents(t, db, other.Merchant.ID, 10)
	scope := keyport.AuditScope{MerchantID: res.Merchant.ID}
	f := AuditFilter{Action: "test.odd"} // 120 events: 239, 237, ..., 1

	p1, err := db.AuditEvents(ctx, scope, f, 50)
	if err != nil {
		t.Fatal(err)
	}
	if len(p1.Items) != 50 || p1.Items[0].Detail != "239" || p1.HasPrev() || !p1.HasNext() {
		t.Fatalf("first page: %d events from %s, newer %v, older %v", len(p1.Items), p1.Items[0].Detail, p1.HasPrev(), p1.HasNext())
	}
	f2 := f
	f2.Page = p1.Next
	p2, _ := db.AuditEvents(ctx, scope, f2, 50)
	if len(p2.Items) != 50 || p2.Items[0].Detail != "139" || !p2.HasPrev() || !p2.HasNext() {
		t.Fatalf("second page: %d events from %s", len(p2.Items), p2.Items[0].Detail)
	}
	f3 := f
	f3.Page = p2.Next
	p3, _ := db.AuditEvents(ctx, scope, f3, 50)
	if len(p3.Items) != 20 || p3.Items[19].Detail != "1" || !p3.HasPrev() || p3.HasNext() {
		t.Fatalf("last page: %d events, newer %v, older %v", len(p3.Items), p3.HasPrev(), p3.HasNext())
	}
	back := f
	back.Page = p3.Prev
	prev, _ := db.AuditEvents(ctx, scope, back, 50)
	if details(prev.Items) != details(p2.Items) || !prev.HasPrev() || !prev.HasNext() {
		t.Fatalf("previous of the last page:\n%s\nwant\n%s", details(prev.Items), details(p2.Items))
	}
	back.Page = p2.Prev
	prev, _ = db.AuditEvents(ctx, scope, back, 50)
	if details(prev.Items) != details(p1.Items) || prev.HasPrev() || !prev.HasNext() {
		t.Fatal("previous of the second page is not the first")
	}
	for _, p := range []AuditPage{p1, p2, p3} {
		for _, e := range p.Items {
			if e.Action != "test.odd" || e.MerchantID != res.Merchant.ID {
				t.Fatalf("paged into %+v", e)
			}
		}
	}
}

func TestExportAuditReadsEveryMatchingEventAcrossBatches(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	other := otherMerchant(t, db)
	addEvents(t, db, res.Merchant.ID, 2*auditExportBatch+3)
	addEvents(t, db, other.Merchant.ID, 5)
	f := AuditFilter{Action: "test.even", Page: PageRequest{Cursor: Cursor{ID: 7}, Before: true}} // the cursor does not limit an export
	var got []string
	err := db.ExportAudit(ctx, keyport.AuditScope{MerchantID: res.Merchant.ID}, f, func(e keyport.AuditEvent) error {
		if e.MerchantID != res.Merchant.ID || e.Action != "test.even" {
			t.Fatalf("exported %+v", e)
		}
		got = append(got, e.Detail)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != auditExportBatch+2 || got[0] != fmt.Sprint(2*auditExportBatch+2) || got[len(got)-1] != "0" {
		t.Fatalf("exported %d events from %s to %s", len(got), got[0], got[len(got)-1])
	}
	stop := fmt.Errorf("client went away")
	n := 0
	err = db.ExportAudit(ctx, keyport.AuditScope{All: true}, AuditFilter{}, func(keyport.AuditEvent) error {
		n++
		return stop
	})
	if err != stop || n != 1 {
		t.Fatalf("export went on after an error: %v, %d calls", err, n)
	}
}

func TestAuditActionsAndAccountsForTheFilters(t *testing.T) {
	db, acme, bolt, euID := auditFixture(t)
	ctx := context.Background()
	acmeActions, err := db.AuditActions(ctx, keyport.AuditScope{MerchantID: acme.Merchant.ID})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"account.created", "account.deleted", "account.disabled", "auth.deleted", "auth.registered",
		"key.created", "key.revealed", "key.revoked", "merchant.signed_up", "request.filed"}
	if !slices.Equal(acmeActions, want) {
		t.Fatalf("Acme's actions %v", acmeActions)
	}
	boltActions, _ := db.AuditActions(ctx, keyport.AuditScope{MerchantID: bolt.Merchant.ID})
	if slices.Contains(boltActions, "auth.registered") || slices.Contains(boltActions, "settings.token_cap_changed") {
		t.Fatalf("Bolt's actions %v", boltActions)
	}
	allActions, _ := db.AuditActions(ctx, keyport.AuditScope{All: true})
	if !slices.Contains(allActions, "settings.token_cap_changed") || len(allActions) != len(want)+1 || !slices.IsSorted(allActions) {
		t.Fatalf("admins' actions %v", allActions)
	}

	accounts, err := db.AuditAccounts(ctx, acme.Merchant.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantAccounts := []keyport.AuditAccount{{ID: acme.Account.ID, Name: keyport.DefaultAccountName}, {ID: euID, Name: "EU", Deleted: true}}
	if !slices.Equal(accounts, wantAccounts) {
		t.Fatalf("accounts %+v", accounts)
	}
}
