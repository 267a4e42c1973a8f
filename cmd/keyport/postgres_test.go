package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keyport/store"
	"keyport/store/storetest"
)

// unreachablePG is a PostgreSQL URL with a password that no message may show;
// nothing listens on its port, so a command that connects fails at once.
const (
	unreachablePassword = "hunter2-never-printed"
	unreachablePG       = "postgres://keyport:" + unreachablePassword + "@127.0.0.1:1/keyport?sslmode=disable"
)

func TestDatabaseConfigValidation(t *testing.T) {
	encryptionKey := strings.Repeat("ab", 32)
	sessionKey := strings.Repeat("cd", 64)
	sessionKeyBase64 := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 64))
	cases := []struct {
		name          string
		databaseURL   string
		needsKeys     bool
		encryptionKey string
		sessionKey    string
		wantErr       []string
	}{
		{"sqlite serve generates its keys", "", true, "", "", nil},
		{"sqlite with a session key in base64", "", true, "", sessionKeyBase64, nil},
		{"postgres serve with both keys", unreachablePG, true, encryptionKey, sessionKey, nil},
		{"postgresql scheme", "postgresql://keyport@db.internal/keyport", true, encryptionKey, sessionKey, nil},
		{"postgres migrate needs no keys", unreachablePG, false, "", "", nil},
		{"postgres serve without the encryption key", unreachablePG, true, "", sessionKey,
			[]string{"KEYPORT_ENCRYPTION_KEY is required with KEYPORT_DATABASE_URL", "every replica", "openssl rand -hex 32"}},
		{"postgres serve without the session key", unreachablePG, true, encryptionKey, "",
			[]string{"KEYPORT_SESSION_KEY is required with KEYPORT_DATABASE_URL", "every replica", "openssl rand -hex 64"}},
		{"postgres serve without either key", unreachablePG, true, "", "",
			[]string{"KEYPORT_ENCRYPTION_KEY is required", "KEYPORT_SESSION_KEY is required"}},
		{"session key of 32 bytes", "", true, "", strings.Repeat("cd", 32), []string{"KEYPORT_SESSION_KEY must be 64 bytes"}},
		{"session key neither hex nor base64", "", true, "", strings.Repeat("z!", 64), []string{"KEYPORT_SESSION_KEY must be 64 bytes"}},
		{"bad session key with postgres", unreachablePG, true, encryptionKey, "short", []string{"KEYPORT_SESSION_KEY must be 64 bytes"}},
		{"another engine's URL", "mysql://keyport:" + unreachablePassword + "@db/keyport", false, "", "",
			[]string{"KEYPORT_DATABASE_URL must start with postgres:// or postgresql://"}},
		{"key=value connection string", "host=db user=keyport password=" + unreachablePassword, false, "", "",
			[]string{"KEYPORT_DATABASE_URL must start with postgres://"}},
		{"SQLite path", "./data/keyport.db", false, "", "", []string{"KEYPORT_DATABASE_URL must start with postgres://"}},
		{"port that is not a number", "postgres://keyport:" + unreachablePassword + "@db:port/keyport", false, "", "",
			[]string{"KEYPORT_DATABASE_URL", "is not a PostgreSQL connection URL"}},
		{"unknown sslmode", "postgres://keyport:" + unreachablePassword + "@db/keyport?sslmode=sometimes", false, "", "",
			[]string{"KEYPORT_DATABASE_URL postgres://keyport:xxxxx@db/keyport", "is not a PostgreSQL connection URL"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			raw := rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "1m", lifetime: "1h",
				databaseURL: tc.databaseURL, needsKeys: tc.needsKeys, encryptionKey: tc.encryptionKey, sessionKey: tc.sessionKey}
			cfg, err := raw.validate()
			if err != nil && strings.Contains(err.Error(), unreachablePassword) {
				t.Fatalf("the error shows the database password: %v", err)
			}
			if tc.wantErr == nil {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				if cfg.DatabaseURL != tc.databaseURL {
					t.Fatalf("DatabaseURL = %q, want %q", cfg.DatabaseURL, tc.databaseURL)
				}
				if (tc.sessionKey != "") != (len(cfg.SessionKey) == sessionKeySize) {
					t.Fatalf("session key %q parsed to %d bytes", tc.sessionKey, len(cfg.SessionKey))
				}
				return
			}
			if err == nil {
				t.Fatalf("accepted, want an error naming %q", tc.wantErr)
			}
			for _, want := range tc.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Fatalf("error %q does not say %q", err, want)
				}
			}
		})
	}
}

func TestSessionKeyFromEnvironmentOrGeneratedFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	raw := rawConfig{addr: ":1", data: dir, logFormat: "text", idle: "1m", lifetime: "1h", sessionKey: strings.Repeat("ef", 64)}
	cfg, err := raw.validate()
	if err != nil {
		t.Fatal(err)
	}
	key, err := openSessionKey(cfg)
	if err != nil || !bytes.Equal(key, bytes.Repeat([]byte{0xef}, 64)) {
		t.Fatalf("session key from the environment: %x %v", key, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the data directory was created although the key came from the environment: %v", err)
	}

	raw.sessionKey = ""
	if cfg, err = raw.validate(); err != nil {
		t.Fatal(err)
	}
	first, err := openSessionKey(cfg)
	if err != nil || len(first) != sessionKeySize {
		t.Fatalf("generated session key: %d bytes, %v", len(first), err)
	}
	info, err := os.Stat(filepath.Join(dir, "session.key"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("generated key file: %v %v", info, err)
	}
	again, err := openSessionKey(cfg)
	if err != nil || !bytes.Equal(first, again) {
		t.Fatalf("a restart got another session key: %v", err)
	}
}

// TestPostgresCommandsRefuseWhatTheyCannotDo runs the commands against a
// PostgreSQL URL nothing answers: each must stop with its reason before or
// at connecting, never show the password, and never create the data directory.
func TestPostgresCommandsRefuseWhatTheyCannotDo(t *testing.T) {
	t.Setenv("KEYPORT_ENCRYPTION_KEY", "")
	t.Setenv("KEYPORT_SESSION_KEY", "")
	t.Setenv("KEYPORT_DATABASE_URL", "")
	dir := filepath.Join(t.TempDir(), "data")
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	cases := []struct {
		name    string
		args    []string
		want    []string
		notWant string
	}{
		{"serve without the keys", []string{"serve", "--data", dir, "--database-url", unreachablePG},
			[]string{"KEYPORT_ENCRYPTION_KEY is required", "KEYPORT_SESSION_KEY is required"}, ""},
		{"serve --demo without the keys", []string{"serve", "--demo", "--data", dir, "--database-url", unreachablePG},
			[]string{"KEYPORT_ENCRYPTION_KEY is required", "KEYPORT_SESSION_KEY is required"}, ""},
		{"migrate needs no keys, only the database", []string{"migrate", "--data", dir, "--database-url", unreachablePG},
			[]string{"open database postgres://keyport:xxxxx@127.0.0.1:1/keyport"}, "is required"},
		{"admin create needs no keys, only the database", []string{"admin", "create", "--email", "ops@example.test", "--data", dir, "--database-url", unreachablePG},
			[]string{"open database postgres://keyport:xxxxx@127.0.0.1:1/keyport"}, "is required"},
		{"backup", []string{"backup", "--data", dir, "--database-url", unreachablePG, copyPath},
			[]string{store.ErrBackupPostgres.Error(), "pg_dump -Fc"}, ""},
		{"backup, URL from the environment", []string{"backup", "--data", dir, copyPath},
			[]string{store.ErrBackupPostgres.Error()}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(strings.Join(tc.args, " "), "--database-url") {
				t.Setenv("KEYPORT_DATABASE_URL", unreachablePG)
			}
			var stdout, stderr bytes.Buffer
			if code := run(context.Background(), tc.args, &stdout, &stderr); code != 1 {
				t.Fatalf("exit %d, want 1:\n%s\n%s", code, stdout.String(), stderr.String())
			}
			for _, want := range tc.want {
				if !strings.Contains(stderr.String(), want) {
					t.Fatalf("stderr does not say %q:\n%s", want, stderr.String())
				}
			}
			if tc.notWant != "" && strings.Contains(stderr.String(), tc.notWant) {
				t.Fatalf("stderr says %q:\n%s", tc.notWant, stderr.String())
			}
			if strings.Contains(stdout.String()+stderr.String(), unreachablePassword) {
				t.Fatalf("the database password was printed:\n%s\n%s", stdout.String(), stderr.String())
			}
			for _, path := range []string{dir, copyPath} {
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Fatalf("%s exists after a refused command: %v", path, err)
				}
			}
		})
	}
}

// TestPostgresMigrateServeAndAdminCreate runs the commands an operator runs on
// a fresh PostgreSQL database and checks that none of them writes to the data
// directory: every replica must find its keys and data in the shared places.
func TestPostgresMigrateServeAndAdminCreate(t *testing.T) {
	target, password := withMarkedPassword(t, storetest.Schema(t))
	t.Setenv("KEYPORT_ENCRYPTION_KEY", strings.Repeat("ab", 32))
	t.Setenv("KEYPORT_SESSION_KEY", strings.Repeat("cd", 64))
	t.Setenv("KEYPORT_DATABASE_URL", "")
	dir := filepath.Join(t.TempDir(), "data")
	ctx := context.Background()
	printed := func(stdout, stderr string) {
		t.Helper()
		if password != "" && strings.Contains(stdout+stderr, password) {
			t.Fatalf("the database password was printed:\n%s\n%s", stdout, stderr)
		}
	}

	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"migrate", "--data", dir, "--database-url", target}, &out, &errOut); code != 0 {
		t.Fatalf("migrate exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "applied 001_init.sql") {
		t.Fatalf("migrate printed %q", out.String())
	}
	printed(out.String(), errOut.String())
	out.Reset()
	t.Setenv("KEYPORT_DATABASE_URL", target)
	if code := run(ctx, []string{"migrate", "--data", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("second migrate, URL from the environment: exit %d, %q %s", code, out.String(), errOut.String())
	}

	srv := startServe(t, "--demo", "--data", dir)
	printed(srv.stdout.String(), srv.stderr.String())
	for _, want := range []string{"database postgres://", "Demo logins"} {
		if !strings.Contains(srv.stdout.String(), want) {
			t.Fatalf("serve printed no %q:\n%s", want, srv.stdout.String())
		}
	}
	for _, path := range []string{"/readyz", "/login"} {
		r, err := http.Get("http://" + srv.addr + path)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, r.StatusCode)
		}
	}
	srv.stop(t)
	printed(srv.stdout.String(), srv.stderr.String())

	out.Reset()
	if code := run(ctx, []string{"admin", "create", "--data", dir, "--email", "Ops@Keyport.test"}, &out, &errOut); code != 0 {
		t.Fatalf("admin create exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "ops@keyport.test") {
		t.Fatalf("admin create printed %q", out.String())
	}
	printed(out.String(), errOut.String())

	db, err := store.Open(target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.Engine() != store.Postgres {
		t.Fatalf("engine %s", db.Engine())
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 3 {
		t.Fatalf("%d users (%v), want the demo admin, the demo merchant and the new admin", n, err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Fatalf("the commands wrote to the data directory on PostgreSQL: %v", err)
	}
}

// withMarkedPassword returns target and the password no output may show:
// the URL's own, or a marker added to it when the server needs none.
func withMarkedPassword(t *testing.T, target string) (string, string) {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	if p, ok := u.User.Password(); ok {
		return target, p
	}
	if u.User == nil || os.Getenv("PGPASSWORD") != "" {
		return target, ""
	}
	const marker = "marker-password-never-printed"
	u.User = url.UserPassword(u.User.Username(), marker)
	return u.String(), marker
}
