// Command loadtest measures the real Keyport server under load, as `make bench` runs it.
//
// It seeds a temporary database with one merchant, 10,000 API accounts and
// 20,000 keys, builds and starts `keyport serve` on 127.0.0.1, and then:
//
//   - closed loop: the same number of concurrent workers load GET /healthz
//     (unauthenticated) and GET /v1/couriers (with a valid secret key) in
//     alternating rounds after a warm-up, and it prints the bytes of one
//     answer of each, requests/s, p50 and p99 of each, and the ratio
//     authenticated/unauthenticated with its spread from round to round
//     (target >= 0.90);
//   - fixed rate: GET /v1/shipments?limit=10 at 2,000 requests/s for 10 s,
//     open loop (latency counted from each request's scheduled time), and it
//     prints p50, p99 and max (target p99 < 10 ms).
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
	"syscall"
	"time"

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
}

func main() {
	// A closed stdout (| head) must not kill the run before it stops the server.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func parseOptions(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadtest", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.accounts, "accounts", 10000, "API accounts to seed, two test secret keys each (at least 2)")
	fs.IntVar(&o.shipments, "shipments", 60, "test shipments to seed on the account of the key under load")
	fs.IntVar(&o.seedWorkers, "seed-workers", 2, "goroutines creating accounts and keys (SQLite serialises the writes; more do not help)")
	fs.IntVar(&o.concurrency, "c", 16, "concurrent workers of the closed-loop comparison, the same for both targets")
	fs.IntVar(&o.rounds, "rounds", 10, "alternating rounds per target in the comparison")
	fs.DurationVar(&o.round, "round", time.Second, "length of one round")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "warm-up per target before the rounds, not measured")
	fs.Float64Var(&o.rate, "rate", 2000, "requests per second of the fixed-rate run on /v1/shipments (0 skips it)")
	fs.DurationVar(&o.rateDuration, "rate-duration", 10*time.Second, "length of the fixed-rate run")
	fs.IntVar(&o.maxInFlight, "max-inflight", 512, "most requests in flight at once in the fixed-rate run")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "deadline of every request")
	fs.DurationVar(&o.maxTime, "max-time", 10*time.Minute, "deadline of the whole run, seeding included")
	fs.StringVar(&o.goCmd, "go", "go", "go command that builds the server")
	fs.StringVar(&o.bin, "bin", "", "use this keyport binary instead of building ./cmd/keyport")
	fs.StringVar(&o.serverLog, "server-log", "", "append the server's log to this file (default: discarded unless it fails to start)")
	fs.BoolVar(&o.skipV1, "skip-v1", false, "load only /healthz: checks the harness on a build without the /v1 API")
	if err := fs.Parse(args); err != nil {
		return o, err
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
		build := exec.CommandContext(ctx, o.goCmd, "build", "-o", bin, "./cmd/keyport")
		build.Stdout, build.Stderr = stdout, stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build the server: %w", err)
		}
	}

	began := time.Now()
	data, err := seed(ctx, filepath.Join(dir, store.FileName), seedOptions{Accounts: o.accounts, Shipments: o.shipments, Workers: o.seedWorkers})
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "seeded %d API accounts, %d keys and %d shipments in %s\n",
		data.Accounts, data.Keys, data.Shipments, time.Since(began).Round(time.Millisecond))

	srv, err := startServer(ctx, bin, dir, o.serverLog)
	if err != nil {
		return err
	}
	defer func() {
		if err := srv.stop(); err != nil {
			fmt.Fprintf(stderr, "loadtest: stop the server: %v\n", err)
		}
	}()
	fmt.Fprintf(stdout, "server listening on %s\n", srv.base)

	client := newClient(max(o.concurrency, o.maxInFlight))
	health, err := newTarget(srv.base, "/healthz", "")
	if err != nil {
		return err
	}
	couriers, err := newTarget(srv.base, "/v1/couriers", data.Key)
	if err != nil {
		return err
	}
	shipments, err := newTarget(srv.base, "/v1/shipments?limit=10", data.Key)
	if err != nil {
		return err
	}
	if err := preflight(ctx, client, health, o.timeout); err != nil {
		return err
	}
	targets := []target{health, couriers}
	if o.skipV1 {
		targets = targets[:1]
	} else {
		for _, t := range []target{couriers, shipments} {
			if err := preflight(ctx, client, t, o.timeout); err != nil {
				return fmt.Errorf("%w\n(is the /v1 API in this build, and does it accept the seeded sk_test_ key with Authorization: Bearer?)", err)
			}
		}
	}

	failed := compare(ctx, client, targets, cpuClock{serverPID: srv.cmd.Process.Pid}, o, stdout)
	if !o.skipV1 && o.rate > 0 {
		if fixedRate(ctx, client, shipments, o, stdout) {
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

// compare runs the closed-loop comparison of targets (the unauthenticated one
// first): a warm-up of each, then rounds alternating which goes first, so that
// a machine getting faster or slower during the run weighs on both alike. It
// prints the bytes of one answer of each target, a line per target and, with
// two targets, the ratio of the second's requests/s to the first's over the
// whole run and its spread from round to round. Where clock can read CPU
// times, it also prints the CPU time the server and the load test spent per
// request of each target: they share the machine's cores, so requests/s
// depends on both. It reports whether any request failed.
func compare(ctx context.Context, client *http.Client, targets []target, clock cpuClock, o options, w io.Writer) bool {
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
			before, ok := clock.now()
			round := closedLoop(ctx, client, targets[k], o.concurrency, o.round, o.timeout)
			after, ok2 := clock.now()
			cpuKnown = cpuKnown && ok && ok2
			if cpuKnown {
				round.CPU = cpuUse{Server: after.Server - before.Server, Client: after.Client - before.Client}
			}
			perSecond[k] = round.PerSecond()
			results[k].add(round)
		}
		if len(targets) == 2 && perSecond[0] > 0 {
			roundRatios = append(roundRatios, perSecond[1]/perSecond[0])
		}
	}
	failed := false
	fmt.Fprintf(w, "%-22s %9s %10s %9s %9s %7s %15s %15s\n", "target", "requests", "req/s", "p50", "p99", "errors", "server CPU/req", "client CPU/req")
	for i, t := range targets {
		s := results[i]
		l := sorted(s.Latencies)
		serverCPU, clientCPU := "-", "-"
		if cpuKnown {
			serverCPU, clientCPU = perRequest(s.CPU.Server, s.Requests()), perRequest(s.CPU.Client, s.Requests())
		}
		fmt.Fprintf(w, "%-22s %9d %10.0f %9s %9s %7d %15s %15s\n", t.Name, len(l), s.PerSecond(), ms(percentile(l, 50)), ms(percentile(l, 99)), s.Errors, serverCPU, clientCPU)
		if s.Errors > 0 {
			failed = true
			fmt.Fprintf(w, "  first error of %s: %s\n", t.Name, s.FirstErr)
		}
	}
	if len(targets) == 2 && results[0].PerSecond() > 0 {
		fmt.Fprintf(w, "ratio authenticated/unauthenticated = %.2f (target >= 0.90)\n", results[1].PerSecond()/results[0].PerSecond())
		if len(roundRatios) > 1 {
			slices.Sort(roundRatios)
			fmt.Fprintf(w, "  per round: median %.2f, lowest %.2f, highest %.2f over %d rounds\n",
				median(roundRatios), roundRatios[0], roundRatios[len(roundRatios)-1], len(roundRatios))
		}
	}
	return failed
}

// fixedRate runs the open-loop load of t, prints its figures and reports
// whether any request failed.
func fixedRate(ctx context.Context, client *http.Client, t target, o options, w io.Writer) bool {
	fmt.Fprintf(w, "\nfixed rate: %s at %.0f requests/s for %s\n", t.Name, o.rate, o.rateDuration)
	res := openLoop(ctx, client, t, o.rate, o.rateDuration, o.timeout, o.maxInFlight)
	l := sorted(res.Latencies)
	achieved := 0.0
	if res.Elapsed > 0 {
		achieved = float64(res.Completed) / res.Elapsed.Seconds()
	}
	fmt.Fprintf(w, "sent %d, completed %d, errors %d, achieved %.0f requests/s\n", res.Sent, res.Completed, res.Errors, achieved)
	p99 := percentile(l, 99)
	fmt.Fprintf(w, "p50 %s  p99 %s  max %s\n", ms(percentile(l, 50)), ms(p99), ms(percentile(l, 100)))
	verdict := "met"
	if res.Errors > 0 || res.Completed == 0 || p99 >= 10*time.Millisecond {
		verdict = "missed"
	}
	fmt.Fprintf(w, "p99 target < 10ms: %s\n", verdict)
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

// startServer runs `bin serve` on a free port of 127.0.0.1 with the data in
// dir and waits until /healthz answers. The server's log goes to logPath, or
// to a file in dir whose end is printed if the server fails to start.
func startServer(ctx context.Context, bin, dir, logPath string) (*server, error) {
	if logPath == "" {
		logPath = filepath.Join(dir, "server.log")
	}
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve", "--data", dir, "--addr", loopback+":0")
	cmd.Env = serverEnv(os.Environ())
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
	health, err := newTarget(s.base, "/healthz", "")
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

// serverEnv is env without KEYPORT_ variables, so that only the flags given
// configure the server (it generates its own encryption key file).
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
