package keyport

import (
	"math"
	"sync"
	"time"
)

// RateLimiter allows each key a number of API calls per second, with bursts up
// to one second's worth (a token bucket per key). A zero rate allows everything.
type RateLimiter struct {
	perSecond float64

	mu      sync.Mutex
	buckets map[int64]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewRateLimiter returns a limiter of perSecond calls per key; 0 turns it off.
func NewRateLimiter(perSecond int) *RateLimiter {
	return &RateLimiter{perSecond: float64(perSecond), buckets: make(map[int64]*bucket)}
}

// Allow takes one call of keyID at now. When the key is over its limit it
// returns false and how long until the next call would be allowed.
func (r *RateLimiter) Allow(keyID int64, now time.Time) (bool, time.Duration) {
	if r == nil || r.perSecond <= 0 {
		return true, 0
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buckets[keyID]
	if b == nil {
		if len(r.buckets) >= KnownKeyCacheLimit {
			r.forgetFull(now)
		}
		b = &bucket{tokens: r.perSecond, at: now}
		r.buckets[keyID] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(r.perSecond, b.tokens+elapsed*r.perSecond)
		b.at = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration(math.Ceil((1 - b.tokens) / r.perSecond * float64(time.Second)))
	return false, wait
}

// forgetFull drops the buckets that have refilled, which behave as new ones.
func (r *RateLimiter) forgetFull(now time.Time) {
	for id, b := range r.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*r.perSecond >= r.perSecond {
			delete(r.buckets, id)
		}
	}
}
