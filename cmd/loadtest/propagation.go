package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"keyport"
	"keyport/store"
)

// propagationLimit is how long the load test waits for a replica to refuse a
// revoked key before it counts a failure: well past the 1 s target, so that
// a slow propagation is measured rather than cut off.
const propagationLimit = 10 * time.Second

// propagationPause is the pause between two requests of one replica's poll
// after a revocation: the resolution of the measurement.
const propagationPause = 200 * time.Microsecond

// propagation measures how long a revocation takes to reach every replica
// behind couriers (GET /v1/couriers on each of the replicas that where
// names; its own key is not used). Through a store.DB of its own on the
// database at url it creates o.revocations keys in login's account, then,
// one key at a time, has every replica verify the key (so that each holds it
// in its verifier cache), revokes it, and from the moment the revocation has
// committed asks every replica at once, again and again, until each answers
// 401. The load test is none of the replicas: each of them learns of the
// revocation from the notification its commit sends, as replicas learn of
// each other's. It prints p50, p99 and max of the time until the first and
// until the last replica refused, against the target of 1 s, and reports
// whether anything failed.
func propagation(ctx context.Context, client *http.Client, couriers target, where, url string, login churnLogin, o options, w io.Writer) bool {
	n := o.revocations
	fmt.Fprintf(w, "\nrevocation propagation over %s: %d keys, one at a time, no other load. Every replica first verifies the key;\n", where, n)
	fmt.Fprintf(w, "  the load test revokes it through a connection of its own, so that every replica learns of it from the\n")
	fmt.Fprintf(w, "  notification; from the revocation's commit, it asks all %d replicas at once until each answers 401\n", len(couriers.URLs))
	fail := func(format string, args ...any) bool {
		fmt.Fprintf(w, "  "+format+"\n", args...)
		return true
	}
	db, err := store.Open(url, store.Options{})
	if err != nil {
		return fail("%v", err)
	}
	defer db.Close()
	owner, err := db.UserByEmail(ctx, login.Email)
	if err != nil {
		return fail("the churn merchant's owner: %v", err)
	}
	actor := keyport.UserActor(&owner, "")
	keys := make([]store.CreatedKey, 0, n)
	for i := range n {
		k, err := db.CreateKey(ctx, actor, keyport.NewKey{AccountID: login.AccountID, MerchantID: owner.MerchantID,
			Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: fmt.Sprintf("Propagation %d", i), Access: keyport.AccessFull})
		if err != nil {
			return fail("create key %d: %v", i, err)
		}
		keys = append(keys, k)
	}
	var slowest, fastest, revoking []time.Duration
	for i, k := range keys {
		for r, u := range couriers.URLs {
			if status, body, err := fetchAt(ctx, client, u, k.Plaintext, o.timeout); err != nil || status != http.StatusOK {
				return fail("key %d on replica %d before its revocation: %s", i, r+1, describe(status, body, err))
			}
		}
		began := time.Now()
		if _, err := db.RevokeKey(ctx, actor, owner.MerchantID, login.AccountID, k.Key.ID, "load test: propagation"); err != nil {
			return fail("revoke key %d: %v", i, err)
		}
		revoked := time.Now()
		revoking = append(revoking, revoked.Sub(began))
		refused, err := untilRefused(ctx, client, couriers.URLs, k.Plaintext, revoked, propagationLimit, o.timeout)
		if err != nil {
			return fail("key %d: %v", i, err)
		}
		slowest = append(slowest, refused[len(refused)-1])
		fastest = append(fastest, refused[0])
	}
	fmt.Fprintf(w, "revocation, until its commit returned: %s\n", spreadOf(revoking))
	fmt.Fprintf(w, "refused by the first replica:           %s\n", spreadOf(fastest))
	fmt.Fprintf(w, "refused by every replica:               %s\n", spreadOf(slowest))
	worst := percentile(sorted(slowest), 100)
	fmt.Fprintf(w, "target: every replica refuses a revoked key within 1s: %s\n", verdict(len(slowest) > 0 && worst < time.Second))
	return ctx.Err() != nil
}

// untilRefused asks each of urls at once, again and again, with key until it
// answers 401, and returns how long after since each did, in increasing
// order. A replica still answering 200 after limit, or answering anything but
// 200 or 401, is an error.
func untilRefused(ctx context.Context, client *http.Client, urls []string, key string, since time.Time, limit, timeout time.Duration) ([]time.Duration, error) {
	took := make([]time.Duration, len(urls))
	errs := make([]error, len(urls))
	var wg sync.WaitGroup
	for r, u := range urls {
		wg.Go(func() {
			for {
				status, body, err := fetchAt(ctx, client, u, key, timeout)
				switch {
				case err == nil && status == http.StatusUnauthorized:
					took[r] = time.Since(since)
					return
				case err != nil || status != http.StatusOK:
					errs[r] = fmt.Errorf("replica %d after the revocation: %s", r+1, describe(status, body, err))
					return
				case time.Since(since) > limit:
					errs[r] = fmt.Errorf("replica %d still accepts the revoked key after %s", r+1, limit)
					return
				}
				time.Sleep(propagationPause)
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return sorted(took), nil
}

// spreadOf formats p50, p99 and max of durations.
func spreadOf(d []time.Duration) string {
	s := sorted(d)
	return fmt.Sprintf("p50 %s, p99 %s, max %s over %d", ms(percentile(s, 50)), ms(percentile(s, 99)), ms(percentile(s, 100)), len(s))
}
