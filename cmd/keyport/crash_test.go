package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"keyport"
	"keyport/store"
	"keyport/store/storetest"
	"keyport/web/mailtest"
)

const crashPassword = "crash-test-password-71"

var (
	crashCSRF      = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	crashPlaintext = regexp.MustCompile(`\b[sp]k_(test|live)_[0-9A-Za-z]{36}\b`)
)

// crashSeed is the data the crash test starts from.
type crashSeed struct {
	email     string
	accountID int64
	key       string
}

// seedCrashData creates a merchant whose first account has a testing DPD auth
// (so that test keys can create shipments) and a full-access test key, with no token cap.
func seedCrashData(t *testing.T, path string, sealKey []byte) crashSeed {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if db.Sealer, err = keyport.NewSealer(sealKey); err != nil {
		t.Fatal(err)
	}
	hash, err := keyport.HashPassword(crashPassword)
	if err != nil {
		t.Fatal(err)
	}
	seed := crashSeed{email: "owner@crash.test"}
	res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Crash Ltd", Name: "Owner", Email: seed.email}, hash, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	seed.accountID = res.Account.ID
	if err := db.SetTokenCap(ctx, keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	dpd, err := db.Courier(ctx, "dpd")
	if err != nil {
		t.Fatal(err)
	}
	owner := keyport.Actor{UserID: res.Owner.ID, Label: seed.email, IP: "127.0.0.1"}
	if _, err := db.RegisterAuth(ctx, owner, res.Merchant.ID, res.Account.ID, dpd, keyport.NewAuth{Courier: "dpd", Company: "Crash Ltd",
		Testing: "yes", Values: map[string]string{"username": "crash-dpd", "password": "Secret-DPD-pass-77", "account_number": "0012345"}}); err != nil {
		t.Fatal(err)
	}
	created, err := db.CreateKey(ctx, owner, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "Seed", Access: keyport.AccessFull})
	if err != nil {
		t.Fatal(err)
	}
	seed.key = created.Plaintext
	return seed
}

// crashServer is one run of the keyport binary.
type crashServer struct {
	cmd    *exec.Cmd
	base   string
	stderr *lockedBuffer
	exited chan struct{}
	addr   chan string
}

func startCrashServer(t *testing.T, bin, dir, sealHex string, env ...string) *crashServer {
	t.Helper()
	return startServer(t, bin, []string{"--data", dir}, append(env, "KEYPORT_ENCRYPTION_KEY="+sealHex)...)
}

// mailEnv sends a server's email through the test's SMTP server.
func mailEnv(mails *mailtest.Server) []string {
	return []string{"KEYPORT_SMTP_URL=" + mails.URL(), "KEYPORT_MAIL_FROM=Keyport <keys@crash.test>"}
}

// startServer runs `keyport serve` on a free port of 127.0.0.1 with args and
// env added, and waits until /healthz answers.
func startServer(t *testing.T, bin string, args []string, env ...string) *crashServer {
	t.Helper()
	s := launchServer(t, bin, args, env...)
	s.await(t)
	return s
}

// launchServer starts `keyport serve` without waiting for it; await waits.
func launchServer(t *testing.T, bin string, args []string, env ...string) *crashServer {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve", "--addr", "127.0.0.1:0", "--usage-flush", "50ms"}, args...)...)
	cmd.Env = append(append(os.Environ(), "KEYPORT_BASE_URL=", "KEYPORT_API_RATE_LIMIT=0"), env...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &crashServer{cmd: cmd, stderr: &lockedBuffer{}, exited: make(chan struct{}), addr: make(chan string, 1)}
	cmd.Stderr = s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.kill)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				s.addr <- m[1]
			}
		}
		close(s.addr)
	}()
	go func() {
		_ = cmd.Wait()
		close(s.exited)
	}()
	return s
}

// await waits until the server listens and its /healthz answers 200.
func (s *crashServer) await(t *testing.T) {
	t.Helper()
	select {
	case a, ok := <-s.addr:
		if !ok {
			<-s.exited
			t.Fatalf("keyport serve exited before listening:\n%s", s.stderr.String())
		}
		s.base = "http://" + a
	case <-time.After(20 * time.Second):
		s.kill()
		t.Fatalf("keyport serve did not start:\n%s", s.stderr.String())
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		r, err := http.Get(s.base + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			s.kill()
			t.Fatalf("/healthz never answered 200 (%v):\n%s", err, s.stderr.String())
		}
	}
}

// kill ends the process with SIGKILL and waits until it is gone.
func (s *crashServer) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// crashClient is a signed-in browser of the portal; it is safe for concurrent use.
type crashClient struct {
	http *http.Client
	csrf string
}

func newCrashClient() *crashClient {
	jar, _ := cookiejar.New(nil)
	return &crashClient{http: &http.Client{Jar: jar, Timeout: 10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *crashClient) do(req *http.Request) (int, string, error) {
	r, err := c.http.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer r.Body.Close()
	body, err := io.ReadAll(r.Body)
	return r.StatusCode, string(body), err
}

func (c *crashClient) get(base, path string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, base+path, nil)
	return c.do(req)
}

func (c *crashClient) post(base, path string, form url.Values) (int, string, error) {
	form.Set("_csrf", c.csrf)
	req, _ := http.NewRequest(http.MethodPost, base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// signIn makes sure the client has a working session and a CSRF token, and
// reports whether it had to log in again.
func (c *crashClient) signIn(base, email string) (bool, error) {
	code, body, err := c.get(base, "/accounts")
	if err != nil {
		return false, err
	}
	if code == http.StatusOK {
		if m := crashCSRF.FindStringSubmatch(body); m != nil {
			c.csrf = m[1]
			return false, nil
		}
	}
	if _, body, err = c.get(base, "/login"); err != nil {
		return false, err
	}
	m := crashCSRF.FindStringSubmatch(body)
	if m == nil {
		return false, fmt.Errorf("no CSRF token on the login page")
	}
	c.csrf = m[1]
	code, body, err = c.post(base, "/login", url.Values{"email": {email}, "password": {crashPassword}})
	if err != nil || code != http.StatusSeeOther {
		return false, fmt.Errorf("login: status %d (%v): %.300s", code, err, body)
	}
	code, body, err = c.get(base, "/accounts")
	if err != nil || code != http.StatusOK {
		return false, fmt.Errorf("accounts after login: status %d (%v)", code, err)
	}
	if m := crashCSRF.FindStringSubmatch(body); m != nil {
		c.csrf = m[1]
	}
	return true, nil
}

func apiRequest(base, method, path, key, body string) (int, string, error) {
	req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+key)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	return r.StatusCode, string(b), err
}

const crashShipment = `{"courier": "dpd", "service_code": "DPD_NEXT_DAY", "from": {"postcode": "M1 1AE", "country": "GB"},
	"to": {"postcode": "EH1 1YZ", "country": "GB"}, "parcel": {"weight_grams": 1800, "length_cm": 30, "width_cm": 20, "height_cm": 10}}`

// acked is every write the server acknowledged with a 2xx, across all cycles.
type acked struct {
	mu        sync.Mutex
	accounts  []string
	keys      []string
	shipments []ackedShipment
	// invitations are the emails invited; each must receive its invitation.
	invitations []string
	// apiKeys are the keys the API drivers may use: the seed key and the tokens
	// generated on the seed account, which has the DPD auth.
	apiKeys []string
	// sent counts /v1 calls sent, answered or not: the most the use counts may add up to.
	sent atomic.Int64
}

type ackedShipment struct {
	id       int64
	tracking string
}

func (a *acked) key() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.apiKeys[rand.IntN(len(a.apiKeys))]
}

func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	dir := t.TempDir()
	bin := buildKeyport(t)
	sealKey := bytes.Repeat([]byte{7}, keyport.EncryptionKeySize)
	mails := mailtest.Start(t)
	crashCycles(t, filepath.Join(dir, store.FileName), sealKey, 1, mails, func() *crashServer {
		return startCrashServer(t, bin, dir, hex.EncodeToString(sealKey), mailEnv(mails)...)
	})
}

// TestCrashOfOneReplicaKeepsAcknowledgedWrites is the crash test on
// PostgreSQL: three replicas take the writes, and each cycle one of them is
// killed mid-write and started again.
func TestCrashOfOneReplicaKeepsAcknowledgedWrites(t *testing.T) {
	target := storetest.Schema(t)
	t.Parallel()
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildKeyport(t)
	sealKey := bytes.Repeat([]byte{7}, keyport.EncryptionKeySize)
	mails := mailtest.Start(t)
	env := append(replicaEnv(target, sealKey, bytes.Repeat([]byte{5}, 64)), mailEnv(mails)...)
	crashCycles(t, target, sealKey, 3, mails, func() *crashServer {
		return startServer(t, bin, []string{"--data", t.TempDir()}, env...)
	})
}

// crashCycles writes through n servers started by start, kills one of them
// mid-write each cycle, and checks after every crash that every write a
// server acknowledged is in the database at target. At the end every
// acknowledged invitation must have reached the SMTP server mails.
func crashCycles(t *testing.T, target string, sealKey []byte, n int, mails *mailtest.Server, start func() *crashServer) {
	const cycles = 24
	seed := seedCrashData(t, target, sealKey)
	servers := make([]*crashServer, n)

	ack := &acked{apiKeys: []string{seed.key}}
	browser := newCrashClient()
	uses := map[int64]int64{}
	var useSum int64
	var relogins, checked int
	rng := rand.New(rand.NewPCG(7, 11))
	began := time.Now()
	for cycle := 1; cycle <= cycles; cycle++ {
		for i := range servers {
			if servers[i] == nil {
				servers[i] = start()
			}
		}
		base := func(i int) string { return servers[i%n].base }
		again, err := browser.signIn(base(cycle), seed.email)
		if err != nil {
			t.Fatalf("cycle %d: %v", cycle, err)
		}
		if again && cycle > 1 {
			relogins++
		}

		var killed atomic.Bool
		var wg sync.WaitGroup
		var failMu sync.Mutex
		var failures []string
		fail := func(format string, args ...any) {
			if killed.Load() {
				return
			}
			failMu.Lock()
			failures = append(failures, fmt.Sprintf(format, args...))
			failMu.Unlock()
		}
		for p := 0; p < 2; p++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !killed.Load(); i++ {
					if i%3 == 0 {
						name := fmt.Sprintf("Crash %d-%d-%d", cycle, p, i)
						code, body, err := browser.post(base(p+i), "/accounts", url.Values{"name": {name}})
						if err != nil {
							fail("create account %s: %v", name, err)
							return
						}
						key := crashPlaintext.FindString(body)
						if code != http.StatusOK || key == "" {
							fail("create account %s: status %d: %.300s", name, code, body)
							return
						}
						ack.mu.Lock()
						ack.accounts = append(ack.accounts, name)
						ack.keys = append(ack.keys, key)
						ack.mu.Unlock()
						continue
					}
					name := fmt.Sprintf("Token %d-%d-%d", cycle, p, i)
					code, body, err := browser.post(base(p+i), fmt.Sprintf("/accounts/%d/keys", seed.accountID),
						url.Values{"name": {name}, "expiry": {"never"}})
					if err != nil {
						fail("generate %s: %v", name, err)
						return
					}
					key := crashPlaintext.FindString(body)
					if code != http.StatusOK || key == "" {
						fail("generate %s: status %d: %.300s", name, code, body)
						return
					}
					ack.mu.Lock()
					ack.keys = append(ack.keys, key)
					ack.apiKeys = append(ack.apiKeys, key)
					ack.mu.Unlock()
				}
			}()
		}
		wg.Go(func() {
			// Two invitations a cycle stay under the invitation throttle (50 per merchant in 15 minutes).
			for i := 0; i < 2 && !killed.Load(); i++ {
				email := fmt.Sprintf("invitee-%d-%d@crash.test", cycle, i)
				code, body, err := browser.post(base(i), "/team/invitations", url.Values{"email": {email}, "role": {"developer"}})
				if err != nil {
					fail("invite %s: %v", email, err)
					return
				}
				if code != http.StatusOK || !strings.Contains(body, "We are emailing the invitation to "+email) {
					fail("invite %s: status %d: %.300s", email, code, body)
					return
				}
				ack.mu.Lock()
				ack.invitations = append(ack.invitations, email)
				ack.mu.Unlock()
			}
		})
		for a := 0; a < 3; a++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; !killed.Load(); i++ {
					key := ack.key()
					ack.sent.Add(1)
					if (i+a)%2 == 0 {
						code, body, err := apiRequest(base(a+i), http.MethodPost, "/v1/shipments", key, crashShipment)
						if err != nil {
							fail("create shipment: %v", err)
							return
						}
						var sh struct {
							ID             int64  `json:"id"`
							TrackingNumber string `json:"tracking_number"`
						}
						if code != http.StatusCreated || json.Unmarshal([]byte(body), &sh) != nil || sh.ID == 0 {
							fail("create shipment: status %d: %.300s", code, body)
							return
						}
						ack.mu.Lock()
						ack.shipments = append(ack.shipments, ackedShipment{id: sh.ID, tracking: sh.TrackingNumber})
						ack.mu.Unlock()
						continue
					}
					path := "/v1/couriers"
					if i%4 == 1 {
						path = "/v1/shipments?limit=3"
					}
					code, body, err := apiRequest(base(a+i), http.MethodGet, path, key, "")
					if err != nil {
						fail("GET %s: %v", path, err)
						return
					}
					if code != http.StatusOK {
						fail("GET %s: status %d: %.300s", path, code, body)
						return
					}
				}
			}()
		}
		time.Sleep(time.Duration(50+rng.IntN(351)) * time.Millisecond)
		killed.Store(true)
		victim := rng.IntN(n)
		servers[victim].kill()
		wg.Wait()
		for _, f := range failures {
			t.Errorf("cycle %d: %s", cycle, f)
		}
		for i, srv := range servers {
			if strings.Contains(srv.stderr.String(), "level=ERROR") {
				t.Errorf("cycle %d: server %d logged errors:\n%s", cycle, i, srv.stderr.String())
			}
		}
		servers[victim] = nil

		checks, sum := checkAfterCrash(t, cycle, target, ack, uses)
		if sum < useSum {
			t.Errorf("cycle %d: total use count went back from %d to %d", cycle, useSum, sum)
		}
		if sent := ack.sent.Load(); sum > sent {
			t.Errorf("cycle %d: total use count %d is more than the %d API calls sent", cycle, sum, sent)
		}
		useSum = sum
		checked += checks
		if t.Failed() {
			t.FailNow()
		}
	}
	if useSum == 0 {
		t.Error("no API call was ever counted")
	}
	for i := range servers {
		if servers[i] == nil {
			servers[i] = start()
		}
	}
	waited, duplicates := awaitInvitations(t, mails, ack.invitations)
	if relogins > 0 {
		t.Errorf("%d sessions were lost in a crash", relogins)
	}
	t.Logf("%d crash cycles of %d server(s) in %v: %d acknowledged writes (%d API accounts, %d keys, %d shipments, %d invitations), each "+
		"checked after every later crash (%d checks); %d API calls sent, %d counted", cycles, n, time.Since(began).Round(time.Millisecond),
		len(ack.accounts)+len(ack.keys)+len(ack.shipments)+len(ack.invitations), len(ack.accounts), len(ack.keys), len(ack.shipments),
		len(ack.invitations), checked,
		ack.sent.Load(), useSum)
	t.Logf("%d acknowledged invitations, each emailed once the servers were back (after %v), %d of them twice or more",
		len(ack.invitations), waited.Round(time.Millisecond), duplicates)
}

// awaitInvitations waits until every invited email has received its
// invitation, for up to twice the outbox's lease (the messages a killed
// server had claimed wait that long), and returns how long it waited and how
// many emails were received more than once.
func awaitInvitations(t *testing.T, mails *mailtest.Server, invited []string) (time.Duration, int) {
	t.Helper()
	began := time.Now()
	for {
		received := map[string]int{}
		for _, m := range mails.Mails() {
			if len(m.To) == 1 && strings.Contains(m.Subject, "invited you to Crash Ltd") {
				received[m.To[0]]++
			}
		}
		var missing []string
		duplicates := 0
		for _, email := range invited {
			switch received[email] {
			case 0:
				missing = append(missing, email)
			case 1:
			default:
				duplicates++
			}
		}
		if len(missing) == 0 {
			if len(invited) == 0 {
				t.Error("no invitation was acknowledged")
			}
			return time.Since(began), duplicates
		}
		if time.Since(began) > 150*time.Second {
			t.Fatalf("%d of %d acknowledged invitations never reached the mail server, such as %s", len(missing), len(invited), missing[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkAfterCrash opens the database the killed server left behind and checks
// it. It returns how many acknowledged writes it checked and the total use count.
func checkAfterCrash(t *testing.T, cycle int, target string, ack *acked, uses map[int64]int64) (int, int64) {
	t.Helper()
	db, err := store.Open(target, store.Options{})
	if err != nil {
		t.Fatalf("cycle %d: open after the crash: %v", cycle, err)
	}
	defer db.Close()
	q := db.SQL()
	if db.Engine() == store.SQLite {
		var integrity string
		if err := q.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
			t.Fatalf("cycle %d: integrity_check = %q (%v)", cycle, integrity, err)
		}
	}
	count := func(query string, args ...any) int {
		var n int
		if err := q.QueryRow(query, args...).Scan(&n); err != nil {
			t.Fatalf("cycle %d: %s: %v", cycle, query, err)
		}
		return n
	}

	ack.mu.Lock()
	accounts := append([]string(nil), ack.accounts...)
	keys := append([]string(nil), ack.keys...)
	shipments := append([]ackedShipment(nil), ack.shipments...)
	invitations := append([]string(nil), ack.invitations...)
	ack.mu.Unlock()
	messages := stored[string](t, q, `SELECT recipient FROM outbox WHERE kind = 'invitation'`)
	for _, email := range invitations {
		if !messages[email] {
			t.Errorf("cycle %d: the message of the acknowledged invitation of %s is gone", cycle, email)
		}
	}
	names := stored[string](t, q, `SELECT name FROM api_accounts`)
	for _, name := range accounts {
		if !names[name] {
			t.Errorf("cycle %d: acknowledged API account %q is gone", cycle, name)
		}
	}
	hashes := stored[string](t, q, `SELECT hash FROM api_keys`)
	for _, plain := range keys {
		parsed, err := keyport.ParseKey(plain)
		if err != nil {
			t.Fatal(err)
		}
		hash := parsed.Hash()
		if !hashes[string(hash[:])] {
			t.Errorf("cycle %d: acknowledged key %s is gone", cycle, keyport.Redact(parsed.Prefix(), parsed.First4(), parsed.Last4()))
		}
	}
	ships := stored[string](t, q, `SELECT CAST(id AS TEXT) || ' ' || tracking_number FROM shipments`)
	for _, s := range shipments {
		if !ships[fmt.Sprintf("%d %s", s.id, s.tracking)] {
			t.Errorf("cycle %d: acknowledged shipment %d (%s) is gone", cycle, s.id, s.tracking)
		}
	}

	if n := count(`SELECT count(*) FROM api_keys WHERE id NOT IN (
		SELECT object_id FROM audit_events WHERE action = 'key.created' AND object_type = 'api_key' AND object_id IS NOT NULL)`); n != 0 {
		t.Errorf("cycle %d: %d keys without key.created", cycle, n)
	}
	if n := count(`SELECT count(*) FROM shipments WHERE key_id IS NOT NULL AND id NOT IN (
		SELECT object_id FROM audit_events WHERE action = 'shipment.created' AND object_type = 'shipment' AND object_id IS NOT NULL)`); n != 0 {
		t.Errorf("cycle %d: %d API shipments without shipment.created", cycle, n)
	}

	rows, err := q.Query(`SELECT id, use_count FROM api_keys`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var sum int64
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		if n < uses[id] {
			t.Errorf("cycle %d: use count of key %d went back from %d to %d", cycle, id, uses[id], n)
		}
		uses[id] = n
		sum += n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return len(accounts) + len(keys) + len(shipments) + len(invitations), sum
}

// stored returns the set of values a one-column query reads.
func stored[T comparable](t *testing.T, q *sql.DB, query string) map[T]bool {
	t.Helper()
	rows, err := q.Query(query)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	set := map[T]bool{}
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			t.Fatal(err)
		}
		set[v] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return set
}
