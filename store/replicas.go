package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// replicaForgetAfter is how long the row of a replica that stopped without
// leaving (killed, crashed) is kept before a heartbeat of another deletes it.
const replicaForgetAfter = 24 * time.Hour

// Heartbeat records that the replica replicaID is running now, and deletes the
// rows of replicas silent for a day.
func (db *DB) Heartbeat(ctx context.Context, replicaID string) error {
	now := db.now()
	return db.tx(ctx, "heartbeat of replica "+replicaID, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO replicas (id, seen_at) VALUES ($1, $2)
			ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at`, replicaID, now); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM replicas WHERE seen_at < $1`, now-int64(replicaForgetAfter/time.Second))
		return err
	})
}

// LiveReplicas counts the replicas whose last heartbeat is at most within old.
func (db *DB) LiveReplicas(ctx context.Context, within time.Duration) (int, error) {
	var n int
	if err := db.queryRow(ctx, `SELECT count(*) FROM replicas WHERE seen_at >= $1`, db.Now().Add(-within).Unix()).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count live replicas: %w", err)
	}
	return n, nil
}

// LeaveReplica removes the replica replicaID, which is stopping, so that the
// others stop counting it at their next heartbeat.
func (db *DB) LeaveReplica(ctx context.Context, replicaID string) error {
	if _, err := db.exec(ctx, `DELETE FROM replicas WHERE id = $1`, replicaID); err != nil {
		return fmt.Errorf("store: replica %s leaves: %w", replicaID, err)
	}
	return nil
}
