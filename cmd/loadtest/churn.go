package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// churner drives the portal as a merchant's team would: it opens the login
// page, signs in with the form's CSRF token, opens the Generate Token form of
// an API account and creates a test key with it. Each of those writes (the
// sign-in, its session, the key) is one that the verifier's cache has to
// live through while the /v1 load goes on. With several replicas, each of
// its requests goes to the next replica in turn, as behind a load balancer
// without sticky sessions.
type churner struct {
	bases     []string
	next      *atomic.Uint64
	turn      *atomic.Uint64
	login     churnLogin
	transport http.RoundTripper
	timeout   time.Duration
}

// newChurner returns the churn client of the merchant signed in as login on
// the replicas at bases, which must be 127.0.0.1; its requests go through
// transport.
func newChurner(bases []string, login churnLogin, transport http.RoundTripper, timeout time.Duration) (churner, error) {
	if len(bases) == 0 {
		return churner{}, errors.New("no server for the churn client")
	}
	c := churner{next: new(atomic.Uint64), turn: new(atomic.Uint64), login: login, transport: transport, timeout: timeout}
	for _, base := range bases {
		base = strings.TrimSuffix(base, "/")
		if err := checkLoopback(base + "/login"); err != nil {
			return churner{}, err
		}
		c.bases = append(c.bases, base)
	}
	return c, nil
}

// base is the replica of the churn client's next request.
func (c churner) base() string {
	return c.bases[(c.next.Add(1)-1)%uint64(len(c.bases))]
}

// churnResult counts what the churn client did. Elapsed is the time it
// started sign-ins for, without the wait for the last ones to finish; Took
// holds how long each success took, sign-in and key.
type churnResult struct {
	Attempts, SignIns, Keys, Errors int
	FirstErr                        string
	Elapsed                         time.Duration
	Took                            []time.Duration
}

// summary is the one-line account of a churn result.
func (r churnResult) summary() string {
	l := sorted(r.Took)
	return fmt.Sprintf("%d sign-ins started in %s (%.1f a second), %d signed in, %d keys created (each in p50 %s, max %s), %d errors",
		r.Attempts, r.Elapsed.Round(time.Millisecond), perSecondOf(r.Attempts, r.Elapsed), r.SignIns, r.Keys,
		ms(percentile(l, 50)), ms(percentile(l, 100)), r.Errors)
}

func (r *churnResult) add(o churnResult) {
	r.Attempts += o.Attempts
	r.SignIns += o.SignIns
	r.Keys += o.Keys
	r.Errors += o.Errors
	r.Elapsed += o.Elapsed
	r.Took = append(r.Took, o.Took...)
	if r.FirstErr == "" {
		r.FirstErr = o.FirstErr
	}
}

// csrfField finds the CSRF token of a form in a page.
var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// createdKey finds the plaintext of a key in the page that reveals it.
var createdKey = regexp.MustCompile(`\bsk_test_[0-9A-Za-z]{36}\b`)

// once signs in with a new cookie jar and creates one key. It reports whether
// the sign-in succeeded, and the first thing that went wrong.
func (c churner) once(ctx context.Context, name string) (signedIn bool, err error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return false, err
	}
	client := &http.Client{Transport: c.transport, Jar: jar, Timeout: c.timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	token, err := c.formToken(ctx, client, "/login")
	if err != nil {
		return false, err
	}
	status, body, err := c.post(ctx, client, "/login", url.Values{"email": {c.login.member(c.turn.Add(1) - 1)}, "password": {c.login.Password}, "_csrf": {token}})
	if err != nil {
		return false, err
	}
	if status != http.StatusSeeOther {
		return false, fmt.Errorf("POST /login answered %d: %.200s", status, body)
	}
	keys := fmt.Sprintf("/accounts/%d/keys", c.login.AccountID)
	if token, err = c.formToken(ctx, client, keys+"/new"); err != nil {
		return true, err
	}
	status, body, err = c.post(ctx, client, keys, url.Values{"name": {name}, "expiry": {"never"}, "_csrf": {token}})
	if err != nil {
		return true, err
	}
	if status != http.StatusOK || !createdKey.MatchString(body) {
		return true, fmt.Errorf("POST %s answered %d without a new key: %.200s", keys, status, body)
	}
	return true, nil
}

// formToken opens the page at path and returns the CSRF token of its form.
func (c churner) formToken(ctx context.Context, client *http.Client, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base()+path, nil)
	if err != nil {
		return "", err
	}
	status, body, err := send(client, req)
	if err != nil {
		return "", err
	}
	m := csrfField.FindStringSubmatch(body)
	if status != http.StatusOK || m == nil {
		return "", fmt.Errorf("GET %s answered %d without a form token: %.200s", path, status, body)
	}
	return m[1], nil
}

// post submits form to path as a browser without JavaScript does.
func (c churner) post(ctx context.Context, client *http.Client, path string, form url.Values) (int, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base()+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return send(client, req)
}

// send does req and returns the status and up to 1 MiB of the body.
func send(client *http.Client, req *http.Request) (int, string, error) {
	resp, err := client.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b), err
}

// run signs in and creates a key rate times a second until stop is closed,
// open loop: each one starts on schedule in its own goroutine (at most
// maxInFlight at once), so a slow server does not slow the churn down. It
// closes ready when the first one has finished, whatever its outcome, and
// returns when the last one has.
func (c churner) run(ctx context.Context, rate float64, maxInFlight int, stop <-chan struct{}, ready chan<- struct{}) churnResult {
	var mu sync.Mutex
	var res churnResult
	var first sync.Once
	slots := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	start := time.Now()
	ticker := time.NewTicker(time.Duration(float64(time.Second) / rate))
	defer ticker.Stop()
	for i := 0; ; i++ {
		select {
		case slots <- struct{}{}:
		case <-stop:
		case <-ctx.Done():
		}
		if stopped(ctx, stop) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			began := time.Now()
			signedIn, err := c.once(ctx, fmt.Sprintf("Churn key %d", i))
			took := time.Since(began)
			defer first.Do(func() { close(ready) })
			mu.Lock()
			defer mu.Unlock()
			res.Attempts++
			if signedIn {
				res.SignIns++
			}
			if err == nil {
				res.Keys++
				res.Took = append(res.Took, took)
				return
			}
			if ctx.Err() != nil {
				return
			}
			res.Errors++
			if res.FirstErr == "" {
				res.FirstErr = err.Error()
			}
		}()
		select {
		case <-ticker.C:
		case <-stop:
		case <-ctx.Done():
		}
		if stopped(ctx, stop) {
			break
		}
	}
	elapsed := time.Since(start)
	wg.Wait()
	res.Elapsed = elapsed
	return res
}

// stopped reports whether ctx is done or stop closed.
func stopped(ctx context.Context, stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return ctx.Err() != nil
	}
}

// serverStats are the counters that a load-test build of the server exposes
// at GET /v1/loadtest/stats.
type serverStats struct {
	// KeyLookups is how many keys the verifier has read from the database
	// since the server started: one per cache miss.
	KeyLookups int64
}

// parseStats reads the answer of GET /v1/loadtest/stats.
func parseStats(body []byte) (serverStats, error) {
	var v struct {
		KeyLookups *int64 `json:"key_lookups"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return serverStats{}, fmt.Errorf("stats %.100q: %w", body, err)
	}
	if v.KeyLookups == nil || *v.KeyLookups < 0 {
		return serverStats{}, fmt.Errorf("stats %.100q: no key_lookups count", body)
	}
	return serverStats{KeyLookups: *v.KeyLookups}, nil
}

// readStats fetches the counters of every replica from t, the stats target,
// and returns their sums.
func readStats(ctx context.Context, client *http.Client, t target, timeout time.Duration) (serverStats, error) {
	var sum serverStats
	for i, url := range t.URLs {
		s, err := readStatsAt(ctx, client, url, timeout)
		if err != nil {
			return serverStats{}, fmt.Errorf("%s%s: %w", t.Name, onReplica(i, len(t.URLs)), err)
		}
		sum.KeyLookups += s.KeyLookups
	}
	return sum, nil
}

// readStatsAt fetches the counters of one server from url.
func readStatsAt(ctx context.Context, client *http.Client, url string, timeout time.Duration) (serverStats, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return serverStats{}, err
	}
	status, body, err := send(client, req)
	if err != nil {
		return serverStats{}, err
	}
	if status != http.StatusOK {
		return serverStats{}, errors.New("answered " + describe(status, body, nil))
	}
	return parseStats([]byte(body))
}

// missRate is lookups per request, as a percentage; false when there were no
// requests.
func missRate(lookups int64, requests int) (float64, bool) {
	if requests <= 0 {
		return 0, false
	}
	return 100 * float64(lookups) / float64(requests), true
}

// verdict says whether a target was met.
func verdict(met bool) string {
	if met {
		return "met"
	}
	return "missed"
}

// ratioLine reports num/den against a target of at least target.
func ratioLine(name string, num, den, target float64) string {
	if den <= 0 {
		return fmt.Sprintf("ratio %s: nothing to compare (no successful request in the denominator)", name)
	}
	r := num / den
	return fmt.Sprintf("ratio %s = %.2f (target >= %.2f: %s)", name, r, target, verdict(r >= target))
}
