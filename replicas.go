package keyport

import (
	"context"
	"crypto/rand"
	"log/slog"
	"os"
	"time"
)

// ReplicaRegistry records which replicas of Keyport are running, in the
// database they share.
type ReplicaRegistry interface {
	// Heartbeat records that replicaID is running now.
	Heartbeat(ctx context.Context, replicaID string) error
	// LiveReplicas counts the replicas heard from within the duration.
	LiveReplicas(ctx context.Context, within time.Duration) (int, error)
	// LeaveReplica removes replicaID, which is stopping.
	LeaveReplica(ctx context.Context, replicaID string) error
}

// ReplicaMissedBeats is how many heartbeat intervals a replica still counts as
// live after its last heartbeat.
const ReplicaMissedBeats = 3

// NewReplicaID returns a name for this process among the replicas: its host
// name and a random suffix, different at every start.
func NewReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "replica"
	}
	return host + "-" + rand.Text()[:8]
}

// RefreshReplicas records the heartbeat of replicaID in reg, then shares the
// limit among the replicas heard from within the duration.
func (r *RateLimiter) RefreshReplicas(ctx context.Context, reg ReplicaRegistry, replicaID string, within time.Duration) error {
	if err := reg.Heartbeat(ctx, replicaID); err != nil {
		return err
	}
	n, err := reg.LiveReplicas(ctx, within)
	if err != nil {
		return err
	}
	r.SetReplicas(n)
	return nil
}

// FollowReplicas runs RefreshReplicas at once and then every interval until
// ctx ends, counting as live the replicas heard from within ReplicaMissedBeats
// intervals; then it removes replicaID from reg. When a refresh fails the
// share stays as it was.
func (r *RateLimiter) FollowReplicas(ctx context.Context, reg ReplicaRegistry, replicaID string, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := r.RefreshReplicas(ctx, reg, replicaID, ReplicaMissedBeats*every); err != nil && ctx.Err() == nil {
			log.Error("replica heartbeat", "replica", replicaID, "err", err)
		}
		select {
		case <-ctx.Done():
			leave, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			if err := reg.LeaveReplica(leave, replicaID); err != nil {
				log.Error("replica leaves", "replica", replicaID, "err", err)
			}
			return
		case <-t.C:
		}
	}
}
