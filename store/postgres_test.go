package store

import (
	"context"
	"fmt"
	"testing"
	"unicode/utf8"

	"keyport"
	"keyport/store/storetest"
)

// columnsHolding lists the table.column of every text and bytea column of the
// schema whose value in some row contains needle.
func columnsHolding(t *testing.T, db *DB, needle []byte) []string {
	t.Helper()
	rows, err := db.sql.Query(`SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND data_type IN ('text', 'bytea')`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ table, name, kind string }
	var columns []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name, &c.kind); err != nil {
			t.Fatal(err)
		}
		columns = append(columns, c)
	}
	rows.Close()
	if len(columns) < 20 {
		t.Fatalf("found %d text and bytea columns: the scan does not see the schema", len(columns))
	}
	var holding []string
	for _, c := range columns {
		if c.kind == "text" && !utf8.Valid(needle) {
			continue
		}
		cond := fmt.Sprintf(`strpos(%q COLLATE "C", convert_from($1, 'UTF8')) > 0`, c.name)
		if c.kind == "bytea" {
			cond = fmt.Sprintf(`position($1 in %q) > 0`, c.name)
		}
		var n int
		if err := db.sql.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %q WHERE %s`, c.table, cond), needle).Scan(&n); err != nil {
			t.Fatalf("scan %s.%s: %v", c.table, c.name, err)
		}
		if n > 0 {
			holding = append(holding, c.table+"."+c.name)
		}
	}
	return holding
}

// TestSecretsNeverReachAnyColumnOnPostgres is the PostgreSQL counterpart of
// the SQLite file scans: no column holds a key's plaintext or a courier
// password, while the scan does find the key hashes and the non-secret fields.
func TestSecretsNeverReachAnyColumnOnPostgres(t *testing.T) {
	db, err := Open(storetest.Schema(t), Options{Sealer: testSealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	res := signedUp(t, db)
	var keys []string
	for _, mode := range []keyport.Mode{keyport.ModeTest, keyport.ModeLive} {
		created, err := db.CreateKey(ctx, keyport.SystemActor, newKey(res, mode, "scan me"))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, created.Plaintext)
	}
	courier, err := db.Courier(ctx, "dpd")
	if err != nil {
		t.Fatal(err)
	}
	const password = "Pa55word-that-must-never-be-stored-plain"
	if _, err := db.RegisterAuth(ctx, keyport.UserActor(&res.Owner, ""), res.Merchant.ID, res.Account.ID, courier, dpdAuth("Acme Ltd", "yes", password)); err != nil {
		t.Fatal(err)
	}
	for _, plain := range keys {
		parsed, err := keyport.ParseKey(plain)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range []string{plain, plain[len(parsed.Prefix()):]} {
			if cols := columnsHolding(t, db, []byte(secret)); len(cols) > 0 {
				t.Fatalf("%s holds the plaintext of a %s key", cols, parsed.Prefix())
			}
		}
		hash := parsed.Hash()
		if cols := columnsHolding(t, db, hash[:]); len(cols) != 1 || cols[0] != "api_keys.hash" {
			t.Fatalf("the key's hash is in %v, want api_keys.hash: the scan does not read the rows", cols)
		}
	}
	for _, secret := range []string{password, "must-never"} {
		if cols := columnsHolding(t, db, []byte(secret)); len(cols) > 0 {
			t.Fatalf("%v holds the registered password", cols)
		}
	}
	if cols := columnsHolding(t, db, []byte("acme-dpd")); len(cols) == 0 {
		t.Fatal("the scan did not find the non-secret username")
	}
}
