package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loopback is the only host the load test sends requests to.
const loopback = "127.0.0.1"

// checkLoopback refuses any URL that is not plain http to 127.0.0.1 with a port.
func checkLoopback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("target %q: %w", raw, err)
	}
	if u.Scheme != "http" || u.User != nil || u.Hostname() != loopback || u.Port() == "" {
		return fmt.Errorf("target %q refused: only http://%s:PORT is allowed", raw, loopback)
	}
	return nil
}

// newClient returns the HTTP client of the whole run: no proxy, a dialer that
// connects only to 127.0.0.1, and enough idle connections for idle workers.
func newClient(idle int) *http.Client {
	dialer := &net.Dialer{Timeout: 2 * time.Second}
	transport := &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if err != nil || host != loopback {
				return nil, fmt.Errorf("dial %s refused: only %s is allowed", addr, loopback)
			}
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        idle,
		MaxIdleConnsPerHost: idle,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{
		Transport: transport,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// target is one endpoint under load on one or several replicas, with one
// key, keys in turn, or none. Each request goes to the next replica in turn.
type target struct {
	Name string
	// URLs holds the endpoint on each replica.
	URLs []string
	Key  string
	// keys, when set, are sent in turn instead of Key.
	keys []string
	// next counts the requests picked so far.
	next *atomic.Uint64
	// pids are the processes of the replicas, whose CPU time the load test reads.
	pids []int
}

// newTarget builds the target for path on each of bases, refusing anything
// but 127.0.0.1.
func newTarget(bases []string, path, key string) (target, error) {
	if len(bases) == 0 {
		return target{}, errors.New("no server to send requests to")
	}
	t := target{Name: "GET " + path, Key: key, next: new(atomic.Uint64)}
	for _, base := range bases {
		u := strings.TrimSuffix(base, "/") + path
		if err := checkLoopback(u); err != nil {
			return target{}, err
		}
		t.URLs = append(t.URLs, u)
	}
	return t, nil
}

// newRotatingTarget is newTarget sending each of keys in turn, one per request.
func newRotatingTarget(bases []string, path string, keys []string) (target, error) {
	if len(keys) == 0 {
		return target{}, errors.New("no keys to rotate")
	}
	t, err := newTarget(bases, path, "")
	if err != nil {
		return target{}, err
	}
	t.Name = fmt.Sprintf("GET %s, %d keys in turn", path, len(keys))
	t.keys = keys
	return t, nil
}

// pick returns the replica, the URL and the key ("" for none) of the next
// request to t. With keys in turn, each key goes to every replica in turn
// before the next key comes: any pass() consecutive requests, however
// concurrent, present every key once to every replica.
func (t target) pick() (replica int, url, key string) {
	r := t.next.Add(1) - 1
	n := uint64(len(t.URLs))
	replica = int(r % n)
	key = t.Key
	if len(t.keys) > 0 {
		key = t.keys[(r/n)%uint64(len(t.keys))]
	}
	return replica, t.URLs[replica], key
}

// pass is the number of requests that present every key of t once to every
// replica: one per replica without keys in turn.
func (t target) pass() int {
	return max(len(t.keys), 1) * len(t.URLs)
}

// fetch sends the next request of t (see pick) within timeout.
func fetch(ctx context.Context, client *http.Client, t target, timeout time.Duration) (status int, body string, err error) {
	_, url, key := t.pick()
	return fetchAt(ctx, client, url, key, timeout)
}

// fetchAt sends one GET to url with key ("" for none) within timeout.
// Non-200 answers come back with the start of their body; the body of a 200
// is read and discarded so the connection is reused.
func fetchAt(ctx context.Context, client *http.Client, url, key string, timeout time.Duration) (status int, body string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, "", err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		_, err = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode, "", err
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	body = strings.TrimSpace(string(b))
	if loc := resp.Header.Get("Location"); loc != "" {
		body = strings.TrimSpace("redirect to " + loc + " " + body)
	}
	return resp.StatusCode, body, nil
}

// describe is the one-line account of a failed request.
func describe(status int, body string, err error) string {
	if err != nil {
		return err.Error()
	}
	return fmt.Sprintf("status %d %s: %s", status, http.StatusText(status), body)
}

// percentile returns the nearest-rank p-th percentile (0 < p <= 100) of sorted
// durations, or 0 when there are none.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	return sorted[min(max(rank, 1), n)-1]
}

// stats gathers the outcome of a load on one target: the latency of every 200
// response, the count of everything else, the first failure seen, the 200
// responses of each replica, and the CPU time the servers and the load test
// used meanwhile.
type stats struct {
	Latencies  []time.Duration
	Errors     int
	FirstErr   string
	Elapsed    time.Duration
	CPU        cpuUse
	PerReplica []int
}

func (s *stats) add(o stats) {
	s.Latencies = append(s.Latencies, o.Latencies...)
	s.PerReplica = addCounts(s.PerReplica, o.PerReplica)
	s.Errors += o.Errors
	s.Elapsed += o.Elapsed
	s.CPU.Server += o.CPU.Server
	s.CPU.Client += o.CPU.Client
	if s.FirstErr == "" {
		s.FirstErr = o.FirstErr
	}
}

// addCounts adds the counts of b to those of a, index by index, growing a as needed.
func addCounts(a, b []int) []int {
	for len(a) < len(b) {
		a = append(a, 0)
	}
	for i, n := range b {
		a[i] += n
	}
	return a
}

// perReplicaLine gives the 200 responses per second of each replica over
// elapsed, "" when there is only one.
func perReplicaLine(counts []int, elapsed time.Duration) string {
	if len(counts) < 2 {
		return ""
	}
	parts := make([]string, len(counts))
	for i, n := range counts {
		parts[i] = fmt.Sprintf("%d: %.0f", i+1, perSecondOf(n, elapsed))
	}
	return "per replica, requests/s: " + strings.Join(parts, ", ")
}

// Requests is the number of requests answered, successes and errors.
func (s stats) Requests() int {
	return len(s.Latencies) + s.Errors
}

// PerSecond is the rate of 200 responses over the measured time.
func (s stats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(len(s.Latencies)) / s.Elapsed.Seconds()
}

// closedLoop runs workers that each send a request to t as soon as the
// previous one answered, for d. Only 200 responses count as successes.
func closedLoop(ctx context.Context, client *http.Client, t target, workers int, d, timeout time.Duration) stats {
	deadline := time.Now().Add(d)
	return loop(ctx, client, t, workers, timeout, func() bool { return time.Now().Before(deadline) })
}

// sendEach is closedLoop for exactly n requests instead of a duration: on a
// target with keys in turn, n = the number of keys presents each once.
func sendEach(ctx context.Context, client *http.Client, t target, workers, n int, timeout time.Duration) stats {
	var left atomic.Int64
	left.Store(int64(n))
	return loop(ctx, client, t, workers, timeout, func() bool { return left.Add(-1) >= 0 })
}

// loop runs workers that each send a request to t as soon as the previous one
// answered, while more says so.
func loop(ctx context.Context, client *http.Client, t target, workers int, timeout time.Duration, more func() bool) stats {
	results := make([]stats, workers)
	begin := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &results[w]
			r.PerReplica = make([]int, len(t.URLs))
			for ctx.Err() == nil && more() {
				replica, url, key := t.pick()
				start := time.Now()
				status, body, err := fetchAt(ctx, client, url, key, timeout)
				took := time.Since(start)
				if err == nil && status == http.StatusOK {
					r.Latencies = append(r.Latencies, took)
					r.PerReplica[replica]++
					continue
				}
				if ctx.Err() != nil {
					return
				}
				r.Errors++
				if r.FirstErr == "" {
					r.FirstErr = describe(status, body, err)
				}
			}
		}()
	}
	wg.Wait()
	var out stats
	for _, r := range results {
		out.add(r)
	}
	out.Elapsed = time.Since(begin)
	return out
}

// openResult is the outcome of a fixed-rate run.
type openResult struct {
	Sent, Completed, Errors int
	FirstErr                string
	// Latencies of the 200 responses, each measured from its scheduled send time.
	Latencies []time.Duration
	Elapsed   time.Duration
	// PerReplica counts the 200 responses of each replica.
	PerReplica []int
}

// add gathers the outcome of another run into r.
func (r *openResult) add(o openResult) {
	r.Sent += o.Sent
	r.Completed += o.Completed
	r.Errors += o.Errors
	if r.FirstErr == "" {
		r.FirstErr = o.FirstErr
	}
	r.Latencies = append(r.Latencies, o.Latencies...)
	r.Elapsed += o.Elapsed
	r.PerReplica = addCounts(r.PerReplica, o.PerReplica)
}

// openLoop sends requests to t at a fixed rate for d, whatever the server's
// answers: request i is due at start + i/rate and runs in its own goroutine
// (at most maxInFlight at once), and its latency counts from when it was due,
// so a slow server cannot hide queueing by slowing the sender down.
func openLoop(ctx context.Context, client *http.Client, t target, rate float64, d, timeout time.Duration, maxInFlight int) openResult {
	n := int(rate * d.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	lat := make([]time.Duration, n)
	ok := make([]bool, n)
	replicas := make([]int, n)
	var mu sync.Mutex
	var res openResult
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
send:
	for i := range n {
		due := start.Add(time.Duration(i) * interval)
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-timer.C:
			case <-ctx.Done():
				break send
			}
		}
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			break send
		}
		res.Sent++
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			replica, url, key := t.pick()
			replicas[i] = replica
			status, body, err := fetchAt(ctx, client, url, key, timeout)
			lat[i] = time.Since(due)
			if err == nil && status == http.StatusOK {
				ok[i] = true
				return
			}
			mu.Lock()
			defer mu.Unlock()
			res.Errors++
			if res.FirstErr == "" {
				res.FirstErr = describe(status, body, err)
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	res.PerReplica = make([]int, len(t.URLs))
	for i := range res.Sent {
		if ok[i] {
			res.Latencies = append(res.Latencies, lat[i])
			res.PerReplica[replicas[i]]++
		}
	}
	res.Completed = len(res.Latencies)
	return res
}

// preflight sends one request to t on every replica and returns an error
// naming the replica, status and body of the first that does not answer 200.
func preflight(ctx context.Context, client *http.Client, t target, timeout time.Duration) error {
	key := t.Key
	if len(t.keys) > 0 {
		key = t.keys[0]
	}
	for i, url := range t.URLs {
		status, body, err := fetchAt(ctx, client, url, key, timeout)
		if err != nil || status != http.StatusOK {
			return errors.New(t.Name + onReplica(i, len(t.URLs)) + " answered " + describe(status, body, err))
		}
	}
	return nil
}

// onReplica names replica i (counted from 0) of n in a message, "" when n is 1.
func onReplica(i, n int) string {
	if n < 2 {
		return ""
	}
	return fmt.Sprintf(" on replica %d of %d", i+1, n)
}

// median returns the middle of sorted values, or the mean of the two middle
// ones when their number is even; 0 when there are none.
func median(sorted []float64) float64 {
	n := len(sorted)
	switch {
	case n == 0:
		return 0
	case n%2 == 1:
		return sorted[n/2]
	default:
		return (sorted[n/2-1] + sorted[n/2]) / 2
	}
}

// countingConn counts the bytes read from its connection.
type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// wireSize fetches t once on a connection of its own and returns the bytes the
// server sent for it: status line, headers and body.
func wireSize(ctx context.Context, t target, timeout time.Duration) (int64, error) {
	var read atomic.Int64
	client := newClient(1)
	transport := client.Transport.(*http.Transport)
	defer transport.CloseIdleConnections()
	dial := transport.DialContext
	transport.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return countingConn{Conn: conn, read: &read}, nil
	}
	status, body, err := fetchAt(ctx, client, t.URLs[0], t.Key, timeout)
	if err == nil && status != http.StatusOK {
		err = errors.New(t.Name + " answered " + describe(status, body, nil))
	}
	return read.Load(), err
}

// cpuUse is CPU time, user plus system, used by the server and by the load
// test itself (the client).
type cpuUse struct {
	Server, Client time.Duration
}

// cpuClock reads the CPU time the server processes and the load test have
// used so far.
type cpuClock struct {
	serverPIDs []int
}

// now reports false where the CPU times cannot be read (outside Linux, or
// without a server process).
func (c cpuClock) now() (cpuUse, bool) {
	if len(c.serverPIDs) == 0 {
		return cpuUse{}, false
	}
	var server time.Duration
	for _, pid := range c.serverPIDs {
		d, err := processCPU(pid)
		if err != nil {
			return cpuUse{}, false
		}
		server += d
	}
	client, err := selfCPU()
	if err != nil {
		return cpuUse{}, false
	}
	return cpuUse{Server: server, Client: client}, true
}

// perRequest formats the CPU time d spread over n requests in microseconds.
func perRequest(d time.Duration, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1fµs", float64(d)/float64(n)/float64(time.Microsecond))
}

// sorted returns a sorted copy of durations.
func sorted(d []time.Duration) []time.Duration {
	out := slices.Clone(d)
	slices.Sort(out)
	return out
}

// ms formats a duration in milliseconds.
func ms(d time.Duration) string {
	return fmt.Sprintf("%.2fms", float64(d)/float64(time.Millisecond))
}
