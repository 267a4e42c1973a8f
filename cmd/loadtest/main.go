// Command loadtest measures the real Keyport server under load, as `make bench` runs it.
//
// It seeds a temporary database with one merchant, 10,000 API accounts and
// 20,000 keys, plus a second merchant for the churn client, builds `keyport`
// with -tags loadtest (which adds GET /v1/loadtest/couriers, the couriers
// answer without the key check, and GET /v1/loadtest/stats, the count of key
// lookups), starts it on 127.0.0.1, and then:
//
//   - closed loop: the same number of concurrent workers load the
//     unauthenticated twin and GET /v1/couriers with a valid secret key, the
//     same answer byte for byte, in alternating rounds after a warm-up; it
//     prints requests/s, p50 and p99 of each and the ratio keyed/twin with
//     its spread from round to round (target >= 0.95): the cost of the key
//     check and nothing else;
//   - key rotation: GET /v1/couriers with every seeded key in turn, quiet and
//     while a second client signs in through the portal's forms 10 times a
//     second and creates a key each time in the other merchant; it prints the
//     ratio churn/quiet (target >= 0.90) and the verifier's cache misses (key
//     lookups per request, target < 1% under churn);
//   - fixed rate: GET /v1/shipments?limit=10 at 2,000 requests/s for 10 s,
//     open loop (latency counted from each request's scheduled time), and it
//     prints p50, p99 and max (target p99 < 10 ms), beside GET /healthz at
//     the same rate in the same rounds: the floor, the share of the machine
//     and of the load test itself in the p99.
//
// With -database postgres://..., it seeds a schema of its own in that
// database instead, dropped at the end, starts -replicas servers on it and
// sends each request of every run to the next replica in turn; it also
// compares GET /v1/couriers per replica against as many SQLite servers
// (target: PostgreSQL/SQLite >= 0.95), runs the fixed rate on both, and,
// with two replicas or more, times how long a revocation takes until every
// replica refuses the key (target: under 1 s).
//
// Only 200 responses count as successes. It sends requests to 127.0.0.1 only,
// puts a deadline on every request and on the whole run, stops the server and
// removes the temporary directory at the end. It exits non-zero when the
// server cannot start, when a /v1 endpoint refuses the seeded key, or when
// any request failed; a missed target is reported but does not fail the run.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"keyport"
	"keyport/store"
)

// options are the command-line flags.
type options struct {
	accounts, shipments, seedWorkers int
	concurrency, rounds              int
	round, warmup                    time.Duration
	rate                             float64
	rateDuration                     time.Duration
	maxInFlight                      int
	timeout, maxTime                 time.Duration
	goCmd, bin, serverLog            string
	skipV1                           bool
	churnRate                        float64
	churnTimeout                     time.Duration
	// churnCheapPasswords seeds the churn team's password at the minimal cost.
	churnCheapPasswords bool
	// metrics turns on every server's Prometheus metrics.
	metrics bool
	// database is the PostgreSQL URL to run on; empty means a temporary SQLite file.
	database      string
	replicas      int
	compareSQLite bool
	revocations   int
}

// maxReplicas bounds -replicas: each replica is a server process on this machine.
const maxReplicas = 16

// maxTimePostgres is the default -max-time with -database: the run seeds two
// databases and adds the engine comparison and the revocations.
const maxTimePostgres = 30 * time.Minute

func main() {
	// A closed stdout (| head) must not kill the run before it stops the server.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// metricsEnv is what the servers' environment gains with -metrics.
func (o options) metricsEnv() []string {
	if !o.metrics {
		return nil
	}
	return []string{"KEYPORT_METRICS_ADDR=" + loopback + ":0"}
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.accounts, "accounts", 10000, "API accounts to seed, two test secret keys each (at least 2)")
	fs.IntVar(&o.shipments, "shipments", 60, "test shipments to seed on the account of the key under load")
	fs.IntVar(&o.seedWorkers, "seed-workers", 2, "goroutines creating accounts and keys (SQLite serialises the writes; more do not help)")
	fs.IntVar(&o.concurrency, "c", 16, "concurrent workers of the closed-loop and key rotation runs, the same for every target")
	fs.IntVar(&o.rounds, "rounds", 10, "alternating rounds per target in the comparison and per run in the key rotation")
	fs.DurationVar(&o.round, "round", time.Second, "length of one round")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up per target before the rounds, not measured")
	fs.Float64Var(&o.churnRate, "churn-rate", 10, "sign-ins per second, each creating a key, beside the /v1 load of the churn run (0 skips the key rotation runs)")
	fs.BoolVar(&o.churnCheapPasswords, "churn-cheap-passwords", false, "hash the churn team's password at the minimal argon2id cost, so that the churn run "+
		"shows what sign-ins and new keys do to the key cache without the CPU of production password hashing")
	fs.DurationVar(&o.churnTimeout, "churn-timeout", 30*time.Second, "deadline of each request of the churn client (sign-ins queue behind the password hashing when the cores are busy)")
	fs.Float64Var(&o.rate, "rate", 2000, "requests per second of the fixed-rate run on /v1/shipments (0 skips it)")
	fs.DurationVar(&o.rateDuration, "rate-duration", 10*time.Second, "length of the fixed-rate run")
	fs.IntVar(&o.maxInFlight, "max-inflight", 512, "most requests in flight at once in the fixed-rate run")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "deadline of every request")
	fs.DurationVar(&o.maxTime, "max-time", 10*time.Minute, "deadline of the whole run, seeding included (default 30m with -database)")
	fs.StringVar(&o.goCmd, "go", "go", "go command that builds the server")
	fs.StringVar(&o.bin, "bin", "", "use this keyport binary, built with -tags loadtest, instead of building ./cmd/keyport")
	fs.StringVar(&o.serverLog, "server-log", "", "append the server's log to this file (default: discarded unless it fails to start)")
	fs.BoolVar(&o.skipV1, "skip-v1", false, "load only /healthz: checks the harness on a build without the /v1 API or the load-test routes")
	fs.StringVar(&o.database, "database", "", "PostgreSQL URL (postgres://user:pass@host/db?sslmode=...) to run on: the load test creates a schema of its own "+
		"in that database, seeds it, and drops it at the end, leaving the rest of the database alone; empty: a temporary SQLite file")
	fs.IntVar(&o.replicas, "replicas", 1, "keyport serve processes on the -database; every run sends each request to the next one in turn (above 1 needs -database)")
	fs.BoolVar(&o.compareSQLite, "compare-sqlite", true, "with -database: also seed a temporary SQLite file and compare GET /v1/couriers per replica, "+
		"as many SQLite servers (each on its own copy of the file) against the PostgreSQL replicas, and run the fixed rate on both")
	fs.BoolVar(&o.metrics, "metrics", false, "serve Prometheus metrics from every server (KEYPORT_METRICS_ADDR on a free port), "+
		"to compare the runs' figures with metrics on against a run without them")
	fs.IntVar(&o.revocations, "revocations", 200, "with -database and -replicas 2 or more: keys revoked one at a time, each timed until every replica refuses it (0 skips)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	maxTimeSet := false
	fs.Visit(func(f *flag.Flag) { maxTimeSet = maxTimeSet || f.Name == "max-time" })
	if o.database != "" && !maxTimeSet {
		o.maxTime = maxTimePostgres
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.accounts < 2:
		return o, errors.New("-accounts must be at least 2")
	case o.shipments < 0 || o.seedWorkers < 1 || o.concurrency < 1 || o.rounds < 1 || o.maxInFlight < 1:
		return o, errors.New("-shipments must be >= 0; -seed-workers, -c, -rounds and -max-inflight >= 1")
	case o.round <= 0 || o.warmup < 0 || o.timeout <= 0 || o.maxTime <= 0 || o.rate < 0 || (o.rate > 0 && o.rateDuration <= 0):
		return o, errors.New("durations and -rate must be positive")
	case o.churnRate < 0 || o.churnTimeout <= 0:
		return o, errors.New("-churn-rate must be >= 0 and -churn-timeout positive")
	case o.database != "" && !store.IsPostgres(o.database):
		return o, errors.New("-database must be a postgres:// or postgresql:// URL (leave it out for a temporary SQLite file)")
	case o.replicas < 1 || o.replicas > maxReplicas:
		return o, fmt.Errorf("-replicas must be from 1 to %d", maxReplicas)
	case o.replicas > 1 && o.database == "":
		return o, errors.New("-replicas above 1 needs -database: replicas share one PostgreSQL database")
	case o.revocations < 0:
		return o, errors.New("-revocations must be >= 0")
	}
	if o.database != "" {
		if _, err := pgconn.ParseConfig(o.database); err != nil {
			return o, fmt.Errorf("-database %s is not a PostgreSQL connection URL", store.RedactURL(o.database))
		}
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, o.maxTime)
	defer cancel()
	if err := loadtest(ctx, o, stdout, stderr); err != nil {
		fmt.Fprintf(stderr, "loadtest: %v\n", err)
		return 1
	}
	return 0
}

func loadtest(ctx context.Context, o options, stdout, stderr io.Writer) error {
	dir, err := os.MkdirTemp("", "keyport-loadtest-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	bin := o.bin
	if bin == "" {
		bin = filepath.Join(dir, "keyport")
		build := exec.CommandContext(ctx, o.goCmd, "build", "-tags", "loadtest", "-o", bin, "./cmd/keyport")
		build.Stdout, build.Stderr = stdout, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build the server: %w", err)
		}
	}

	sizes := seedOptions{Accounts: o.accounts, Shipments: o.shipments, Workers: o.seedWorkers}
	if o.churnCheapPasswords {
		sizes.ChurnPasswordCost = keyport.MinimalPasswordCost
	}
	var (
		// under is the servers every run loads.
		under *fleet
		data  seeded
		// lite is the SQLite side of the engine comparison, nil without one.
		lite     *fleet
		liteData seeded
		// schemaURL is the PostgreSQL schema of the run, "" on SQLite.
		schemaURL string
	)
	if o.database == "" {
		began := time.Now()
		data, err = seed(ctx, filepath.Join(dir, store.FileName), sizes)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		printSeeded(stdout, "", data, time.Since(began))
		srv, err := startServer(ctx, bin, dir, o.metricsEnv(), o.serverLog)
		if err != nil {
			return err
		}
		under = &fleet{engine: "SQLite", servers: []*server{srv}}
		defer under.stop(stderr)
		fmt.Fprintf(stdout, "server listening on %s\n", srv.base)
	} else {
		schema, err := createSchema(ctx, o.database)
		if err != nil {
			return err
		}
		defer func() {
			if err := schema.drop(); err != nil {
				fmt.Fprintf(stderr, "loadtest: drop schema %s: %v\n", schema.name, err)
			}
		}()
		schemaURL = schema.url
		fmt.Fprintf(stdout, "database %s, in a schema of the load test's own, %s, dropped at the end\n", store.RedactURL(o.database), schema.name)
		liteDir := filepath.Join(dir, "sqlite-1")
		if data, liteData, err = seedBoth(ctx, schema.url, liteDir, o.compareSQLite, sizes, stdout); err != nil {
			return err
		}
		began := time.Now()
		if err := settle(ctx, schema.url); err != nil {
			return fmt.Errorf("vacuum the seeded schema: %w", err)
		}
		fmt.Fprintf(stdout, "vacuumed and analyzed the seeded tables and the system catalogs the seed changed in %s, so that autovacuum does not do it during the runs\n",
			time.Since(began).Round(time.Millisecond))
		env, err := postgresEnv(schema.url)
		if err != nil {
			return err
		}
		under, err = startFleet(ctx, bin, "PostgreSQL", replicaDirs(dir, "postgres", o.replicas), append(env, o.metricsEnv()...), o.serverLog)
		if err != nil {
			return err
		}
		defer under.stop(stderr)
		fmt.Fprintf(stdout, "%s listening on %s\n", under, strings.Join(under.bases(), ", "))
		if o.replicas > 1 {
			fmt.Fprintln(stdout, "every run sends each request to the next replica in turn")
		}
		if o.compareSQLite {
			dirs := replicaDirs(dir, "sqlite", o.replicas)
			if err := copySQLite(ctx, filepath.Join(liteDir, store.FileName), dirs[1:]); err != nil {
				return err
			}
			if lite, err = startFleet(ctx, bin, "SQLite", dirs, o.metricsEnv(), o.serverLog); err != nil {
				return err
			}
			defer lite.stop(stderr)
			fmt.Fprintf(stdout, "for the comparison, %s listening on %s\n", lite, strings.Join(lite.bases(), ", "))
		}
	}

	client := newClient(max(o.concurrency, o.maxInFlight))
	if o.skipV1 {
		health, err := under.target("/healthz", "")
		if err != nil {
			return err
		}
		if err := preflight(ctx, client, health, o.timeout); err != nil {
			return err
		}
		if _, failed := compare(ctx, client, []target{health}, comparison{}, o, stdout); failed {
			return errors.New("some requests failed (see errors above)")
		}
		return ctx.Err()
	}

	twin, err := under.target("/v1/loadtest/couriers", "")
	if err != nil {
		return err
	}
	statsTarget, err := under.target("/v1/loadtest/stats", "")
	if err != nil {
		return err
	}
	couriers, err := under.target("/v1/couriers", data.Key)
	if err != nil {
		return err
	}
	shipments, err := under.target("/v1/shipments?limit=10", data.Key)
	if err != nil {
		return err
	}
	rotating, err := under.rotatingTarget("/v1/couriers", data.Keys)
	if err != nil {
		return err
	}
	for _, t := range []target{twin, statsTarget} {
		if err := preflight(ctx, client, t, o.timeout); err != nil {
			return fmt.Errorf("%w\n(is this a build with -tags loadtest? -bin must be one)", err)
		}
	}
	for _, t := range []target{couriers, shipments} {
		if err := preflight(ctx, client, t, o.timeout); err != nil {
			return fmt.Errorf("%w\n(does the /v1 API accept the seeded sk_test_ key with Authorization: Bearer?)", err)
		}
	}

	_, failed := compare(ctx, client, []target{twin, couriers}, comparison{Ratio: "keyed/unkeyed twin", Goal: 0.95}, o, stdout)
	if lite != nil {
		if engines(ctx, client, lite, under, liteData.Key, data.Key, o, stdout) {
			failed = true
		}
	}
	if o.churnRate > 0 {
		churn, err := newChurner(under.bases(), data.Churn, client.Transport, o.churnTimeout)
		if err != nil {
			return err
		}
		if rotation(ctx, client, rotating, statsTarget, churn, o, stdout) {
			failed = true
		}
	}
	if o.rate > 0 {
		floor, err := under.target("/healthz", "")
		if err != nil {
			return err
		}
		floor.Name = under.String() + ", the floor: GET /healthz, which reads nothing"
		targets := []target{shipments}
		if lite != nil {
			liteShipments, err := lite.target("/v1/shipments?limit=10", liteData.Key)
			if err != nil {
				return err
			}
			liteShipments.Name = lite.String() + ", for comparison: " + liteShipments.Name
			shipments.Name = under.String() + ": " + shipments.Name
			targets = []target{liteShipments, shipments}
		}
		if fixedRates(ctx, client, floor, targets, o, stdout) {
			failed = true
		}
	}
	if schemaURL != "" && o.replicas > 1 && o.revocations > 0 {
		if propagation(ctx, client, couriers, under.String(), schemaURL, data.Churn, o, stdout) {
			failed = true
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped early: %w", err)
	}
	if failed {
		return errors.New("some requests failed (see errors above)")
	}
	return nil
}

// printSeeded reports what seed created in the database named what ("" when
// there is only one) and how long it took.
func printSeeded(w io.Writer, what string, data seeded, took time.Duration) {
	if what != "" {
		what = " " + what + " with"
	}
	fmt.Fprintf(w, "seeded%s %d API accounts, %d keys and %d shipments, and a second merchant for the churn client, in %s\n",
		what, data.Accounts, len(data.Keys), data.Shipments, took.Round(time.Millisecond))
}

// seedBoth seeds the PostgreSQL schema at url and, when withSQLite, a SQLite
// file in liteDir at the same time, and reports each.
func seedBoth(ctx context.Context, url, liteDir string, withSQLite bool, sizes seedOptions, w io.Writer) (pg, lite seeded, err error) {
	var liteErr error
	var liteTook time.Duration
	var wg sync.WaitGroup
	if withSQLite {
		if err := os.MkdirAll(liteDir, 0o700); err != nil {
			return pg, lite, err
		}
		wg.Go(func() {
			began := time.Now()
			lite, liteErr = seed(ctx, filepath.Join(liteDir, store.FileName), sizes)
			liteTook = time.Since(began)
		})
	}
	began := time.Now()
	pg, err = seed(ctx, url, sizes)
	pgTook := time.Since(began)
	wg.Wait()
	if err != nil {
		return pg, lite, fmt.Errorf("seed PostgreSQL: %w", err)
	}
	if liteErr != nil {
		return pg, lite, fmt.Errorf("seed SQLite: %w", liteErr)
	}
	printSeeded(w, "PostgreSQL", pg, pgTook)
	if withSQLite {
		printSeeded(w, "the comparison's SQLite file", lite, liteTook)
	}
	return pg, lite, nil
}

// comparison names the ratio of the second target of compare to the first,
// and the least value it aims at.
type comparison struct {
	Ratio string
	Goal  float64
}

// compare runs the closed-loop comparison of targets (the baseline first,
// then the one measured against it): a warm-up of each, then rounds
// alternating which goes first, so that a machine getting faster or slower
// during the run weighs on both alike. It prints the bytes of one answer of
// each target, a line per target (and per replica, with several) and, with
// two targets, the ratio cmp of the second's requests/s to the first's over
// the whole run and its spread from round to round. Where the CPU times can
// be read, it also prints the CPU time the servers of each target and the
// load test spent per request: they share the machine's cores, so requests/s
// depends on both. It returns the figures of each target and whether any
// request failed.
func compare(ctx context.Context, client *http.Client, targets []target, cmp comparison, o options, w io.Writer) ([]stats, bool) {
	for _, t := range targets {
		if n, err := wireSize(ctx, t, o.timeout); err == nil {
			fmt.Fprintf(w, "%s answers %d bytes (status line, headers and body)\n", t.Name, n)
		}
	}
	fmt.Fprintf(w, "\nclosed loop: %d workers, warm-up %s, %d rounds of %s per target, alternating\n",
		o.concurrency, o.warmup, o.rounds, o.round)
	if o.warmup > 0 {
		for _, t := range targets {
			closedLoop(ctx, client, t, o.concurrency, o.warmup, o.timeout)
		}
	}
	results := make([]stats, len(targets))
	var roundRatios []float64
	cpuKnown := true
	for r := range o.rounds {
		perSecond := make([]float64, len(targets))
		for j := range targets {
			k := j
			if r%2 == 1 {
				k = len(targets) - 1 - j
			}
			clock := cpuClock{serverPIDs: targets[k].pids}
			round, ok := measured(clock, func() stats { return closedLoop(ctx, client, targets[k], o.concurrency, o.round, o.timeout) })
			cpuKnown = cpuKnown && ok
			perSecond[k] = round.PerSecond()
			results[k].add(round)
		}
		if len(targets) == 2 && perSecond[0] > 0 {
			roundRatios = append(roundRatios, perSecond[1]/perSecond[0])
		}
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	failed := printTable(w, names, results, cpuKnown)
	if len(targets) == 2 {
		fmt.Fprintln(w, ratioLine(cmp.Ratio, results[1].PerSecond(), results[0].PerSecond(), cmp.Goal))
		printSpread(w, roundRatios)
		if cpuKnown {
			fmt.Fprintln(w, cpuRatioLine(cmp.Ratio, results[1], results[0], cmp.Goal))
		}
	}
	return results, failed
}

// rotation measures GET /v1/couriers with every seeded key in turn (t), in rounds alternating a quiet run with a churn run, during which
// churn signs in and creates keys in the other merchant at -churn-rate. Every
// run starts after one unmeasured pass over all the keys, so that each starts
// with all of them verified once. It reads the server's key lookups before
// and after each run: lookups per /v1 request are the verifier's cache
// misses. It prints a line per run, the ratio churn/quiet with its spread,
// the miss rates and what the churn client did, and reports whether any
// request failed.
func rotation(ctx context.Context, client *http.Client, t target, statsTarget target, churn churner, o options, w io.Writer) bool {
	clock := cpuClock{serverPIDs: t.pids}
	fmt.Fprintf(w, "\nkey rotation: %s, %d workers, %d rounds of %s per run, alternating;\n", t.Name, o.concurrency, o.rounds, o.round)
	fmt.Fprintf(w, "  churn run: meanwhile a client signs in %.0f times a second through the login form and creates a key each time in another merchant;\n", o.churnRate)
	if o.churnCheapPasswords {
		fmt.Fprintf(w, "  the churn team's password is hashed at the minimal argon2id cost (-churn-cheap-passwords): sign-ins cost the cache, not the CPU of hashing;\n")
	}
	if n := len(t.URLs); n > 1 {
		fmt.Fprintf(w, "  every run starts after one unmeasured pass over all %d keys on each of the %d replicas; each key goes to every replica in turn\n", len(t.keys), n)
	} else {
		fmt.Fprintf(w, "  every run starts after one unmeasured pass over all %d keys\n", len(t.keys))
	}
	failed := false
	alone, cpu, ok := churnAlone(ctx, churn, clock, o)
	fmt.Fprintf(w, "  churn alone, no /v1 load: %s\n", alone.summary())
	if ok && alone.Attempts > 0 {
		each := cpu / time.Duration(alone.Attempts)
		fmt.Fprintf(w, "    server CPU %s per sign-in with its key: %.0f%% of one core at %.0f a second\n",
			each.Round(10*time.Microsecond), 100*each.Seconds()*o.churnRate, o.churnRate)
	}
	if alone.Errors > 0 {
		failed = true
		fmt.Fprintf(w, "    first error of the churn client: %s\n", alone.FirstErr)
	}
	names := []string{"quiet", "churn"}
	results := make([]stats, 2)
	lookups := make([]int64, 2)
	var churned churnResult
	var roundRatios []float64
	cpuKnown := true
	for r := range o.rounds {
		perSecond := make([]float64, 2)
		for j := range 2 {
			k := j
			if r%2 == 1 {
				k = 1 - j
			}
			if warm := sendEach(ctx, client, t, o.concurrency, t.pass(), o.timeout); warm.Errors > 0 {
				fmt.Fprintf(w, "  first error of the pass over the keys: %s\n", warm.FirstErr)
				return true
			}
			before, err := readStats(ctx, client, statsTarget, o.timeout)
			if err != nil {
				fmt.Fprintf(w, "  %v\n", err)
				return true
			}
			var stop chan struct{}
			var done chan churnResult
			if k == 1 {
				stop, done = make(chan struct{}), make(chan churnResult, 1)
				ready := make(chan struct{})
				go func() { done <- churn.run(ctx, o.churnRate, churnInFlight, stop, ready) }()
				select {
				case <-ready:
				case <-ctx.Done():
				}
			}
			round, ok := measured(clock, func() stats { return closedLoop(ctx, client, t, o.concurrency, o.round, o.timeout) })
			after, err := readStats(ctx, client, statsTarget, o.timeout)
			if done != nil {
				close(stop)
				churned.add(<-done)
			}
			if err != nil {
				fmt.Fprintf(w, "  %v\n", err)
				return true
			}
			cpuKnown = cpuKnown && ok
			perSecond[k] = round.PerSecond()
			results[k].add(round)
			lookups[k] += after.KeyLookups - before.KeyLookups
		}
		if perSecond[0] > 0 {
			roundRatios = append(roundRatios, perSecond[1]/perSecond[0])
		}
	}
	if printTable(w, names, results, cpuKnown) {
		failed = true
	}
	for i, name := range names {
		fmt.Fprintln(w, missLine(name, lookups[i], results[i].Requests()))
	}
	fmt.Fprintf(w, "churn client during the churn runs: %s\n", churned.summary())
	if churned.Errors > 0 {
		failed = true
		fmt.Fprintf(w, "  first error of the churn client: %s\n", churned.FirstErr)
	}
	fmt.Fprintln(w, ratioLine("churn/quiet", results[1].PerSecond(), results[0].PerSecond(), 0.90))
	printSpread(w, roundRatios)
	rate, ok := missRate(lookups[1], results[1].Requests())
	fmt.Fprintf(w, "cache misses under churn: %s (target < 1%%: %s)\n", percent(rate, ok), verdict(ok && rate < 1))
	return failed
}

// churnInFlight bounds the churn client's sign-ins in flight at once.
const churnInFlight = 16

// churnAlone runs the churn client for one round without any other load and
// returns what it did and the server's CPU time meanwhile (false when clock
// cannot read it): the cost of the churn itself, which the churn run's /v1
// requests compete with for the cores.
func churnAlone(ctx context.Context, churn churner, clock cpuClock, o options) (churnResult, time.Duration, bool) {
	before, ok := clock.now()
	stop := make(chan struct{})
	time.AfterFunc(o.round, func() { close(stop) })
	res := churn.run(ctx, o.churnRate, churnInFlight, stop, make(chan struct{}))
	after, ok2 := clock.now()
	return res, after.Server - before.Server, ok && ok2
}

// measured runs load and adds to its stats the CPU time the server and the
// load test used meanwhile, reporting false when clock cannot read them.
func measured(clock cpuClock, load func() stats) (stats, bool) {
	before, ok := clock.now()
	s := load()
	after, ok2 := clock.now()
	if !ok || !ok2 {
		return s, false
	}
	s.CPU = cpuUse{Server: after.Server - before.Server, Client: after.Client - before.Client}
	return s, true
}

// printTable prints a line of figures per named result, and the first error
// of each that had errors. It reports whether any had.
func printTable(w io.Writer, names []string, results []stats, cpuKnown bool) bool {
	failed := false
	fmt.Fprintf(w, "%-40s %9s %10s %9s %9s %7s %15s %15s\n", "target", "requests", "req/s", "p50", "p99", "errors", "server CPU/req", "client CPU/req")
	for i, name := range names {
		s := results[i]
		l := sorted(s.Latencies)
		serverCPU, clientCPU := "-", "-"
		if cpuKnown {
			serverCPU, clientCPU = perRequest(s.CPU.Server, s.Requests()), perRequest(s.CPU.Client, s.Requests())
		}
		fmt.Fprintf(w, "%-40s %9d %10.0f %9s %9s %7d %15s %15s\n", name, len(l), s.PerSecond(), ms(percentile(l, 50)), ms(percentile(l, 99)), s.Errors, serverCPU, clientCPU)
		if line := perReplicaLine(s.PerReplica, s.Elapsed); line != "" {
			fmt.Fprintf(w, "  %s\n", line)
		}
		if s.Errors > 0 {
			failed = true
			fmt.Fprintf(w, "  first error of %s: %s\n", name, s.FirstErr)
		}
	}
	return failed
}

// printSpread prints the median, lowest and highest of the ratios of each round.
func printSpread(w io.Writer, ratios []float64) {
	if len(ratios) < 2 {
		return
	}
	ratios = slices.Clone(ratios)
	slices.Sort(ratios)
	fmt.Fprintf(w, "  per round: median %.2f, lowest %.2f, highest %.2f over %d rounds\n",
		median(ratios), ratios[0], ratios[len(ratios)-1], len(ratios))
}

// cpuRatioLine reports the requests per second of CPU time, server and load
// test together, of num against den: the ratio requests/s would have if the
// two processes had the cores to themselves, which other processes on the
// machine disturb much less than they disturb requests/s.
func cpuRatioLine(name string, num, den stats, target float64) string {
	each := func(s stats) time.Duration {
		if s.Requests() == 0 {
			return 0
		}
		return (s.CPU.Server + s.CPU.Client) / time.Duration(s.Requests())
	}
	n, d := each(num), each(den)
	if n <= 0 || d <= 0 {
		return fmt.Sprintf("ratio %s by CPU time: nothing to compare", name)
	}
	r := float64(d) / float64(n)
	return fmt.Sprintf("ratio %s by CPU time per request, server and client (%s vs %s) = %.2f (target >= %.2f: %s)",
		name, perRequest(num.CPU.Server+num.CPU.Client, num.Requests()), perRequest(den.CPU.Server+den.CPU.Client, den.Requests()), r, target, verdict(r >= target))
}

// missLine reports the key lookups of a run against its /v1 requests.
func missLine(name string, lookups int64, requests int) string {
	rate, ok := missRate(lookups, requests)
	return fmt.Sprintf("key lookups during the %s run: %d for %d requests, %s cache misses", name, lookups, requests, percent(rate, ok))
}

// percent formats a percentage, or "-" when there is none.
func percent(p float64, ok bool) string {
	if !ok {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", p)
}

// perSecondOf is n over d, 0 when d is not positive.
func perSecondOf(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// warmUpOpen loads t at the fixed rate for -warmup without counting it, and
// prints its p99 and max. A server on PostgreSQL opens its pool's
// connections as the load first needs them, each a new server process on
// the database side, and the requests queue meanwhile: a cost each replica
// pays once after it starts, which the measured run leaves out and this line
// shows. (On SQLite a connection is a file opened in the same process.)
func warmUpOpen(ctx context.Context, client *http.Client, t target, o options, w io.Writer) {
	if o.warmup <= 0 {
		return
	}
	res := openLoop(ctx, client, t, o.rate, o.warmup, o.timeout, o.maxInFlight)
	l := sorted(res.Latencies)
	fmt.Fprintf(w, "warm-up of %s at the same rate, not counted: p99 %s, max %s, %d errors\n",
		o.warmup, ms(percentile(l, 99)), ms(percentile(l, 100)), res.Errors)
}

// fixedRates runs the open-loop load of floor and of each of targets for
// -rate-duration in all, in -rounds rounds alternating which goes first, so
// that a machine getting faster or slower weighs on all alike, after a warm-up
// of each (see warmUpOpen). It prints the figures of each, the floor's first:
// an endpoint that reads nothing, at the same rate in the same rounds, whose
// p99 is the share of the machine and of the load test itself in every p99
// after it. It reports whether any request failed.
func fixedRates(ctx context.Context, client *http.Client, floor target, targets []target, o options, w io.Writer) bool {
	all := append([]target{floor}, targets...)
	each := o.rateDuration / time.Duration(o.rounds)
	fmt.Fprintf(w, "\nfixed rate, %d rounds of %s per target, alternating, at %.0f requests/s (%s in all per target)\n",
		o.rounds, each, o.rate, o.rateDuration)
	for _, t := range all {
		fmt.Fprintf(w, "%s: ", t.Name)
		warmUpOpen(ctx, client, t, o, w)
	}
	results := make([]openResult, len(all))
	for r := range o.rounds {
		for j := range all {
			k := j
			if r%2 == 1 {
				k = len(all) - 1 - j
			}
			results[k].add(openLoop(ctx, client, all[k], o.rate, each, o.timeout, o.maxInFlight))
		}
	}
	failed := false
	floorP99 := percentile(sorted(results[0].Latencies), 99)
	for i, t := range all {
		fmt.Fprintf(w, "%s:\n", t.Name)
		if printOpen(w, results[i], i > 0) {
			failed = true
		}
		if p99 := percentile(sorted(results[i].Latencies), 99); i > 0 && floorP99 > 0 {
			fmt.Fprintf(w, "p99 above the floor's: %s (×%.1f)\n", ms(p99-floorP99), float64(p99)/float64(floorP99))
		}
	}
	return failed
}

// printOpen prints the figures of a fixed-rate run, with the verdict against
// the target of a p99 under 10 ms when judged, and reports whether any
// request failed.
func printOpen(w io.Writer, res openResult, judged bool) bool {
	l := sorted(res.Latencies)
	achieved := 0.0
	if res.Elapsed > 0 {
		achieved = float64(res.Completed) / res.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "sent %d, completed %d, errors %d, achieved %.0f requests/s\n", res.Sent, res.Completed, res.Errors, achieved)
	if line := perReplicaLine(res.PerReplica, res.Elapsed); line != "" {
		fmt.Fprintf(w, "%s\n", line)
	}
	p99 := percentile(l, 99)
	fmt.Fprintf(w, "p50 %s  p99 %s  max %s\n", ms(percentile(l, 50)), ms(p99), ms(percentile(l, 100)))
	verdict := "met"
	if res.Errors > 0 || res.Completed == 0 || p99 >= 10*time.Millisecond {
		verdict = "missed"
	}
	if judged {
		fmt.Fprintf(w, "p99 target < 10ms: %s\n", verdict)
	}
	if res.Errors > 0 {
		fmt.Fprintf(w, "  first error: %s\n", res.FirstErr)
	}
	return res.Errors > 0
}

// server is the keyport serve process under test.
type server struct {
	cmd  *exec.Cmd
	base string
	log  *os.File
	done chan struct{}
}

// listeningOn finds the address in the line keyport serve prints at start.
var listeningOn = regexp.MustCompile(`listening on ([^ ,]+)`)

// startServer runs `bin serve` on a free port of 127.0.0.1 with the data
// directory dir and the variables env added to the environment, and waits
// until /healthz answers. The server's log goes to logPath, or to a file in
// dir whose end is printed if the server fails to start.
func startServer(ctx context.Context, bin, dir string, env []string, logPath string) (*server, error) {
	if logPath == "" {
		logPath = filepath.Join(dir, "server.log")
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--data", dir, "--addr", loopback+":0")
	cmd.Env = append(serverEnv(os.Environ()), env...)
	dieWithParent(cmd)
	cmd.Stderr = logFile
	out, pw, err := os.Pipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	cmd.Stdout = pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		out.Close()
		logFile.Close()
		return nil, fmt.Errorf("start the server: %w", err)
	}
	s := &server{cmd: cmd, log: logFile, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listeningOn.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, out)
		out.Close()
	}()
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	fail := func(err error) (*server, error) {
		_ = s.stop()
		return nil, fmt.Errorf("%w\nserver log (end):\n%s", err, tail(logPath, 2048))
	}
	select {
	case a := <-addr:
		s.base = "http://" + a
	case <-s.done:
		return fail(errors.New("the server exited at start"))
	case <-time.After(60 * time.Second):
		return fail(errors.New("the server did not print its address within 60s"))
	case <-ctx.Done():
		return fail(ctx.Err())
	}
	health, err := newTarget([]string{s.base}, "/healthz", "")
	if err != nil {
		return fail(err)
	}
	client := newClient(1)
	for deadline := time.Now().Add(30 * time.Second); ; {
		if status, _, err := fetch(ctx, client, health, time.Second); err == nil && status == http.StatusOK {
			return s, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fail(errors.New("/healthz did not answer 200 within 30s"))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop sends SIGTERM, waits up to 20s for the server to exit, then kills it.
func (s *server) stop() error {
	defer s.log.Close()
	select {
	case <-s.done:
		return nil
	default:
	}
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = s.cmd.Process.Kill()
	}
	select {
	case <-s.done:
		return nil
	case <-time.After(20 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return errors.New("the server ignored SIGTERM for 20s and was killed")
	}
}

// serverEnv is env without KEYPORT_ variables, so that only the flags and
// variables the load test gives configure the server (on SQLite it generates
// its own encryption and session key files).
func serverEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "KEYPORT_") {
			out = append(out, kv)
		}
	}
	return out
}

// tail returns at most the last n bytes of the file at path.
func tail(path string, n int64) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	if int64(len(b)) > n {
		b = b[int64(len(b))-n:]
	}
	return string(b)
}
