package keyport

import (
	"testing"
	"time"
)

func TestNextAttempt(t *testing.T) {
	created := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		attempts int
		now      time.Time
		wait     time.Duration
		retry    bool
	}{
		{"first failure", 1, created, 30 * time.Second, true},
		{"second failure", 2, created.Add(time.Minute), time.Minute, true},
		{"fifth failure", 5, created.Add(time.Hour), 8 * time.Minute, true},
		{"capped at four hours", 12, created.Add(24 * time.Hour), 4 * time.Hour, true},
		{"many failures stay capped", 500, created.Add(48 * time.Hour), 4 * time.Hour, true},
		{"last attempt inside three days", 20, created.Add(68 * time.Hour), 4 * time.Hour, true},
		{"given up past three days", 20, created.Add(68*time.Hour + time.Second), 0, false},
		{"given up long after", 3, created.Add(100 * time.Hour), 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			next, retry := NextAttempt(created, tt.attempts, tt.now)
			if retry != tt.retry {
				t.Fatalf("retry = %v, want %v", retry, tt.retry)
			}
			if retry && next.Sub(tt.now) != tt.wait {
				t.Fatalf("waits %s, want %s", next.Sub(tt.now), tt.wait)
			}
		})
	}
}
