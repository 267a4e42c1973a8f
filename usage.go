package keyport

import (
	"cmp"
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"
)

// KeyUse is the API use of one key since the last flush.
type KeyUse struct {
	KeyID  int64
	Count  int64
	LastAt time.Time
	LastIP string
}

// UsageSink stores usage, adding each count to the key's total.
type UsageSink interface {
	RecordUsage(ctx context.Context, uses []KeyUse) error
}

// UsageRecorder counts API calls per key in memory and writes them to the
// database in batches, so that a verified request costs no database write.
type UsageRecorder struct {
	sink UsageSink

	mu      sync.Mutex
	pending map[int64]*KeyUse
	// flushMu keeps flushes in order, so a failed batch is merged back before the next one runs.
	flushMu sync.Mutex
}

// NewUsageRecorder returns a recorder writing to sink.
func NewUsageRecorder(sink UsageSink) *UsageRecorder {
	return &UsageRecorder{sink: sink, pending: make(map[int64]*KeyUse)}
}

// Record counts one call of key keyID from ip at at.
func (u *UsageRecorder) Record(keyID int64, ip string, at time.Time) {
	u.mu.Lock()
	p := u.pending[keyID]
	if p == nil {
		p = &KeyUse{KeyID: keyID}
		u.pending[keyID] = p
	}
	p.Count++
	if !at.Before(p.LastAt) {
		p.LastAt = at
		p.LastIP = ip
	}
	u.mu.Unlock()
}

// Pending returns the number of calls not yet written.
func (u *UsageRecorder) Pending() int64 {
	u.mu.Lock()
	defer u.mu.Unlock()
	var n int64
	for _, p := range u.pending {
		n += p.Count
	}
	return n
}

// PendingKeys returns the number of keys with calls not yet written.
func (u *UsageRecorder) PendingKeys() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return len(u.pending)
}

// Flush writes every pending count in one batch. When the write fails the
// counts are kept for the next flush, so nothing is lost.
func (u *UsageRecorder) Flush(ctx context.Context) error {
	u.flushMu.Lock()
	defer u.flushMu.Unlock()
	u.mu.Lock()
	batch := u.pending
	u.pending = make(map[int64]*KeyUse, len(batch))
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	uses := make([]KeyUse, 0, len(batch))
	for _, p := range batch {
		uses = append(uses, *p)
	}
	err := u.sink.RecordUsage(ctx, uses)
	if err != nil {
		u.mu.Lock()
		for _, p := range uses {
			mergeUse(u.pending, p)
		}
		u.mu.Unlock()
	}
	return err
}

// mergeUse adds use to the pending use of its key: counts add up, the later
// last use wins.
func mergeUse(pending map[int64]*KeyUse, use KeyUse) {
	p := pending[use.KeyID]
	if p == nil {
		c := use
		pending[use.KeyID] = &c
		return
	}
	p.Count += use.Count
	if use.LastAt.After(p.LastAt) {
		p.LastAt, p.LastIP = use.LastAt, use.LastIP
	}
}

// MergeUses returns uses with one entry per key, sorted by key id.
func MergeUses(uses []KeyUse) []KeyUse {
	pending := make(map[int64]*KeyUse, len(uses))
	for _, use := range uses {
		mergeUse(pending, use)
	}
	out := make([]KeyUse, 0, len(pending))
	for _, p := range pending {
		out = append(out, *p)
	}
	slices.SortFunc(out, func(a, b KeyUse) int { return cmp.Compare(a.KeyID, b.KeyID) })
	return out
}

// FlushEvery flushes every interval until ctx ends; the caller flushes once
// more at shutdown.
func (u *UsageRecorder) FlushEvery(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := u.Flush(ctx); err != nil && ctx.Err() == nil {
				log.Error("flush key usage", "err", err)
			}
		}
	}
}
