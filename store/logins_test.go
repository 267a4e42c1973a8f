package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport"
	"keyport/store/storetest"
)

// loginStep is one move of a sign-in throttle scenario: reserve times
// attempts for email (a new email each time when empty) from ip (a new one
// each time when "*"), with the browser's device id, expecting each to wait
// wait (zero: granted); succeed or cancel the last granted reservation; or
// move the clock by advance.
type loginStep struct {
	op                string
	email, ip, device string
	times             int
	wait              time.Duration
	advance           time.Duration
}

func granted(n int, email, ip string) loginStep {
	return loginStep{op: "reserve", email: email, ip: ip, times: n}
}

func refused(email, ip string, wait time.Duration) loginStep {
	return loginStep{op: "reserve", email: email, ip: ip, times: 1, wait: wait}
}

// fromDevice is step from the browser whose device cookie holds device.
func fromDevice(step loginStep, device string) loginStep {
	step.device = device
	return step
}

func TestReserveLogin(t *testing.T) {
	const a, b, ip, otherIP = "a@x.test", "b@x.test", "192.0.2.1", "192.0.2.2"
	const owner, ownerDevice = "bo@bolt.test", "bo-laptop-device-id-22"
	cases := []struct {
		name     string
		steps    []loginStep
		wantRows int
	}{
		{"five attempts per account from one client, then that client only is refused until the oldest leaves the window", []loginStep{
			granted(1, a, ip),
			{op: "advance", advance: 5 * time.Minute},
			granted(4, a, ip),
			refused(a, ip, 10*time.Minute),
			granted(1, a, otherIP),
			granted(1, b, ip),
			{op: "advance", advance: 10 * time.Minute},
			granted(1, a, ip),
			refused(a, ip, 5*time.Minute),
		}, 21},
		{"twenty attempts per IP across accounts", []loginStep{
			granted(20, "", ip),
			refused(a, ip, 15*time.Minute),
			granted(1, a, otherIP),
		}, 63},
		{"a good password forgets the client's attempts on the account", []loginStep{
			granted(4, a, ip),
			granted(1, b, ip),
			granted(1, a, ip),
			{op: "succeed"},
			granted(5, a, ip),
			refused(a, ip, 15*time.Minute),
		}, 26},
		{"a cancelled reservation does not count", []loginStep{
			granted(5, a, ip),
			{op: "cancel"},
			granted(1, a, ip),
			refused(a, ip, 15*time.Minute),
		}, 15},
		{"ten failures on an account from anywhere slow new browsers to one attempt per 30 seconds, never a known one", []loginStep{
			granted(10, owner, "*"),
			refused(owner, "*", 30*time.Second),
			fromDevice(refused(owner, "*", 30*time.Second), "never-signed-in-here"),
			fromDevice(granted(1, owner, "*"), ownerDevice),
			{op: "advance", advance: 30 * time.Second},
			granted(1, owner, "*"),
			refused(owner, "*", 30*time.Second),
			fromDevice(granted(4, owner, ip), ownerDevice),
			fromDevice(refused(owner, otherIP, 14*time.Minute+30*time.Second), ownerDevice),
		}, 48},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openTestDB(t)
			now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
			db.Now = func() time.Time { return now }
			ctx := context.Background()
			res, err := db.CreateSignup(ctx, keyport.Signup{MerchantName: "Bolt", Name: "Bo", Email: owner}, "hash", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := db.RecordLogin(ctx, res.Owner, ip, ownerDevice, "Firefox on Linux"); err != nil {
				t.Fatal(err)
			}
			if _, err := db.sql.Exec(`DELETE FROM login_attempts`); err != nil {
				t.Fatal(err)
			}
			th := keyport.NewLoginThrottle()
			address := 0
			var last LoginReservation
			for i, s := range tc.steps {
				switch s.op {
				case "advance":
					now = now.Add(s.advance)
				case "succeed":
					if err := db.LoginSucceeded(ctx, last); err != nil {
						t.Fatal(err)
					}
				case "cancel":
					if err := db.CancelLoginReservation(ctx, last); err != nil {
						t.Fatal(err)
					}
				case "reserve":
					for n := range s.times {
						email := s.email
						if email == "" {
							email = fmt.Sprintf("guess-%d-%d@x.test", i, n)
						}
						from := s.ip
						if from == "*" {
							address++
							from = fmt.Sprintf("198.51.100.%d", address)
						}
						r, wait, err := db.ReserveLogin(ctx, th, email, keyport.LoginClient{IP: from, Device: s.device})
						if err != nil {
							t.Fatal(err)
						}
						if wait != s.wait {
							t.Fatalf("step %d: %s from %s waits %v, want %v", i, email, s.ip, wait, s.wait)
						}
						if wait == 0 {
							last = r
						}
					}
				}
			}
			if n := count(t, db, `SELECT count(*) FROM login_attempts`); n != tc.wantRows {
				t.Fatalf("%d attempts stored, want %d", n, tc.wantRows)
			}
		})
	}
}

func TestReserveLoginTakesAnyText(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	th := keyport.NewLoginThrottle()
	for _, email := range []string{strings.Repeat("a", 1<<20) + "@x.test", "nul\x00@x.test", "bad\xff\xfe@x.test", ""} {
		r, wait, err := db.ReserveLogin(ctx, th, email, keyport.LoginClient{IP: email, Device: email})
		if err != nil || wait != 0 {
			t.Fatalf("reserve for a %d-byte email: %v, wait %v", len(email), err, wait)
		}
		if err := db.LoginSucceeded(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM login_attempts`); n != 0 {
		t.Fatalf("%d attempts left after every sign-in succeeded", n)
	}
}

func TestReserveLoginPurgesOldAttemptsInBatches(t *testing.T) {
	db := openTestDB(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	ctx := context.Background()
	old := now.Add(-16 * time.Minute).Unix()
	for i := range 250 {
		if _, err := db.sql.Exec(`INSERT INTO login_attempts (scope_hash, at) VALUES ($1, $2)`, scopeHash(fmt.Sprintf("ip:old-%d", i)), old); err != nil {
			t.Fatal(err)
		}
	}
	th := keyport.NewLoginThrottle()
	for _, wantOld := range []int{150, 50, 0, 0} {
		if _, wait, err := db.ReserveLogin(ctx, th, "a@x.test", keyport.LoginClient{IP: "192.0.2.1"}); err != nil || wait != 0 {
			t.Fatalf("reserve: %v, wait %v", err, wait)
		}
		if n := count(t, db, `SELECT count(*) FROM login_attempts WHERE at = $1`, old); n != wantOld {
			t.Fatalf("%d old attempts left, want %d", n, wantOld)
		}
	}
	if n := count(t, db, `SELECT count(*) FROM login_attempts WHERE at = $1`, now.Unix()); n != 12 {
		t.Fatalf("recent attempts %d, want 12", n)
	}
}

// TestReserveLoginIsAtomicAcrossHandles sends a burst of concurrent attempts
// through three separate handles on one database, as three replicas would.
func TestReserveLoginIsAtomicAcrossHandles(t *testing.T) {
	cases := []struct {
		name        string
		email, ip   func(i int) string
		wantGranted int
	}{
		{"one account from one IP",
			func(int) string { return "victim@x.test" }, func(int) string { return "192.0.2.1" }, 5},
		{"many accounts from one IP",
			func(i int) string { return fmt.Sprintf("guess-%d@x.test", i) }, func(int) string { return "192.0.2.1" }, 20},
		{"one account from many IPs, as many as the account-wide burst",
			func(int) string { return "victim@x.test" }, func(i int) string { return fmt.Sprintf("192.0.2.%d", i+1) }, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			handles := sharedDBs(t, storetest.Target(t), 3)
			ctx := context.Background()
			th := keyport.NewLoginThrottle()
			var mu sync.Mutex
			var wg sync.WaitGroup
			granted, refused := 0, 0
			start := make(chan struct{})
			for i := range 30 {
				wg.Go(func() {
					<-start
					_, wait, err := handles[i%3].ReserveLogin(ctx, th, tc.email(i), keyport.LoginClient{IP: tc.ip(i)})
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err != nil:
						t.Error(err)
					case wait == 0:
						granted++
					default:
						refused++
					}
				})
			}
			close(start)
			wg.Wait()
			if granted != tc.wantGranted || refused != 30-tc.wantGranted {
				t.Fatalf("granted %d, refused %d of 30; want %d granted", granted, refused, tc.wantGranted)
			}
			if n := count(t, handles[1], `SELECT count(*) FROM login_attempts`); n != 3*tc.wantGranted {
				t.Fatalf("%d attempts stored, want %d", n, 3*tc.wantGranted)
			}
		})
	}
}
