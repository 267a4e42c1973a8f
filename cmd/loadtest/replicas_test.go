package main

import (
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport"
	"keyport/store"
	"keyport/store/storetest"
)

// Each request goes to the next replica in turn; with keys in turn, a pass
// presents every key once to every replica, however the workers interleave,
// and the 200s are counted per replica.
func TestRequestsGoToEveryReplicaInTurn(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	var bases []string
	for i := range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen[fmt.Sprintf("%d %s", i+1, r.Header.Get("Authorization"))]++
			mu.Unlock()
			_, _ = io.WriteString(w, `{"data":[]}`)
		}))
		defer srv.Close()
		bases = append(bases, srv.URL)
	}
	client := newClient(4)
	defer client.CloseIdleConnections()
	cases := []struct {
		name       string
		keys       []string
		passes     int
		want       map[string]int
		perReplica []int
	}{
		{"one key", nil, 2, map[string]int{"1 Bearer sk_test_x": 2, "2 Bearer sk_test_x": 2, "3 Bearer sk_test_x": 2}, []int{2, 2, 2}},
		{"keys in turn", []string{"sk_test_a", "sk_test_b"}, 2, map[string]int{
			"1 Bearer sk_test_a": 2, "2 Bearer sk_test_a": 2, "3 Bearer sk_test_a": 2,
			"1 Bearer sk_test_b": 2, "2 Bearer sk_test_b": 2, "3 Bearer sk_test_b": 2}, []int{4, 4, 4}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			clear(seen)
			tg, err := newTarget(bases, "/v1/couriers", "sk_test_x")
			if tc.keys != nil {
				tg, err = newRotatingTarget(bases, "/v1/couriers", tc.keys)
			}
			if err != nil {
				t.Fatal(err)
			}
			var s stats
			for range tc.passes {
				s.add(sendEach(context.Background(), client, tg, 4, tg.pass(), 5*time.Second))
			}
			if s.Errors != 0 || !maps.Equal(seen, tc.want) {
				t.Fatalf("%d errors (%s); requests %v, want %v", s.Errors, s.FirstErr, seen, tc.want)
			}
			if fmt.Sprint(s.PerReplica) != fmt.Sprint(tc.perReplica) {
				t.Fatalf("200s per replica %v, want %v", s.PerReplica, tc.perReplica)
			}
		})
	}
}

func TestPreflightNamesTheReplicaThatRefuses(t *testing.T) {
	good := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"data":[]}`)
	}))
	defer good.Close()
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, `{"detail":"Token does not exist"}`, http.StatusUnauthorized)
	}))
	defer bad.Close()
	client := newClient(1)
	defer client.CloseIdleConnections()
	cases := []struct {
		bases   []string
		wantErr string
	}{
		{[]string{good.URL}, ""},
		{[]string{good.URL, good.URL}, ""},
		{[]string{good.URL, bad.URL, good.URL}, "GET /v1/couriers on replica 2 of 3 answered status 401"},
		{[]string{bad.URL}, "GET /v1/couriers answered status 401"},
	}
	for _, tc := range cases {
		tg, err := newTarget(tc.bases, "/v1/couriers", "sk_test_x")
		if err != nil {
			t.Fatal(err)
		}
		err = preflight(context.Background(), client, tg, 5*time.Second)
		if tc.wantErr == "" && err != nil {
			t.Errorf("%d replicas: %v", len(tc.bases), err)
		}
		if tc.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.wantErr)) {
			t.Errorf("%d replicas: err %v, want one starting %q", len(tc.bases), err, tc.wantErr)
		}
	}
}

func TestStatsAddSumsPerReplica(t *testing.T) {
	var s stats
	s.add(stats{PerReplica: []int{1, 2}})
	s.add(stats{PerReplica: []int{10, 20, 30}})
	s.add(stats{})
	if got := fmt.Sprint(s.PerReplica); got != "[11 22 30]" {
		t.Fatalf("PerReplica = %s, want [11 22 30]", got)
	}
}

func TestPerReplicaLine(t *testing.T) {
	cases := []struct {
		counts  []int
		elapsed time.Duration
		want    string
	}{
		{nil, time.Second, ""},
		{[]int{5000}, time.Second, ""},
		{[]int{3000, 2990, 3010}, 2 * time.Second, "per replica, requests/s: 1: 1500, 2: 1495, 3: 1505"},
		{[]int{0, 10}, 0, "per replica, requests/s: 1: 0, 2: 0"},
	}
	for _, tc := range cases {
		if got := perReplicaLine(tc.counts, tc.elapsed); got != tc.want {
			t.Errorf("perReplicaLine(%v, %v) = %q, want %q", tc.counts, tc.elapsed, got, tc.want)
		}
	}
}

func TestFleetNames(t *testing.T) {
	cases := []struct {
		f    fleet
		want string
	}{
		{fleet{engine: "SQLite", servers: make([]*server, 1)}, "SQLite, 1 server"},
		{fleet{engine: "SQLite", servers: make([]*server, 3)}, "SQLite, 3 servers"},
		{fleet{engine: "PostgreSQL", servers: make([]*server, 1)}, "PostgreSQL, 1 server"},
		{fleet{engine: "PostgreSQL", servers: make([]*server, 3)}, "PostgreSQL, 3 replicas"},
	}
	for _, tc := range cases {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("String() = %q, want %q", got, tc.want)
		}
	}
}

func TestSchemaURLSetsTheSearchPath(t *testing.T) {
	cases := []struct {
		base, want string
	}{
		{"postgres://u:p@127.0.0.1:5432/keyport?sslmode=disable", "postgres://u:p@127.0.0.1:5432/keyport?search_path=s1&sslmode=disable"},
		{"postgresql://127.0.0.1/keyport", "postgresql://127.0.0.1/keyport?search_path=s1"},
		{"postgres://127.0.0.1/keyport?search_path=public&sslmode=require", "postgres://127.0.0.1/keyport?search_path=s1&sslmode=require"},
	}
	for _, tc := range cases {
		got, err := schemaURL(tc.base, "s1")
		if err != nil || got != tc.want {
			t.Errorf("schemaURL(%q) = %q, %v; want %q", tc.base, got, err, tc.want)
		}
	}
	if _, err := schemaURL("/tmp/keyport.db", "s1"); err == nil {
		t.Error("schemaURL accepted a file path")
	}
}

// Every replica gets the database and the same keys, of the sizes serve
// requires on PostgreSQL.
func TestPostgresEnvGivesTheDatabaseAndBothKeys(t *testing.T) {
	env, err := postgresEnv("postgres://127.0.0.1/k?search_path=s1")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range env {
		name, value, _ := strings.Cut(kv, "=")
		got[name] = value
	}
	if len(got) != 3 || got["KEYPORT_DATABASE_URL"] != "postgres://127.0.0.1/k?search_path=s1" {
		t.Fatalf("env %v", env)
	}
	for name, size := range map[string]int{"KEYPORT_ENCRYPTION_KEY": keyport.EncryptionKeySize, "KEYPORT_SESSION_KEY": sessionKeySize} {
		if b, err := hex.DecodeString(got[name]); err != nil || len(b) != size {
			t.Errorf("%s = %q, want %d bytes in hex", name, got[name], size)
		}
	}
	other, err := postgresEnv("postgres://127.0.0.1/k")
	if err != nil {
		t.Fatal(err)
	}
	if other[1] == env[1] || other[2] == env[2] {
		t.Error("two runs got the same keys")
	}
}

// The schema a run creates holds what it seeds, and nothing of it remains
// once dropped.
func TestCreateSchemaThenDropLeavesNothing(t *testing.T) {
	base := storetest.Schema(t)
	ctx := context.Background()
	schema, err := createSchema(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(schema.name, schemaPrefix) {
		t.Fatalf("schema %q", schema.name)
	}
	data, err := seed(ctx, schema.url, seedOptions{Accounts: 2, Shipments: 1, Workers: 1})
	if err != nil {
		schema.drop()
		t.Fatal(err)
	}
	db, err := store.Open(schema.url, store.Options{})
	if err != nil {
		schema.drop()
		t.Fatal(err)
	}
	var where string
	var keys int
	err = db.SQL().QueryRow(`SELECT current_schema(), (SELECT count(*) FROM api_keys)`).Scan(&where, &keys)
	db.Close()
	if err != nil || where != schema.name || keys != len(data.Keys) {
		schema.drop()
		t.Fatalf("current schema %q with %d keys (%v); want %q with %d", where, keys, err, schema.name, len(data.Keys))
	}
	if err := schema.drop(); err != nil {
		t.Fatal(err)
	}
	other, err := store.Open(base, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	var left int
	if err := other.SQL().QueryRow(`SELECT count(*) FROM pg_namespace WHERE nspname = $1`, schema.name).Scan(&left); err != nil || left != 0 {
		t.Fatalf("%d schemas named %s after the drop (%v)", left, schema.name, err)
	}
}

// untilRefused waits for every replica, reports how long each took, and
// fails on a replica that keeps accepting the key or answers anything else.
func TestUntilRefusedWaitsForEveryReplica(t *testing.T) {
	since := time.Now()
	refusingAfter := func(d time.Duration, status int) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if time.Since(since) < d {
				_, _ = io.WriteString(w, `{"data":[]}`)
				return
			}
			w.WriteHeader(status)
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	fast := refusingAfter(20*time.Millisecond, http.StatusUnauthorized)
	slow := refusingAfter(150*time.Millisecond, http.StatusUnauthorized)
	never := refusingAfter(time.Hour, http.StatusUnauthorized)
	broken := refusingAfter(0, http.StatusInternalServerError)
	client := newClient(4)
	defer client.CloseIdleConnections()
	cases := []struct {
		name    string
		urls    []string
		wantErr string
	}{
		{"two replicas", []string{slow, fast}, ""},
		{"one keeps accepting", []string{fast, never}, "replica 2 still accepts the revoked key after 400ms"},
		{"one fails", []string{broken, fast}, "replica 1 after the revocation: status 500"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			took, err := untilRefused(context.Background(), client, tc.urls, "sk_test_x", since, 400*time.Millisecond, 5*time.Second)
			if tc.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one starting %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(took) != 2 || took[0] < 20*time.Millisecond || took[1] < 150*time.Millisecond || took[1] > 400*time.Millisecond {
				t.Fatalf("took %v, want the fast replica after 20ms and the slow one after 150ms", took)
			}
		})
	}
}

// replicaApp serves the real Keyport app on its own store.DB of the database
// at target, following the other processes' key changes as serve does.
func replicaApp(t *testing.T, target string, follow bool) string {
	t.Helper()
	db, err := store.Open(target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if follow {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Go(func() { db.FollowKeyChanges(ctx, 0, slog.New(slog.NewTextHandler(io.Discard, nil))) })
		t.Cleanup(func() { cancel(); wg.Wait() })
		for deadline := time.Now().Add(10 * time.Second); !db.KeyListenerStats().Connected; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("the key change listener did not connect within 10s")
			}
		}
	}
	srv := httptest.NewServer(newApp(db))
	t.Cleanup(srv.Close)
	return srv.URL
}

// Two replicas on one PostgreSQL schema: every revocation the load test makes
// through its own connection reaches both, and is timed.
func TestPropagationReachesEveryReplica(t *testing.T) {
	target := storetest.Schema(t)
	ctx := context.Background()
	data, err := seed(ctx, target, seedOptions{Accounts: 2, Shipments: 0, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	bases := []string{replicaApp(t, target, true), replicaApp(t, target, true)}
	couriers, err := newTarget(bases, "/v1/couriers", data.Key)
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(4)
	defer client.CloseIdleConnections()
	var out strings.Builder
	const revocations = 20
	if failed := propagation(ctx, client, couriers, "2 replicas", target, data.Churn, options{revocations: revocations, timeout: 5 * time.Second}, &out); failed {
		t.Fatalf("propagation failed:\n%s", out.String())
	}
	for _, want := range []string{"refused by every replica:               p50 ", "over 20\n", "within 1s: met"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("output lacks %q:\n%s", want, out.String())
		}
	}
	db, err := store.Open(target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var revoked int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM api_keys WHERE account_id = $1 AND name LIKE 'Propagation %' AND revoked_at IS NOT NULL`,
		data.Churn.AccountID).Scan(&revoked); err != nil || revoked != revocations {
		t.Fatalf("%d revoked propagation keys (%v), want %d", revoked, err, revocations)
	}
}

// A replica that does not follow the others' key changes keeps accepting a
// key revoked elsewhere, and untilRefused says so: the measurement does not
// pass without propagation.
func TestUntilRefusedCatchesAReplicaThatDoesNotFollow(t *testing.T) {
	target := storetest.Schema(t)
	ctx := context.Background()
	data, err := seed(ctx, target, seedOptions{Accounts: 2, Shipments: 0, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	urls := []string{replicaApp(t, target, true) + "/v1/couriers", replicaApp(t, target, false) + "/v1/couriers"}
	db, err := store.Open(target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	owner, err := db.UserByEmail(ctx, data.Churn.Email)
	if err != nil {
		t.Fatal(err)
	}
	actor := keyport.UserActor(&owner, "")
	key, err := db.CreateKey(ctx, actor, keyport.NewKey{AccountID: data.Churn.AccountID, MerchantID: owner.MerchantID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "Not followed", Access: keyport.AccessFull})
	if err != nil {
		t.Fatal(err)
	}
	client := newClient(2)
	defer client.CloseIdleConnections()
	for _, u := range urls {
		if status, body, err := fetchAt(ctx, client, u, key.Plaintext, 5*time.Second); err != nil || status != http.StatusOK {
			t.Fatalf("before the revocation: %s", describe(status, body, err))
		}
	}
	if _, err := db.RevokeKey(ctx, actor, owner.MerchantID, data.Churn.AccountID, key.Key.ID, "test"); err != nil {
		t.Fatal(err)
	}
	_, err = untilRefused(ctx, client, urls, key.Plaintext, time.Now(), 500*time.Millisecond, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "replica 2 still accepts") {
		t.Fatalf("err %v, want replica 2 reported as still accepting the key", err)
	}
}

// TestSettleVacuumsTheSchemaAndTheCatalogs seeds a schema, settles it and
// reads PostgreSQL's statistics: its tables were vacuumed and analyzed and,
// for a superuser, the system catalogs a schema changes were vacuumed
// (PostgreSQL never analyzes pg_statistic itself).
func TestSettleVacuumsTheSchemaAndTheCatalogs(t *testing.T) {
	target := storetest.Schema(t)
	ctx := context.Background()
	if _, err := seed(ctx, target, seedOptions{Accounts: 2, Workers: 1}); err != nil {
		t.Fatal(err)
	}
	db, err := store.Open(target, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var start time.Time
	var superuser bool
	if err := db.SQL().QueryRow(`SELECT now(), rolsuper FROM pg_roles WHERE rolname = current_user`).Scan(&start, &superuser); err != nil {
		t.Fatal(err)
	}
	if err := settle(ctx, target); err != nil {
		t.Fatal(err)
	}
	var tables, settled int
	if err := db.SQL().QueryRow(`SELECT count(*), count(*) FILTER (WHERE last_vacuum >= $1 AND last_analyze >= $1)
		FROM pg_stat_user_tables WHERE schemaname = current_schema()`, start).Scan(&tables, &settled); err != nil {
		t.Fatal(err)
	}
	if tables == 0 || settled != tables {
		t.Fatalf("%d of %d tables vacuumed and analyzed", settled, tables)
	}
	if !superuser {
		t.Log("not a superuser: PostgreSQL skips the system catalogs")
		return
	}
	var catalogs int
	if err := db.SQL().QueryRow(`SELECT count(*) FROM pg_stat_sys_tables
		WHERE schemaname = 'pg_catalog' AND relname = ANY($1) AND last_vacuum >= $2`,
		schemaCatalogs, start).Scan(&catalogs); err != nil {
		t.Fatal(err)
	}
	if catalogs != len(schemaCatalogs) {
		t.Fatalf("%d of %d system catalogs vacuumed", catalogs, len(schemaCatalogs))
	}
}
