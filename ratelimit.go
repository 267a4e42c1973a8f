package keyport

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// RateLimiter allows each key a number of API calls per second, with bursts up
// to one second's worth (a token bucket per key). A zero rate allows everything.
//
// The buckets live in the process. Where several replicas serve the API, each
// enforces its share of the limit: the limit divided by the number of live
// replicas, rounded up and at least 1 (see SetReplicas and FollowReplicas).
// Spread evenly by the load balancer, a key's calls then meet about the limit
// in total; sent all to one replica, they meet that replica's share.
type RateLimiter struct {
	limit int
	// replicas is the number of live replicas sharing the limit, at least 1.
	replicas atomic.Int64

	mu      sync.Mutex
	buckets map[int64]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// NewRateLimiter returns a limiter of perSecond calls per key; 0 turns it off.
func NewRateLimiter(perSecond int) *RateLimiter {
	r := &RateLimiter{limit: perSecond, buckets: make(map[int64]*bucket)}
	r.replicas.Store(1)
	return r
}

// SetReplicas sets how many live replicas share the limit; fewer than 1 counts as 1.
// It is safe to call while other goroutines call Allow.
func (r *RateLimiter) SetReplicas(n int) {
	r.replicas.Store(int64(max(n, 1)))
}

// PerSecond returns the calls per second this process allows each key: the
// limit divided by the live replicas, rounded up, at least 1; 0 when there is no limit.
func (r *RateLimiter) PerSecond() int {
	if r == nil || r.limit <= 0 {
		return 0
	}
	n := int(r.replicas.Load())
	return (r.limit + n - 1) / n
}

// RateDecision is the limiter's answer to one call.
type RateDecision struct {
	// Allowed is false when the key is over its limit.
	Allowed bool
	// Limit is the calls per second this process allows the key; 0 when there is no limit.
	Limit int
	// Remaining is how many more calls the key may make at once.
	Remaining int
	// Reset is how long until the key may again make Limit calls at once.
	Reset time.Duration
	// RetryAfter is how long until the next call would be allowed, when this one was not.
	RetryAfter time.Duration
}

// Allow takes one call of keyID at now. When the key is over its limit it
// returns false and how long until the next call would be allowed.
func (r *RateLimiter) Allow(keyID int64, now time.Time) (bool, time.Duration) {
	d := r.Take(keyID, now)
	return d.Allowed, d.RetryAfter
}

// Take takes one call of keyID at now and says whether it is allowed, with
// the state of the key's bucket afterwards.
func (r *RateLimiter) Take(keyID int64, now time.Time) RateDecision {
	limit := r.PerSecond()
	if limit <= 0 {
		return RateDecision{Allowed: true}
	}
	rate := float64(limit)
	r.mu.Lock()
	defer r.mu.Unlock()
	b := r.buckets[keyID]
	if b == nil {
		if len(r.buckets) >= KnownKeyCacheLimit {
			r.forgetFull(now, rate)
		}
		b = &bucket{tokens: rate, at: now}
		r.buckets[keyID] = b
	}
	if elapsed := now.Sub(b.at).Seconds(); elapsed > 0 {
		b.tokens = math.Min(rate, b.tokens+elapsed*rate)
		b.at = now
	}
	d := RateDecision{Limit: limit, Allowed: b.tokens >= 1}
	if d.Allowed {
		b.tokens--
	} else {
		d.RetryAfter = time.Duration(math.Ceil((1 - b.tokens) / rate * float64(time.Second)))
	}
	d.Remaining = int(b.tokens)
	d.Reset = time.Duration(math.Ceil((rate - b.tokens) / rate * float64(time.Second)))
	return d
}

// forgetFull drops the buckets that have refilled, which behave as new ones.
func (r *RateLimiter) forgetFull(now time.Time, rate float64) {
	for id, b := range r.buckets {
		if b.tokens+now.Sub(b.at).Seconds()*rate >= rate {
			delete(r.buckets, id)
		}
	}
}
