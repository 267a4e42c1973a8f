package store

import (
	"context"
	"testing"
	"time"

	"keyport"
)

func TestLiveReplicas(t *testing.T) {
	db := openTestDB(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	ctx := context.Background()
	const within = 15 * time.Second
	steps := []struct {
		name    string
		advance time.Duration
		beat    []string
		leave   string
		want    int
	}{
		{"two replicas start", 0, []string{"a", "b"}, "", 2},
		{"a heartbeat refreshes, the other is still within the window", 10 * time.Second, []string{"a"}, "", 2},
		{"b is silent for longer than the window", 10 * time.Second, []string{"a"}, "", 1},
		{"b comes back", time.Second, []string{"b"}, "", 2},
		{"c joins", 0, []string{"c"}, "", 3},
		{"c leaves", 0, nil, "c", 2},
		{"everyone is silent", within + time.Second, nil, "", 0},
	}
	for _, s := range steps {
		now = now.Add(s.advance)
		for _, id := range s.beat {
			if err := db.Heartbeat(ctx, id); err != nil {
				t.Fatal(err)
			}
		}
		if s.leave != "" {
			if err := db.LeaveReplica(ctx, s.leave); err != nil {
				t.Fatal(err)
			}
		}
		n, err := db.LiveReplicas(ctx, within)
		if err != nil {
			t.Fatal(err)
		}
		if n != s.want {
			t.Fatalf("%s: %d live replicas, want %d", s.name, n, s.want)
		}
	}
	now = now.Add(25 * time.Hour)
	if err := db.Heartbeat(ctx, "d"); err != nil {
		t.Fatal(err)
	}
	if n := count(t, db, `SELECT count(*) FROM replicas`); n != 1 {
		t.Fatalf("%d replica rows a day later, want only the new one", n)
	}
}

func TestRateLimiterSharesAmongLiveReplicas(t *testing.T) {
	db := openTestDB(t)
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	ctx := context.Background()
	const within = 15 * time.Second
	limiter := keyport.NewRateLimiter(5)
	if err := db.Heartbeat(ctx, "other"); err != nil {
		t.Fatal(err)
	}
	if err := limiter.RefreshReplicas(ctx, db, "this", within); err != nil {
		t.Fatal(err)
	}
	if got := limiter.PerSecond(); got != 3 {
		t.Fatalf("two live replicas: %d calls per second, want 3", got)
	}
	now = now.Add(within + time.Second)
	if err := limiter.RefreshReplicas(ctx, db, "this", within); err != nil {
		t.Fatal(err)
	}
	if got := limiter.PerSecond(); got != 5 {
		t.Fatalf("the other replica went silent: %d calls per second, want 5", got)
	}
}
