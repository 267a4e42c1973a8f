package store

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"keyport"
)

// QueueFilter selects requests in the approval queue.
type QueueFilter struct {
	// States to show; empty means pending and needs_info.
	States []keyport.RequestState
	Page   PageRequest
	// PerPage is how many requests one page lists.
	PerPage int
	// CountLimit is the most matching requests counted exactly.
	CountLimit int
}

// requestStates are every state of a live key request.
var requestStates = []keyport.RequestState{keyport.RequestPending, keyport.RequestNeedsInfo, keyport.RequestApproved,
	keyport.RequestIssued, keyport.RequestRejected, keyport.RequestCancelled}

// openQueue is the condition of the default queue, written exactly as the
// partial index live_key_requests_open is, which serves it in queue order.
const openQueue = "r.state IN ('pending', 'needs_info')"

// queueWhere is the condition that selects requests in the states. The states
// are written into the SQL, known ones only, so that the partial index of
// open requests serves the default queue; every state is no condition.
func queueWhere(states []keyport.RequestState) (string, error) {
	if len(states) == 0 || slices.Equal(states, []keyport.RequestState{keyport.RequestPending, keyport.RequestNeedsInfo}) {
		return openQueue, nil
	}
	if len(states) == len(requestStates) && !slices.ContainsFunc(requestStates, func(s keyport.RequestState) bool { return !slices.Contains(states, s) }) {
		return "TRUE", nil
	}
	quoted := make([]string, len(states))
	for i, s := range states {
		if !slices.Contains(requestStates, s) {
			return "", fmt.Errorf("queue filter: unknown state %q", s)
		}
		quoted[i] = "'" + string(s) + "'"
	}
	if len(quoted) == 1 {
		return "r.state = " + quoted[0], nil
	}
	return "r.state IN (" + strings.Join(quoted, ", ") + ")", nil
}

// queueCursor is where a request sits in the approval queue: by creation time, then id.
func queueCursor(r keyport.RequestWithActivity) Cursor {
	return Cursor{Key: r.CreatedAt.Unix(), ID: r.ID}
}

// ListRequests returns the page f asks for of live key requests in the given
// states, oldest first, with the merchant's activity, and how many match,
// counted up to f.CountLimit.
func (db *DB) ListRequests(ctx context.Context, f QueueFilter) (Page[keyport.RequestWithActivity], int, error) {
	where, err := queueWhere(f.States)
	if err != nil {
		return Page[keyport.RequestWithActivity]{}, 0, err
	}
	var total int
	if err := db.queryRow(ctx, `SELECT count(*) FROM (SELECT 1 FROM live_key_requests r WHERE `+where+` LIMIT $1) AS q`,
		f.CountLimit).Scan(&total); err != nil {
		return Page[keyport.RequestWithActivity]{}, 0, err
	}
	from := requestFrom
	if where == openQueue {
		// Left to itself the planner looks both states up in the state index and sorts them.
		from = strings.Replace(from, "live_key_requests r", "live_key_requests r"+db.dialect.indexedBy("live_key_requests_open"), 1)
	}
	page, err := LoadPage(f.Page, f.PerPage, false, queueCursor,
		func(c Cursor, below bool, limit int) ([]keyport.RequestWithActivity, error) {
			var args sqlArgs
			cond, order := keyset(&args, "r.created_at", "r.id", c, below)
			rows, err := db.query(ctx, `SELECT `+requestColumns+`, `+activityColumns+from+`
				WHERE `+where+cond+order+` LIMIT `+args.add(limit), args...)
			return collect(rows, err, scanRequestWithActivity)
		})
	return page, total, err
}
