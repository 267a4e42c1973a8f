package store

import (
	"testing"

	"keyport"
)

func TestQueueWhere(t *testing.T) {
	for _, tc := range []struct {
		name   string
		states []keyport.RequestState
		want   string
		bad    bool
	}{
		{"default is the open queue", nil, openQueue, false},
		{"pending and needs_info is the open queue", []keyport.RequestState{keyport.RequestPending, keyport.RequestNeedsInfo}, openQueue, false},
		{"one state", []keyport.RequestState{keyport.RequestApproved}, "r.state = 'approved'", false},
		{"two other states", []keyport.RequestState{keyport.RequestRejected, keyport.RequestCancelled}, "r.state IN ('rejected', 'cancelled')", false},
		{"every state is no condition", requestStates, "TRUE", false},
		{"an unknown state is refused", []keyport.RequestState{"pending' OR 1=1 --"}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := queueWhere(tc.states)
			if (err != nil) != tc.bad || got != tc.want {
				t.Fatalf("queueWhere(%q) = %q, %v", tc.states, got, err)
			}
		})
	}
}
