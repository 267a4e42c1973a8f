package keyport_test

import (
	"testing"
	"time"

	"keyport"
)

func TestLoginThrottleWait(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	ago := func(d time.Duration, n int) []time.Time {
		list := make([]time.Time, n)
		for i := range list {
			list[i] = now.Add(-d)
		}
		return list
	}
	cases := []struct {
		name        string
		account, ip []time.Time
		perAccount  int
		want        time.Duration
	}{
		{"no attempts", nil, nil, 5, 0},
		{"four account attempts", ago(time.Minute, 4), ago(time.Minute, 4), 5, 0},
		{"five account attempts wait for the oldest", append(ago(10*time.Minute, 1), ago(time.Minute, 4)...), nil, 5, 5 * time.Minute},
		{"order does not matter", append(ago(time.Minute, 4), ago(10*time.Minute, 1)...), nil, 5, 5 * time.Minute},
		{"only the newest five matter", append(ago(14*time.Minute, 1), append(ago(10*time.Minute, 1), ago(time.Minute, 4)...)...), nil, 5, 5 * time.Minute},
		{"an attempt a window old no longer counts", append(ago(15*time.Minute, 1), ago(time.Minute, 4)...), nil, 5, 0},
		{"an attempt just inside the window counts", append(ago(15*time.Minute-time.Second, 1), ago(time.Minute, 4)...), nil, 5, time.Second},
		{"nineteen attempts from one IP", nil, ago(2*time.Minute, 19), 5, 0},
		{"twenty attempts from one IP", nil, ago(2*time.Minute, 20), 5, 13 * time.Minute},
		{"the longer wait wins", ago(10*time.Minute, 5), ago(2*time.Minute, 20), 5, 13 * time.Minute},
		{"a zero limit is no limit", ago(time.Minute, 10), nil, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			th := keyport.NewLoginThrottle()
			th.PerAccount = tc.perAccount
			if got := th.Wait(tc.account, tc.ip, now); got != tc.want {
				t.Fatalf("Wait = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoginThrottleDefaults(t *testing.T) {
	th := keyport.NewLoginThrottle()
	if th.PerAccount != 5 || th.PerIP != 20 || th.Window != 15*time.Minute {
		t.Fatalf("defaults %+v", th)
	}
	if keyport.AccountScope("a@x.test") == keyport.IPScope("a@x.test") {
		t.Fatal("an account and an IP share a scope")
	}
}

func TestLoginWaitSlowsUnknownClientsOnlyPastTheAccountBurst(t *testing.T) {
	th := keyport.NewLoginThrottle()
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	ago := func(d ...time.Duration) []time.Time {
		var out []time.Time
		for _, x := range d {
			out = append(out, now.Add(-x))
		}
		return out
	}
	ten := ago(10*time.Second, time.Minute, time.Minute, time.Minute, time.Minute, time.Minute, time.Minute, time.Minute, time.Minute, time.Minute)
	cases := []struct {
		name    string
		account []time.Time
		known   bool
		want    time.Duration
	}{
		{"nine attempts on the account", ten[1:], false, 0},
		{"ten, the newest 10 s ago", ten, false, 20 * time.Second},
		{"ten, from a known browser", ten, true, 0},
		{"ten, all older than the spacing", ago(40*time.Second, time.Minute, time.Minute, time.Minute, time.Minute, time.Minute,
			time.Minute, time.Minute, time.Minute, time.Minute), false, 0},
		{"ten, left the window", ago(16*time.Minute, 16*time.Minute, 16*time.Minute, 16*time.Minute, 16*time.Minute, 16*time.Minute,
			16*time.Minute, 16*time.Minute, 16*time.Minute, 16*time.Minute), false, 0},
	}
	for _, tc := range cases {
		if got := th.LoginWait(nil, nil, tc.account, tc.known, now); got != tc.want {
			t.Errorf("%s: wait %v, want %v", tc.name, got, tc.want)
		}
	}
}
