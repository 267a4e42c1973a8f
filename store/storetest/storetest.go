// Package storetest gives each test its own empty database on the engine the
// run asks for: a SQLite file by default, a fresh PostgreSQL schema when
// KEYPORT_TEST_DATABASE_URL is set.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvURL is the variable naming the PostgreSQL server the tests may use.
const EnvURL = "KEYPORT_TEST_DATABASE_URL"

// Target returns where a test's database lives: with KEYPORT_TEST_DATABASE_URL
// set, the URL of a new, empty PostgreSQL schema dropped when the test ends;
// otherwise the path of a new SQLite file in a temporary directory.
func Target(tb testing.TB) string {
	tb.Helper()
	if os.Getenv(EnvURL) == "" {
		return filepath.Join(tb.TempDir(), "keyport.db")
	}
	return Schema(tb)
}

// OnPostgres reports whether this run's tests use PostgreSQL.
func OnPostgres() bool { return os.Getenv(EnvURL) != "" }

// EnvEngine, set to "sqlite", says a run is the SQLite pass of a CI that
// runs the PostgreSQL tests in another pass.
const EnvEngine = "KEYPORT_TEST_ENGINE"

// PostgresURL returns KEYPORT_TEST_DATABASE_URL. Without it the test is
// skipped with the reason, except under CI=true, where it fails (CI runs
// every PostgreSQL test) unless KEYPORT_TEST_ENGINE=sqlite marks the run as
// CI's SQLite pass.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv(EnvURL)
	if u == "" {
		if os.Getenv("CI") == "true" && os.Getenv(EnvEngine) != "sqlite" {
			tb.Fatalf("%s is not set: CI runs the PostgreSQL tests (.ci/run starts a cluster)", EnvURL)
		}
		tb.Skipf("needs PostgreSQL: set %s (make test-postgres starts a throwaway cluster)", EnvURL)
	}
	return u
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

// Schema creates an empty schema on the PostgreSQL server of
// KEYPORT_TEST_DATABASE_URL and returns a URL whose connections use it; the
// schema is dropped when the test ends.
func Schema(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL(tb)
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("pgx", base)
		if adminErr == nil {
			admin.SetMaxOpenConns(4)
		}
	})
	if adminErr != nil {
		tb.Fatal(adminErr)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		tb.Fatalf("create test schema: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+name+` CASCADE`); err != nil {
			tb.Errorf("drop test schema %s: %v", name, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String()
}
