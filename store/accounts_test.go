package store

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"keyport"
)

func otherMerchant(t *testing.T, db *DB) SignupResult {
	t.Helper()
	res, err := db.CreateSignup(context.Background(), keyport.Signup{MerchantName: "Bolt", Name: "Bo", Email: "bo@bolt.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func wantField(t *testing.T, err error, field string) {
	t.Helper()
	var ve *keyport.ValidationError
	if !errors.As(err, &ve) || ve.Fields[field] == "" {
		t.Fatalf("err = %v, want a message on %s", err, field)
	}
}

func TestCreateAccountMakesItsLegacySecretInOneTransaction(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	owner := keyport.UserActor(&res.Owner, "192.0.2.9")
	created, err := db.CreateAccount(ctx, owner, res.Merchant.ID, keyport.NewAccount{Name: "EU warehouse"})
	if err != nil {
		t.Fatal(err)
	}
	if keyport.CheckAccountKey(created.Account.AccountKey) != "" {
		t.Fatalf("generated account key %q", created.Account.AccountKey)
	}
	k := created.Secret.Key
	if k.Name != keyport.LegacySecretName || !k.Legacy || k.Access != keyport.AccessFull || k.Mode != keyport.ModeTest ||
		k.Type != keyport.KeySecret || k.AccountID != created.Account.ID {
		t.Fatalf("legacy secret: %+v", k)
	}
	if p, err := keyport.ParseKey(created.Secret.Plaintext); err != nil || p.Hash() != mustHash(t, db, k.ID) {
		t.Fatalf("plaintext %v, or its hash is not the stored one", err)
	}
	for action, want := range map[string]int{"account.created": 2, "key.created": 1, "key.revealed": 1} {
		if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = $1 AND ip IN ('', '192.0.2.9')`, action); n != want {
			t.Errorf("%s events: %d, want %d", action, n, want)
		}
	}

	_, err = db.CreateAccount(ctx, owner, res.Merchant.ID, keyport.NewAccount{Name: "eu WAREHOUSE"})
	wantField(t, err, "name")
	_, err = db.CreateAccount(ctx, owner, res.Merchant.ID, keyport.NewAccount{Name: "Other", AccountKey: created.Account.AccountKey})
	wantField(t, err, "account_key")
	if n := count(t, db, `SELECT count(*) FROM api_accounts`); n != 2 {
		t.Fatalf("accounts after refusals: %d", n)
	}
	if n := count(t, db, `SELECT count(*) FROM api_keys`); n != 1 {
		t.Fatalf("keys after refusals: %d", n)
	}

	b := otherMerchant(t, db)
	if _, err := db.CreateAccount(ctx, keyport.SystemActor, b.Merchant.ID, keyport.NewAccount{Name: "EU warehouse"}); err != nil {
		t.Fatalf("another merchant may use the same name: %v", err)
	}
	if _, err := db.DeleteAccount(ctx, owner, res.Merchant.ID, created.Account.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateAccount(ctx, owner, res.Merchant.ID, keyport.NewAccount{Name: "EU warehouse"}); err != nil {
		t.Fatalf("the name of a deleted account is free again: %v", err)
	}
}

func mustHash(t *testing.T, db *DB, keyID int64) [32]byte {
	t.Helper()
	var h []byte
	if err := db.sql.QueryRow(`SELECT hash FROM api_keys WHERE id = $1`, keyID).Scan(&h); err != nil {
		t.Fatal(err)
	}
	return [32]byte(h)
}

func TestDisabledAccountRefusesKeysUntilEnabled(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	a, err := db.SetAccountDisabled(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, true)
	if err != nil || !a.Disabled {
		t.Fatalf("disable: %+v %v", a, err)
	}
	if _, err := db.SetAccountDisabled(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, true); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "blocked")); !errors.Is(err, keyport.ErrAccountDisabled) {
		t.Fatalf("create on a disabled account: %v", err)
	}
	list, err := db.AccountSummaries(ctx, res.Merchant.ID)
	if err != nil || len(list) != 1 || !list[0].Disabled {
		t.Fatalf("summaries: %+v %v", list, err)
	}
	if _, err := db.SetAccountDisabled(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "allowed")); err != nil {
		t.Fatalf("create after enabling: %v", err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action IN ('account.disabled', 'account.enabled')`); n != 2 {
		t.Fatalf("disable/enable events: %d (a repeated disable must not log twice)", n)
	}
	b := otherMerchant(t, db)
	if _, err := db.SetAccountDisabled(ctx, keyport.SystemActor, b.Merchant.ID, res.Account.ID, true); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant disabled it: %v", err)
	}
}

func TestDeleteAccountRevokesKeysCancelsRequestsAndKeepsHistory(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	for _, mode := range []keyport.Mode{keyport.ModeTest, keyport.ModeLive} {
		if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, mode, "k "+string(mode))); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	requestID := requestIn(t, db, res, keyport.RequestPending)
	approvedID := requestIn(t, db, res, keyport.RequestApproved)
	rejectedID := requestIn(t, db, res, keyport.RequestRejected)
	b := otherMerchant(t, db)
	if _, err := db.DeleteAccount(ctx, keyport.SystemActor, b.Merchant.ID, res.Account.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant deleted it: %v", err)
	}
	n, err := db.DeleteAccount(ctx, keyport.Actor{Label: "ada@acme.test"}, res.Merchant.ID, res.Account.ID)
	if err != nil || n != 2 {
		t.Fatalf("revoked %d, %v", n, err)
	}
	if c := count(t, db, `SELECT count(*) FROM api_keys WHERE revoked_at IS NULL OR revoke_reason <> $1`, keyport.AccountRevokeReason); c != 0 {
		t.Fatalf("%d keys survived the deletion", c)
	}
	for id, want := range map[int64]string{requestID: "cancelled", approvedID: "cancelled", rejectedID: "rejected"} {
		var state string
		if err := db.sql.QueryRow(`SELECT state FROM live_key_requests WHERE id = $1`, id).Scan(&state); err != nil || state != want {
			t.Fatalf("request %d state %q %v, want %s", id, state, err, want)
		}
	}
	if c := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'key.revoked' AND detail NOT LIKE '%********% '||$1`,
		keyport.AccountRevokeReason); c != 0 {
		t.Fatalf("%d revocations audited unlike RevokeKey's", c)
	}
	if _, err := db.AccountOf(ctx, res.Merchant.ID, res.Account.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("deleted account still found: %v", err)
	}
	if list, _ := db.AccountSummaries(ctx, res.Merchant.ID); len(list) != 0 {
		t.Fatalf("deleted account still listed: %+v", list)
	}
	if c := count(t, db, `SELECT count(*) FROM api_accounts WHERE id = $1`, res.Account.ID); c != 1 {
		t.Fatal("the account row is gone: its history is lost")
	}
	for action, want := range map[string]int{"account.deleted": 1, "key.revoked": 2, "request.cancelled": 2} {
		if c := count(t, db, `SELECT count(*) FROM audit_events WHERE action = $1`, action); c != want {
			t.Errorf("%s events: %d, want %d", action, c, want)
		}
	}
	if _, err := db.DeleteAccount(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func dpdAuth(company, testing, password string) keyport.NewAuth {
	return keyport.NewAuth{Courier: "dpd", Company: company, Testing: testing,
		Values: map[string]string{"username": "acme-dpd", "password": password, "account_number": "0012345"}}
}

func TestCourierCatalogHasEveryCourierWithFieldsAndPresets(t *testing.T) {
	db := openTestDB(t)
	list, err := db.Couriers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Royal Mail", "DPD", "DHL Express", "UPS", "FedEx", "Evri", "Parcelforce", "Yodel"}
	if len(list) != len(want) {
		t.Fatalf("%d couriers", len(list))
	}
	for i, c := range list {
		secrets, required := 0, 0
		for _, f := range c.Fields {
			if f.Secret {
				secrets++
			}
			if f.Required {
				required++
			}
		}
		if c.Name != want[i] || secrets == 0 || required < 2 || len(c.Presets) < 2 || len(c.Presets) > 4 {
			t.Errorf("%s: %d fields (%d secret, %d required), %d presets", c.Name, len(c.Fields), secrets, required, len(c.Presets))
		}
	}
	if _, err := db.Courier(context.Background(), "pigeon"); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("unknown courier: %v", err)
	}
}

func TestRegisteredAuthSecretsAreEncryptedAtRest(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, FileName), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	db.Sealer = testSealer(t)
	res := signedUp(t, db)
	courier, err := db.Courier(ctx, "dpd")
	if err != nil {
		t.Fatal(err)
	}
	const password = "Pa55word-that-must-never-be-stored-plain"
	owner := keyport.UserActor(&res.Owner, "192.0.2.4")
	auth, err := db.RegisterAuth(ctx, owner, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Acme Ltd", "yes", password))
	if err != nil {
		t.Fatal(err)
	}

	files, _ := filepath.Glob(filepath.Join(dir, FileName+"*"))
	sawUsername := false
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(password)) || bytes.Contains(raw, []byte("must-never")) {
			t.Fatalf("%s holds the registered password", filepath.Base(f))
		}
		sawUsername = sawUsername || bytes.Contains(raw, []byte("acme-dpd"))
	}
	if !sawUsername {
		t.Fatal("the scan did not see the non-secret fields: it does not read the written rows")
	}

	list, err := db.ListAuths(ctx, res.Merchant.ID, res.Account.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("list: %+v %v", list, err)
	}
	got := list[0]
	if got.Values["password"] != "" || !got.SecretsSet["password"] || got.Values["username"] != "acme-dpd" || !got.Testing ||
		got.Courier.Name != "DPD" || len(got.Courier.Presets) == 0 {
		t.Fatalf("listed auth: %+v", got)
	}

	b := otherMerchant(t, db)
	if _, _, err := db.RevealAuthSecret(ctx, keyport.SystemActor, b.Merchant.ID, res.Account.ID, auth.ID, "password"); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant revealed it: %v", err)
	}
	if _, _, err := db.RevealAuthSecret(ctx, owner, res.Merchant.ID, res.Account.ID, auth.ID, "username"); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a non-secret field through reveal: %v", err)
	}
	field, value, err := db.RevealAuthSecret(ctx, owner, res.Merchant.ID, res.Account.ID, auth.ID, "password")
	if err != nil || value != password || field.Label != "Password" {
		t.Fatalf("reveal: %q of %+v, %v", value, field, err)
	}
	var detail, ip string
	if err := db.sql.QueryRow(`SELECT detail, ip FROM audit_events WHERE action = 'auth.secret_revealed'`).Scan(&detail, &ip); err != nil {
		t.Fatal(err)
	}
	if ip != "192.0.2.4" || bytes.Contains([]byte(detail), []byte(password)) {
		t.Fatalf("reveal event: %q from %q", detail, ip)
	}

	other, _ := keyport.NewSealer(bytes.Repeat([]byte{8}, keyport.EncryptionKeySize))
	db.Sealer = other
	if _, _, err := db.RevealAuthSecret(ctx, owner, res.Merchant.ID, res.Account.ID, auth.ID, "password"); !errors.Is(err, keyport.ErrUnsealable) {
		t.Fatalf("reveal under another key: %v", err)
	}
	db.Sealer = testSealer(t)
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'auth.secret_revealed'`); n != 1 {
		t.Fatalf("a failed reveal was logged as a reveal: %d", n)
	}
}

func TestRegisteredAuthsAreUniquePerCompanyAndModeAndDeleteErasesSecrets(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	courier, _ := db.Courier(ctx, "dpd")
	first, err := db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Acme Ltd", "yes", "p1"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("ACME LTD", "yes", "p2"))
	wantField(t, err, "company")
	if _, err := db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Acme Ltd", "no", "p3")); err != nil {
		t.Fatalf("the live auth of the same company: %v", err)
	}
	b := otherMerchant(t, db)
	if _, err := db.RegisterAuth(ctx, keyport.SystemActor, b.Merchant.ID, res.Account.ID, courier, dpdAuth("Bolt", "yes", "p")); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("registered on another merchant's account: %v", err)
	}
	if _, err := db.DeleteAuth(ctx, keyport.SystemActor, b.Merchant.ID, res.Account.ID, first.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant deleted it: %v", err)
	}
	if label, err := db.DeleteAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, first.ID); err != nil || label != "DPD · Acme Ltd (testing)" {
		t.Fatalf("deleted %q: %v", label, err)
	}
	if n := count(t, db, `SELECT count(*) FROM registered_auths WHERE id = $1 AND secrets IS NULL AND deleted_at IS NOT NULL`, first.ID); n != 1 {
		t.Fatal("the deleted auth keeps its sealed secrets")
	}
	if list, _ := db.ListAuths(ctx, res.Merchant.ID, res.Account.ID); len(list) != 1 {
		t.Fatalf("listed after delete: %d", len(list))
	}
	if _, err := db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("Acme Ltd", "yes", "p4")); err != nil {
		t.Fatalf("re-register after delete: %v", err)
	}
	for action, want := range map[string]int{"auth.registered": 3, "auth.deleted": 1} {
		if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = $1`, action); n != want {
			t.Errorf("%s: %d, want %d", action, n, want)
		}
	}
	db.Sealer = nil
	if _, err := db.RegisterAuth(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, courier, dpdAuth("No key", "yes", "p")); err == nil {
		t.Fatal("registered secrets without an encryption key")
	}
}

func TestShipmentsArePagedByModeAndScoped(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	add := func(mode keyport.Mode, n int) {
		for i := 0; i < n; i++ {
			tn, _ := keyport.NewTrackingNumber()
			if _, err := db.CreateShipment(ctx, keyport.Shipment{AccountID: res.Account.ID, MerchantID: res.Merchant.ID, Mode: mode,
				Courier: "dpd", ServiceCode: "DPD_NEXT_DAY", Status: keyport.ShipmentCreated, TrackingNumber: tn, LabelRef: "L",
				AmountMinor: 675, Currency: "GBP", FromPostcode: "M1", FromCountry: "GB", ToPostcode: "SW1", ToCountry: "GB", WeightGrams: 900}, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	add(keyport.ModeTest, 51)
	add(keyport.ModeLive, 2)
	p1, err := db.ListShipments(ctx, res.Account.ID, ShipmentFilter{Mode: keyport.ModeTest}, 50)
	if err != nil || len(p1.Items) != 50 || p1.Total != 51 || !p1.HasNext() || p1.HasPrev() {
		t.Fatalf("page 1: %d of %d, %v", len(p1.Items), p1.Total, err)
	}
	p2, _ := db.ListShipments(ctx, res.Account.ID, ShipmentFilter{Mode: keyport.ModeTest, Page: p1.Next}, 50)
	if len(p2.Items) != 1 || p2.Items[0].ID >= p1.Items[49].ID || p2.HasNext() || !p2.HasPrev() {
		t.Fatalf("last page: %+v", p2)
	}
	back, _ := db.ListShipments(ctx, res.Account.ID, ShipmentFilter{Mode: keyport.ModeTest, Page: p2.Prev}, 50)
	if len(back.Items) != 50 || back.Items[0].ID != p1.Items[0].ID || back.HasPrev() {
		t.Fatalf("back to page 1: %d items, prev %v", len(back.Items), back.HasPrev())
	}
	live, _ := db.ListShipments(ctx, res.Account.ID, ShipmentFilter{Mode: keyport.ModeLive}, 50)
	if live.Total != 2 || live.Items[0].Mode != keyport.ModeLive || live.Items[0].ServiceName != "Next Day" || live.Items[0].CourierName != "DPD" {
		t.Fatalf("live: %+v", live)
	}
	b := otherMerchant(t, db)
	if _, err := db.ShipmentOf(ctx, b.Merchant.ID, res.Account.ID, live.Items[0].ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant read a shipment: %v", err)
	}
	if _, err := db.ShipmentOf(ctx, res.Merchant.ID, b.Account.ID, live.Items[0].ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a shipment read through another account: %v", err)
	}
	list, _ := db.AccountSummaries(ctx, res.Merchant.ID)
	if list[0].Shipments != 53 {
		t.Fatalf("summary shipments: %d", list[0].Shipments)
	}
	if n := count(t, db, `SELECT count(*) FROM api_accounts a WHERE a.test_shipments <> (SELECT count(*) FROM shipments s
		WHERE s.account_id = a.id AND s.mode = 'test') OR a.live_shipments <> (SELECT count(*) FROM shipments s
		WHERE s.account_id = a.id AND s.mode = 'live')`); n != 0 {
		t.Fatalf("%d accounts whose shipment counters disagree with their shipments", n)
	}
	if _, err := db.sql.Exec(`DELETE FROM shipments WHERE id = $1`, live.Items[0].ID); err == nil {
		t.Fatal("a shipment was deleted: the counters would drift")
	}
}

func TestMerchantSecretsPagesFiltersAndHidesDeletedAccounts(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	if err := db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 51; i++ {
		if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, keyport.ModeTest, "k")); err != nil {
			t.Fatal(err)
		}
	}
	gone, err := db.CreateAccount(ctx, keyport.SystemActor, res.Merchant.ID, keyport.NewAccount{Name: "Gone"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.DeleteAccount(ctx, keyport.SystemActor, res.Merchant.ID, gone.Account.ID); err != nil {
		t.Fatal(err)
	}
	p1, err := db.MerchantSecrets(ctx, res.Merchant.ID, SecretsFilter{PerPage: 50})
	if err != nil || len(p1.Items) != 50 || !p1.HasNext() {
		t.Fatalf("page 1: %d keys, more %v, %v", len(p1.Items), p1.HasNext(), err)
	}
	p2, _ := db.MerchantSecrets(ctx, res.Merchant.ID, SecretsFilter{Page: p1.Next, PerPage: 50})
	if len(p2.Items) != 1 || p2.HasNext() || p2.Items[0].AccountID != res.Account.ID {
		t.Fatalf("page 2: %+v (the deleted account's legacy secret must not be listed)", p2.Items)
	}
	revoked, _ := db.MerchantSecrets(ctx, res.Merchant.ID, SecretsFilter{Status: keyport.KeyRevoked, PerPage: 50})
	if len(revoked.Items) != 0 {
		t.Fatalf("revoked keys of a deleted account listed: %d", len(revoked.Items))
	}
	if _, err := db.MerchantKey(ctx, res.Merchant.ID, gone.Secret.Key.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a deleted account's key: %v", err)
	}
	b := otherMerchant(t, db)
	if _, err := db.MerchantKey(ctx, b.Merchant.ID, p2.Items[0].ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant's key: %v", err)
	}
	if list, _ := db.MerchantSecrets(ctx, b.Merchant.ID, SecretsFilter{AccountID: res.Account.ID, PerPage: 50}); len(list.Items) != 0 {
		t.Fatal("another merchant listed keys through an account filter")
	}
}

func TestRenameAccountKeepsNamesUniquePerMerchant(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	if _, err := db.CreateAccount(ctx, keyport.SystemActor, res.Merchant.ID, keyport.NewAccount{Name: "EU"}); err != nil {
		t.Fatal(err)
	}
	b := otherMerchant(t, db)
	if _, err := db.RenameAccount(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, "eu"); err == nil {
		t.Fatal("renamed to another account's name")
	}
	if _, err := db.RenameAccount(ctx, keyport.SystemActor, b.Merchant.ID, res.Account.ID, "Mine now"); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant renamed it: %v", err)
	}
	a, err := db.RenameAccount(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID, "DEFAULT")
	if err != nil || a.Name != "DEFAULT" {
		t.Fatalf("a change of case only: %+v, %v", a, err)
	}
	if n := count(t, db, `SELECT count(*) FROM audit_events WHERE action = 'account.renamed'`); n != 1 {
		t.Fatalf("%d audit events", n)
	}
}

func TestAccountSummaryOfIsTheListsRowForItsMerchantOnly(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	for _, mode := range []keyport.Mode{keyport.ModeTest, keyport.ModeTest, keyport.ModeLive} {
		if _, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, mode, "k "+string(mode))); err != nil {
			t.Fatal(err)
		}
	}
	list, err := db.AccountSummaries(ctx, res.Merchant.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("list %v, %v", list, err)
	}
	one, err := db.AccountSummaryOf(ctx, res.Merchant.ID, res.Account.ID)
	if err != nil {
		t.Fatal(err)
	}
	if one != list[0] {
		t.Fatalf("summary %+v, the list's row %+v", one, list[0])
	}
	b := otherMerchant(t, db)
	if _, err := db.AccountSummaryOf(ctx, b.Merchant.ID, res.Account.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("another merchant read it: %v", err)
	}
	if _, err := db.DeleteAccount(ctx, keyport.SystemActor, res.Merchant.ID, res.Account.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.AccountSummaryOf(ctx, res.Merchant.ID, res.Account.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("a deleted account's summary: %v", err)
	}
}
