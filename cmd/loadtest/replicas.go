package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"keyport"
	"keyport/store"
)

// sessionKeySize is the length in bytes of the session key keyport serve
// requires on PostgreSQL.
const sessionKeySize = 64

// fleet is the keyport serve processes of one engine that a run loads.
type fleet struct {
	engine  string
	servers []*server
}

// String names the fleet: its engine and how many processes it has.
func (f *fleet) String() string {
	if len(f.servers) == 1 {
		return f.engine + ", 1 server"
	}
	noun := "servers"
	if f.engine == "PostgreSQL" {
		noun = "replicas"
	}
	return fmt.Sprintf("%s, %d %s", f.engine, len(f.servers), noun)
}

// bases returns the base URL of each server.
func (f *fleet) bases() []string {
	out := make([]string, len(f.servers))
	for i, s := range f.servers {
		out[i] = s.base
	}
	return out
}

// pids returns the process id of each server.
func (f *fleet) pids() []int {
	out := make([]int, len(f.servers))
	for i, s := range f.servers {
		out[i] = s.cmd.Process.Pid
	}
	return out
}

// target is newTarget for path on every server of the fleet, whose CPU
// times the load test reads.
func (f *fleet) target(path, key string) (target, error) {
	t, err := newTarget(f.bases(), path, key)
	t.pids = f.pids()
	return t, err
}

// rotatingTarget is newRotatingTarget for path on every server of the fleet.
func (f *fleet) rotatingTarget(path string, keys []string) (target, error) {
	t, err := newRotatingTarget(f.bases(), path, keys)
	t.pids = f.pids()
	return t, err
}

// stop stops every server at once and reports to w those that did not stop cleanly.
func (f *fleet) stop(w io.Writer) {
	var wg sync.WaitGroup
	for i, s := range f.servers {
		wg.Go(func() {
			if err := s.stop(); err != nil {
				fmt.Fprintf(w, "loadtest: stop the %s server %d: %v\n", f.engine, i+1, err)
			}
		})
	}
	wg.Wait()
}

// startFleet starts a server per data directory in dirs, each with env added
// to its environment, one after the other. If one fails to start, those
// already started are stopped.
func startFleet(ctx context.Context, bin, engine string, dirs []string, env []string, logPath string) (*fleet, error) {
	f := &fleet{engine: engine}
	for i, dir := range dirs {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			f.stop(io.Discard)
			return nil, err
		}
		s, err := startServer(ctx, bin, dir, env, logPath)
		if err != nil {
			f.stop(io.Discard)
			return nil, fmt.Errorf("%s server %d of %d: %w", engine, i+1, len(dirs), err)
		}
		f.servers = append(f.servers, s)
	}
	return f, nil
}

// replicaDirs names the data directories of n servers of one engine under dir.
func replicaDirs(dir, engine string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = filepath.Join(dir, fmt.Sprintf("%s-%d", engine, i+1))
	}
	return out
}

// postgresEnv is the environment every replica shares on the PostgreSQL
// schema at url: the database and the encryption and session keys, generated
// for this run.
func postgresEnv(url string) ([]string, error) {
	seal := make([]byte, keyport.EncryptionKeySize)
	session := make([]byte, sessionKeySize)
	if _, err := rand.Read(seal); err != nil {
		return nil, err
	}
	if _, err := rand.Read(session); err != nil {
		return nil, err
	}
	return []string{"KEYPORT_DATABASE_URL=" + url, "KEYPORT_ENCRYPTION_KEY=" + hex.EncodeToString(seal),
		"KEYPORT_SESSION_KEY=" + hex.EncodeToString(session)}, nil
}

// copySQLite writes a consistent copy of the SQLite database at source into
// each of dirs, as its keyport.db.
func copySQLite(ctx context.Context, source string, dirs []string) error {
	if len(dirs) == 0 {
		return nil
	}
	db, err := store.Open(source, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		if _, err := db.Backup(ctx, filepath.Join(dir, store.FileName)); err != nil {
			return err
		}
	}
	return nil
}

// pgSchema is the schema a run creates in the -database and drops at the end.
type pgSchema struct {
	name string
	// url is the -database URL whose connections use the schema.
	url   string
	admin *sql.DB
}

// schemaPrefix starts the name of every schema the load test creates.
const schemaPrefix = "keyport_loadtest_"

// createSchema creates a new, empty schema in the PostgreSQL database at base.
func createSchema(ctx context.Context, base string) (*pgSchema, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, err
	}
	name := schemaPrefix + hex.EncodeToString(b[:])
	u, err := schemaURL(base, name)
	if err != nil {
		return nil, err
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", store.RedactURL(base), err)
	}
	admin.SetMaxOpenConns(1)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+name); err != nil {
		admin.Close()
		return nil, fmt.Errorf("create schema %s in %s: %w", name, store.RedactURL(base), err)
	}
	return &pgSchema{name: name, url: u, admin: admin}, nil
}

// drop removes the schema with everything in it.
func (s *pgSchema) drop() error {
	defer s.admin.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := s.admin.ExecContext(ctx, `DROP SCHEMA `+s.name+` CASCADE`)
	return err
}

// schemaCatalogs are the system catalogs that creating and dropping a schema
// fills with rows and dead rows. Autovacuum visits them soon after, and then
// every server process reloads its catalog caches and replans its prepared
// statements.
var schemaCatalogs = []string{"pg_class", "pg_attribute", "pg_attrdef", "pg_constraint", "pg_depend", "pg_index", "pg_type",
	"pg_trigger", "pg_proc", "pg_namespace", "pg_sequence", "pg_statistic"}

// settle vacuums and analyzes every table of the schema at url, and the
// system catalogs of schemaCatalogs, as autovacuum would do soon after the
// seed, which would otherwise land in the middle of a measured run. Without
// the privilege to vacuum a catalog, PostgreSQL skips it with a warning.
func settle(ctx context.Context, url string) error {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	rows, err := db.QueryContext(ctx, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, name := range tables {
		if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) `+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("vacuum %s: %w", name, err)
		}
	}
	for _, name := range schemaCatalogs {
		if _, err := db.ExecContext(ctx, `VACUUM (ANALYZE) pg_catalog.`+pgx.Identifier{name}.Sanitize()); err != nil {
			return fmt.Errorf("vacuum %s: %w", name, err)
		}
	}
	return nil
}

// schemaURL returns the PostgreSQL URL base with its connections set to use
// schema: its search_path, set or replaced.
func schemaURL(base, schema string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || !store.IsPostgres(base) {
		return "", errors.New("-database must be a postgres:// URL")
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// engines compares GET /v1/couriers with a valid key on the PostgreSQL
// replicas pg against as many SQLite servers lite, each on its own copy of
// one seeded file: the same answer, the same workers spread over the same
// number of processes, in alternating rounds. It prints what it compares, the
// figures of each side with the ratio PostgreSQL/SQLite and its spread, and
// each side's cache misses, and reports whether any request failed.
func engines(ctx context.Context, client *http.Client, lite, pg *fleet, liteKey, pgKey string, o options, w io.Writer) bool {
	liteT, err := lite.target("/v1/couriers", liteKey)
	if err != nil {
		fmt.Fprintf(w, "  %v\n", err)
		return true
	}
	pgT, err := pg.target("/v1/couriers", pgKey)
	if err != nil {
		fmt.Fprintf(w, "  %v\n", err)
		return true
	}
	liteT.Name, pgT.Name = lite.String()+": "+liteT.Name, pg.String()+": "+pgT.Name
	liteStats, err := lite.target("/v1/loadtest/stats", "")
	if err != nil {
		fmt.Fprintf(w, "  %v\n", err)
		return true
	}
	pgStats, err := pg.target("/v1/loadtest/stats", "")
	if err != nil {
		fmt.Fprintf(w, "  %v\n", err)
		return true
	}
	for _, t := range []target{liteT, pgT} {
		if err := preflight(ctx, client, t, o.timeout); err != nil {
			fmt.Fprintf(w, "  %v\n", err)
			return true
		}
	}
	fmt.Fprintf(w, "\nPostgreSQL against SQLite, per replica: GET /v1/couriers with a valid secret key, the same answer from both;\n")
	if n := len(pg.servers); n > 1 {
		fmt.Fprintf(w, "  %d keyport processes on each side (the PostgreSQL replicas; as many SQLite servers, each on its own copy of one\n", n)
		fmt.Fprintf(w, "  seeded file), the same %d workers sending each request to the side's next process in turn. Each process verifies\n", o.concurrency)
	} else {
		fmt.Fprintf(w, "  one keyport process on each side, the same %d workers on both. Each process verifies\n", o.concurrency)
	}
	fmt.Fprintf(w, "  the key once and then serves it from its verifier cache, so the ratio is the cost of running on PostgreSQL\n")
	fmt.Fprintf(w, "  (the key change listener, the version poll, the usage flushes) with the database off the request path.\n")
	fmt.Fprintf(w, "  The CPU columns count the keyport processes and the load test, not the PostgreSQL server.\n")
	before := make([]serverStats, 2)
	for i, t := range []target{liteStats, pgStats} {
		if before[i], err = readStats(ctx, client, t, o.timeout); err != nil {
			fmt.Fprintf(w, "  %v\n", err)
			return true
		}
	}
	results, failed := compare(ctx, client, []target{liteT, pgT}, comparison{Ratio: "PostgreSQL/SQLite per replica", Goal: 0.95}, o, w)
	for i, t := range []target{liteStats, pgStats} {
		after, err := readStats(ctx, client, t, o.timeout)
		if err != nil {
			fmt.Fprintf(w, "  %v\n", err)
			return true
		}
		lookups := after.KeyLookups - before[i].KeyLookups
		rate, ok := missRate(lookups, results[i].Requests())
		fmt.Fprintf(w, "key lookups on %s, warm-up included: %d for %d requests, %s cache misses\n",
			[]string{lite.engine, pg.engine}[i], lookups, results[i].Requests(), percent(rate, ok))
	}
	return failed
}
