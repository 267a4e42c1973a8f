package keyport

import (
	"sync"
	"time"
)

// LoginThrottle counts failed sign-ins per account and per client IP and refuses
// further attempts for a while once either count reaches its limit.
type LoginThrottle struct {
	// PerAccount is how many failures an email may have inside Window.
	PerAccount int
	// PerIP is how many failures one client IP may have inside Window.
	PerIP int
	// Window is how long failures are remembered.
	Window time.Duration
	// Now returns the current time; tests replace it.
	Now func() time.Time

	mu       sync.Mutex
	failures map[string][]time.Time
}

// NewLoginThrottle returns a throttle with the default limits: 5 failures per
// account and 20 per IP in 15 minutes.
func NewLoginThrottle() *LoginThrottle {
	return &LoginThrottle{PerAccount: 5, PerIP: 20, Window: 15 * time.Minute, Now: time.Now}
}

// Blocked reports whether a sign-in for email from ip must be refused now, and
// for how long the refusal lasts.
func (t *LoginThrottle) Blocked(email, ip string) (bool, time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.Now()
	wait := max(t.retryAfter("account:"+email, t.PerAccount, now), t.retryAfter("ip:"+ip, t.PerIP, now))
	return wait > 0, wait
}

// Fail records a failed sign-in.
func (t *LoginThrottle) Fail(email, ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.failures == nil {
		t.failures = map[string][]time.Time{}
	}
	now := t.Now()
	for _, key := range []string{"account:" + email, "ip:" + ip} {
		t.failures[key] = append(t.recent(key, now), now)
	}
}

// Succeed forgets the failures of an account after a good sign-in.
func (t *LoginThrottle) Succeed(email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.failures, "account:"+email)
}

func (t *LoginThrottle) recent(key string, now time.Time) []time.Time {
	list := t.failures[key]
	i := 0
	for i < len(list) && now.Sub(list[i]) >= t.Window {
		i++
	}
	if i == len(list) {
		delete(t.failures, key)
		return nil
	}
	return list[i:]
}

func (t *LoginThrottle) retryAfter(key string, limit int, now time.Time) time.Duration {
	list := t.recent(key, now)
	if limit <= 0 || len(list) < limit {
		return 0
	}
	return list[len(list)-limit].Add(t.Window).Sub(now)
}
