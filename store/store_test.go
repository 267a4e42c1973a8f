package store

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"keyport"
	"keyport/migrations"
	"keyport/store/storetest"
)

func openTestDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(storetest.Target(t), Options{Sealer: testSealer(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return db
}

// testSealer is a Sealer under a fixed key.
func testSealer(t testing.TB) *keyport.Sealer {
	t.Helper()
	s, err := keyport.NewSealer(bytes.Repeat([]byte{7}, keyport.EncryptionKeySize))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func count(t *testing.T, db *DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.sql.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestMigrationsApplyOnEmptyDatabaseAndAreIdempotent(t *testing.T) {
	db, err := Open(storetest.Target(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	first, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) == 0 || first[0] != "001_init.sql" {
		t.Fatalf("first run applied %v", first)
	}
	second, err := db.Migrate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(second) != 0 {
		t.Fatalf("second run applied %v", second)
	}
	if n := count(t, db, "SELECT count(*) FROM schema_migrations"); n != len(first) {
		t.Fatalf("recorded %d migrations, applied %d", n, len(first))
	}
}

func TestPragmasFromDSN(t *testing.T) {
	db := openTestDB(t)
	if db.Engine() != SQLite {
		t.Skip("SQLite pragmas: PostgreSQL has none")
	}
	cases := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"synchronous", "1"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
	}
	for _, tc := range cases {
		var got string
		if err := db.sql.QueryRow("PRAGMA " + tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
}

var signup = keyport.Signup{MerchantName: "Acme", Name: "Ada", Email: "ada@acme.test"}

// signedUp creates the merchant of signup with its Owner and first account.
func signedUp(t *testing.T, db *DB) SignupResult {
	t.Helper()
	res, err := db.CreateSignup(context.Background(), signup, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestSignupCreatesMerchantOwnerAndDefaultAccount(t *testing.T) {
	db := openTestDB(t)
	res, err := db.CreateSignup(context.Background(), signup, "hash", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if res.Owner.Role != keyport.RoleOwner || res.Account.Name != keyport.DefaultAccountName {
		t.Fatalf("got %+v", res)
	}
	accounts, err := db.ListAccounts(context.Background(), res.Merchant.ID)
	if err != nil || len(accounts) != 1 || accounts[0].AccountKey != res.Account.AccountKey {
		t.Fatalf("accounts %+v, %v", accounts, err)
	}
	u, err := db.UserByEmail(context.Background(), "ADA@acme.test")
	if err != nil || u.ID != res.Owner.ID || u.MerchantName != "Acme" {
		t.Fatalf("user %+v, %v", u, err)
	}
	if n := count(t, db, "SELECT count(*) FROM audit_events WHERE merchant_id = $1", res.Merchant.ID); n != 2 {
		t.Fatalf("audit events = %d", n)
	}
}

func TestSignupIsAllOrNothing(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, db *DB)
		check func(t *testing.T, err error)
	}{
		{
			name: "duplicate email",
			setup: func(t *testing.T, db *DB) {
				other := signup
				other.MerchantName = "First"
				if _, err := db.CreateSignup(context.Background(), other, "hash", ""); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, err error) {
				var ve *keyport.ValidationError
				if !errors.As(err, &ve) || ve.Fields["email"] == "" {
					t.Fatalf("err = %v, want an email validation error", err)
				}
			},
		},
		{
			name: "failure after the merchant and user are written",
			setup: func(t *testing.T, db *DB) {
				failAccount := map[Engine]string{
					SQLite: `CREATE TRIGGER fail_account BEFORE INSERT ON api_accounts BEGIN SELECT RAISE(ABORT, 'boom'); END`,
					Postgres: `CREATE FUNCTION fail_account() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'boom'; END; $$;
						CREATE TRIGGER fail_account BEFORE INSERT ON api_accounts FOR EACH ROW EXECUTE FUNCTION fail_account()`,
				}
				if _, err := db.sql.Exec(failAccount[db.Engine()]); err != nil {
					t.Fatal(err)
				}
			},
			check: func(t *testing.T, err error) {
				if err == nil {
					t.Fatal("signup succeeded")
				}
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			tc.setup(t, db)
			before := count(t, db, "SELECT (SELECT count(*) FROM merchants) + (SELECT count(*) FROM users) + (SELECT count(*) FROM api_accounts) + (SELECT count(*) FROM audit_events)")
			_, err := db.CreateSignup(context.Background(), signup, "hash", "")
			tc.check(t, err)
			after := count(t, db, "SELECT (SELECT count(*) FROM merchants) + (SELECT count(*) FROM users) + (SELECT count(*) FROM api_accounts) + (SELECT count(*) FROM audit_events)")
			if after != before {
				t.Fatalf("rows went from %d to %d", before, after)
			}
		})
	}
}

func TestAdminHasNoMerchant(t *testing.T) {
	db := openTestDB(t)
	u, err := db.CreateAdmin(context.Background(), "Staff", "staff@keyport.test", "hash")
	if err != nil {
		t.Fatal(err)
	}
	got, err := db.UserByID(context.Background(), u.ID)
	if err != nil || !got.IsAdmin() || got.MerchantID != 0 {
		t.Fatalf("%+v %v", got, err)
	}
	if _, err := db.CreateAdmin(context.Background(), "Staff", "STAFF@keyport.test", "hash"); err == nil {
		t.Fatal("duplicate admin email accepted")
	}
	if _, err := db.UserByID(context.Background(), 999); !errors.Is(err, keyport.ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
}

func TestSessionStoreRoundTripAndExpiry(t *testing.T) {
	db := openTestDB(t)
	res, err := db.CreateSignup(context.Background(), signup, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	db.Now = func() time.Time { return now }
	st := db.NewSessionStore(make([]byte, 32), 30*time.Minute, 12*time.Hour, false)

	sess, _ := st.New(httptest.NewRequest(http.MethodGet, "/", nil), "s")
	sess.Values[SessionUserKey] = res.Owner.ID
	sess.AddFlash("hello")
	rec := httptest.NewRecorder()
	if err := st.Save(httptest.NewRequest(http.MethodGet, "/", nil), rec, sess); err != nil {
		t.Fatal(err)
	}
	cookie := rec.Result().Cookies()[0]
	var stored int
	if err := db.sql.QueryRow("SELECT count(*) FROM sessions WHERE id_hash = $1", []byte(sess.ID)).Scan(&stored); err != nil || stored != 0 {
		t.Fatalf("the raw session id is stored (%d, %v)", stored, err)
	}

	loadAs := func(method string) (int64, []any) {
		req := httptest.NewRequest(method, "/", nil)
		req.AddCookie(cookie)
		s, err := st.New(req, "s")
		if err != nil {
			t.Fatal(err)
		}
		id, _ := s.Values[SessionUserKey].(int64)
		return id, s.Flashes()
	}
	load := func() (int64, []any) { return loadAs(http.MethodGet) }
	id, flashes := load()
	if id != res.Owner.ID || len(flashes) != 1 || flashes[0] != "hello" {
		t.Fatalf("loaded user %d flashes %v", id, flashes)
	}
	now = now.Add(29 * time.Minute)
	if id, _ := load(); id != res.Owner.ID {
		t.Fatal("session ended before the idle timeout")
	}
	now = now.Add(31 * time.Minute)
	if id, _ := load(); id != 0 {
		t.Fatal("session survived the idle timeout")
	}
	if n := count(t, db, "SELECT count(*) FROM sessions"); n != 1 {
		t.Fatalf("a GET deleted the expired session row: %d left", n)
	}
	if id, _ := loadAs(http.MethodPost); id != 0 {
		t.Fatal("session survived the idle timeout on a POST")
	}
	if n := count(t, db, "SELECT count(*) FROM sessions"); n != 0 {
		t.Fatalf("expired session row kept: %d", n)
	}
}

func TestSessionSlidesOnPagesWithoutWriting(t *testing.T) {
	db := openTestDB(t)
	res := signedUp(t, db)
	now := time.Now()
	db.Now = func() time.Time { return now }
	st := db.NewSessionStore(make([]byte, 32), 30*time.Minute, 12*time.Hour, false)
	sess, _ := st.New(httptest.NewRequest(http.MethodGet, "/", nil), "s")
	sess.Values[SessionUserKey] = res.Owner.ID
	rec := httptest.NewRecorder()
	if err := st.Save(httptest.NewRequest(http.MethodPost, "/", nil), rec, sess); err != nil {
		t.Fatal(err)
	}
	first := rec.Result().Cookies()[0]
	// visit loads the session of cookie on a page and returns the cookie the
	// answer sets, or cookie itself when it sets none.
	visit := func(cookie *http.Cookie) (*http.Cookie, bool) {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(cookie)
		s, err := st.New(req, "s")
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		if err := st.Refresh(rec, s); err != nil {
			t.Fatal(err)
		}
		if set := rec.Result().Cookies(); len(set) > 0 {
			return set[0], !s.IsNew
		}
		return cookie, !s.IsNew
	}
	before := db.Writes()
	if c, ok := visit(first); !ok || c != first {
		t.Fatalf("a page right after sign-in: signed in %v, cookie renewed %v", ok, c != first)
	}
	now = now.Add(20 * time.Minute)
	renewed, ok := visit(first)
	if !ok || renewed == first {
		t.Fatalf("a page 20 minutes later: signed in %v, cookie renewed %v", ok, renewed != first)
	}
	now = now.Add(20 * time.Minute)
	if _, ok := visit(renewed); !ok {
		t.Fatal("the renewed cookie ended 20 minutes after its last page")
	}
	if _, ok := visit(first); ok {
		t.Fatal("the first cookie outlived the idle timeout")
	}
	if db.Writes() != before {
		t.Fatalf("pages wrote %d times", db.Writes()-before)
	}
}

func TestLoadOrCreateSecretPersistsWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "session.key")
	first, err := LoadOrCreateSecret(path, 32)
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadOrCreateSecret(path, 32)
	if err != nil || string(first) != string(second) {
		t.Fatalf("secret changed between loads (%v)", err)
	}
	if _, err := LoadOrCreateSecret(path, 64); err == nil {
		t.Fatal("wrong-sized secret accepted")
	}
	assertMode0600(t, path)
}

func assertMode0600(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := info.Mode().Perm(); mode != 0o600 {
		t.Fatalf("%s has mode %o, want 600", path, mode)
	}
}

func TestMigrationFoldersHaveTheSameNames(t *testing.T) {
	sqlite, err := fs.Glob(migrations.SQLite, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	postgres, err := fs.Glob(migrations.Postgres, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(sqlite) == 0 || !slices.Equal(sqlite, postgres) {
		t.Fatalf("migrations diverge:\nsqlite:   %v\npostgres: %v", sqlite, postgres)
	}
}

// TestForeignKeysAreEnforced holds on both engines: SQLite through the
// foreign_keys pragma in the DSN, PostgreSQL always.
func TestForeignKeysAreEnforced(t *testing.T) {
	db := openTestDB(t)
	_, err := db.sql.Exec(`INSERT INTO api_accounts (merchant_id, name, account_key, created_at) VALUES (9999, 'Orphan', 'orphan-key', 1)`)
	if err == nil {
		t.Fatal("an API account of a merchant that does not exist was stored")
	}
}

func TestRedactURLHidesThePasswordWhereverItIs(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://keyport:s3cret@db:5432/keyport?sslmode=require", "postgres://keyport:xxxxx@db:5432/keyport?sslmode=require"},
		{"postgres://db/keyport?user=keyport&password=s3cret", "postgres://db/keyport?password=xxxxx&user=keyport"},
		{"postgres://db/keyport", "postgres://db/keyport"},
	}
	for _, tc := range cases {
		if got := RedactURL(tc.in); got != tc.want {
			t.Errorf("RedactURL(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOpenKeepsTheWholePathOfTheFile(t *testing.T) {
	for _, dir := range []string{"plain", "with #hash", "with ?question", "with %25 percent", "ünïcode space"} {
		path := filepath.Join(t.TempDir(), dir, "keyport.db")
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		db, err := Open(path, Options{})
		if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		if _, err := db.Migrate(context.Background()); err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		db.Close()
		if info, err := os.Stat(path); err != nil || info.Size() == 0 {
			t.Errorf("%s: the database is not at %s (%v)", dir, path, err)
		}
	}
}
