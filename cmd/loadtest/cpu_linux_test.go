package main

import (
	"os"
	"testing"
	"time"
)

func TestParseProcStatCPU(t *testing.T) {
	const tail = " 0 0 0 0 0 20 0 8 0 123456 4096 300 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0"
	cases := []struct {
		name, stat string
		want       time.Duration
		wantErr    bool
	}{
		{"plain name", "4242 (keyport) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 75" + tail, 3250 * time.Millisecond, false},
		{"name with spaces and parentheses", "7 (a (b) c) R 1 7 7 0 -1 0 0 0 0 0 1 2" + tail, 30 * time.Millisecond, false},
		{"nothing used yet", "9 (x) S 1 9 9 0 -1 0 0 0 0 0 0 0", 0, false},
		{"no command name", "9 x S 1 9 9 0 -1 0 0 0 0 0 1 2", 0, true},
		{"cut short", "9 (x) S 1 9 9 0 -1 0 0 0", 0, true},
		{"not a number", "9 (x) S 1 9 9 0 -1 0 0 0 0 0 abc 2", 0, true},
		{"negative", "9 (x) S 1 9 9 0 -1 0 0 0 0 0 -1 2", 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseProcStatCPU(tc.stat)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parsed %v, want an error", got)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("parseProcStatCPU = %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

// The two clocks of the load test measure the same thing when pointed at the
// same process: /proc for the server, getrusage for the load test itself.
func TestProcessCPUAgreesWithSelfCPU(t *testing.T) {
	proc0, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	self0, err := selfCPU()
	if err != nil {
		t.Fatal(err)
	}
	const burn = 300 * time.Millisecond
	var self1 time.Duration
	sum := 0
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		for i := range 1_000_000 {
			sum += i
		}
		if self1, err = selfCPU(); err != nil {
			t.Fatal(err)
		}
		if self1-self0 >= burn {
			break
		}
	}
	proc1, err := processCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	selfUsed, procUsed := self1-self0, proc1-proc0
	if selfUsed < burn {
		t.Skipf("only %v of CPU in 30s (sum %d): machine too busy to compare", selfUsed, sum)
	}
	if diff := (procUsed - selfUsed).Abs(); diff > 50*time.Millisecond+selfUsed/10 {
		t.Fatalf("/proc says %v of CPU, getrusage says %v", procUsed, selfUsed)
	}
}
