package keyport_test

import (
	"slices"
	"testing"

	"keyport"
)

func TestKeyChangeLogListsTheChangesSinceASequenceNumber(t *testing.T) {
	var log keyport.KeyChangeLog
	for i := int64(1); i <= 3000; i++ {
		log.Publish(keyport.KeyChanged(i))
	}
	tests := []struct {
		name     string
		since    uint64
		complete bool
		want     []int64
	}{
		{"up to date", 3000, true, nil},
		{"ahead", 4000, true, nil},
		{"one behind", 2999, true, []int64{3000}},
		{"three behind", 2997, true, []int64{2998, 2999, 3000}},
		{"further back than the log reaches", 0, false, nil},
		{"just out of reach", 1000, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			changes, complete := log.Since(tt.since)
			var got []int64
			for _, c := range changes {
				if c.Scope != keyport.ScopeKey {
					t.Fatalf("scope %v", c.Scope)
				}
				got = append(got, c.ID)
			}
			if complete != tt.complete || !slices.Equal(got, tt.want) {
				t.Fatalf("got %v (complete %v), want %v (complete %v)", got, complete, tt.want, tt.complete)
			}
		})
	}
	if log.Seq() != 3000 {
		t.Fatalf("seq %d", log.Seq())
	}
	log.Publish()
	log.Publish(keyport.AccountChanged(7), keyport.MerchantChanged(8))
	changes, complete := log.Since(3000)
	if log.Seq() != 3002 || !complete || !slices.Equal(changes, []keyport.KeyChange{keyport.AccountChanged(7), keyport.MerchantChanged(8)}) {
		t.Fatalf("seq %d, changes %+v", log.Seq(), changes)
	}
}

func TestKeyChangeLogResetMakesEveryReaderStartOver(t *testing.T) {
	var l keyport.KeyChangeLog
	l.Publish(keyport.KeyChanged(1), keyport.KeyChanged(2))
	before := l.Seq()
	l.Reset()
	if _, ok := l.Since(before); ok {
		t.Fatal("a reader from before the reset still got the changes since")
	}
	after := l.Seq()
	l.Publish(keyport.KeyChanged(3))
	got, ok := l.Since(after)
	if !ok || len(got) != 1 || got[0] != keyport.KeyChanged(3) {
		t.Fatalf("since the reset: %v %v", got, ok)
	}
	if _, ok := l.Since(before); ok {
		t.Fatal("a reader from before the reset got changes after one more publish")
	}
}
