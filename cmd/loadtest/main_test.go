package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestPercentileIsNearestRank(t *testing.T) {
	ten := make([]time.Duration, 10)
	for i := range ten {
		ten[i] = time.Duration(i+1) * time.Millisecond
	}
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Microsecond
	}
	cases := []struct {
		name string
		in   []time.Duration
		p    float64
		want time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one value", []time.Duration{7}, 99, 7},
		{"p50 of ten", ten, 50, 5 * time.Millisecond},
		{"p99 of ten is the max", ten, 99, 10 * time.Millisecond},
		{"p100 of ten", ten, 100, 10 * time.Millisecond},
		{"tiny p is the min", ten, 0.1, time.Millisecond},
		{"p50 of a hundred", hundred, 50, 50 * time.Microsecond},
		{"p99 of a hundred", hundred, 99, 99 * time.Microsecond},
		{"p99.9 of a hundred", hundred, 99.9, 100 * time.Microsecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := percentile(tc.in, tc.p); got != tc.want {
				t.Fatalf("percentile(%v) = %v, want %v", tc.p, got, tc.want)
			}
		})
	}
}

func TestOnlyLoopbackTargetsAreAllowed(t *testing.T) {
	cases := []struct {
		url string
		ok  bool
	}{
		{"http://127.0.0.1:8080/healthz", true},
		{"http://127.0.0.1:1/v1/shipments?limit=10", true},
		{"http://127.0.0.1/healthz", false},
		{"https://127.0.0.1:8443/healthz", false},
		{"http://localhost:8080/healthz", false},
		{"http://127.0.0.2:8080/healthz", false},
		{"http://[::1]:8080/healthz", false},
		{"http://0.0.0.0:8080/healthz", false},
		{"http://example.com:80/healthz", false},
		{"http://127.0.0.1.example.com:80/", false},
		{"http://user@127.0.0.1:8080/", false},
		{"127.0.0.1:8080", false},
		{"", false},
	}
	for _, tc := range cases {
		t.Run(tc.url, func(t *testing.T) {
			err := checkLoopback(tc.url)
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok && err == nil {
				t.Fatal("allowed")
			}
		})
	}
}

func TestListeningLineGivesTheAddress(t *testing.T) {
	cases := []struct {
		line, want string
	}{
		{"Keyport is running at http://127.0.0.1:0 (listening on 127.0.0.1:41234, data in /tmp/x)", "127.0.0.1:41234"},
		{"Create a merchant at http://127.0.0.1:0/signup, or log in at http://127.0.0.1:0/login", ""},
	}
	for _, tc := range cases {
		got := ""
		if m := listeningOn.FindStringSubmatch(tc.line); m != nil {
			got = m[1]
		}
		if got != tc.want {
			t.Errorf("address of %q = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestServerEnvDropsKeyportVariables(t *testing.T) {
	got := serverEnv([]string{"PATH=/bin", "KEYPORT_ADDR=0.0.0.0:80", "HOME=/home/x", "KEYPORT_BASE_URL=https://x.test"})
	if want := []string{"PATH=/bin", "HOME=/home/x"}; !slices.Equal(got, want) {
		t.Fatalf("serverEnv = %v, want %v", got, want)
	}
}

func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		args    []string
		wantErr string
	}{
		{nil, ""},
		{[]string{"-accounts", "200", "-c", "4", "-round", "1s", "-rate", "0"}, ""},
		{[]string{"-accounts", "1"}, "-accounts"},
		{[]string{"-c", "0"}, "-c"},
		{[]string{"-round", "0s"}, "durations"},
		{[]string{"-rate", "-5"}, "-rate"},
		{[]string{"-churn-rate", "-1"}, "-churn-rate"},
		{[]string{"-churn-rate", "0"}, ""},
		{[]string{"-churn-timeout", "0s"}, "-churn-timeout"},
		{[]string{"extra"}, "unexpected argument"},
		{[]string{"-database", "postgres://u:p@127.0.0.1:5432/keyport?sslmode=disable", "-replicas", "3"}, ""},
		{[]string{"-database", "postgresql://127.0.0.1/keyport", "-revocations", "0", "-compare-sqlite=false"}, ""},
		{[]string{"-database", "/tmp/keyport.db"}, "-database must be a postgres://"},
		{[]string{"-database", "mysql://u:p@127.0.0.1/keyport"}, "-database must be a postgres://"},
		{[]string{"-database", "postgres://u:secret@127.0.0.1:notaport/keyport"}, "not a PostgreSQL connection URL"},
		{[]string{"-replicas", "0"}, "-replicas must be from 1"},
		{[]string{"-database", "postgres://127.0.0.1/k", "-replicas", "17"}, "-replicas must be from 1"},
		{[]string{"-replicas", "3"}, "-replicas above 1 needs -database"},
		{[]string{"-replicas", "1"}, ""},
		{[]string{"-database", "postgres://127.0.0.1/k", "-revocations", "-1"}, "-revocations"},
	}
	for _, tc := range cases {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			_, err := parseOptions(tc.args, io.Discard)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one mentioning %s", err, tc.wantErr)
			}
		})
	}
}

// A refused URL must not show its password.
func TestDatabaseURLErrorHidesThePassword(t *testing.T) {
	_, err := parseOptions([]string{"-database", "postgres://u:secret@127.0.0.1:notaport/keyport"}, io.Discard)
	if err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("err = %v, want one without the password", err)
	}
}

func TestMaxTimeDefaultsLongerOnPostgres(t *testing.T) {
	cases := []struct {
		args []string
		want time.Duration
	}{
		{nil, 10 * time.Minute},
		{[]string{"-database", "postgres://127.0.0.1/k"}, maxTimePostgres},
		{[]string{"-database", "postgres://127.0.0.1/k", "-max-time", "5m"}, 5 * time.Minute},
		{[]string{"-max-time", "2m"}, 2 * time.Minute},
	}
	for _, tc := range cases {
		o, err := parseOptions(tc.args, io.Discard)
		if err != nil || o.maxTime != tc.want {
			t.Errorf("%v: max time %v (err %v), want %v", tc.args, o.maxTime, err, tc.want)
		}
	}
}

func TestOpenResultAddGathersRounds(t *testing.T) {
	var r openResult
	r.add(openResult{Sent: 3, Completed: 2, Errors: 1, FirstErr: "first", Latencies: []time.Duration{1, 2}, Elapsed: time.Second, PerReplica: []int{1, 1}})
	r.add(openResult{Sent: 2, Completed: 2, Latencies: []time.Duration{3, 4}, Elapsed: time.Second, PerReplica: []int{2, 0}})
	r.add(openResult{Sent: 1, Errors: 1, FirstErr: "second", Elapsed: time.Second, PerReplica: []int{0, 0}})
	if r.Sent != 6 || r.Completed != 4 || r.Errors != 2 || r.FirstErr != "first" || len(r.Latencies) != 4 || r.Elapsed != 3*time.Second {
		t.Fatalf("%+v", r)
	}
	if fmt.Sprint(r.PerReplica) != "[3 1]" {
		t.Fatalf("PerReplica %v, want [3 1]", r.PerReplica)
	}
}

func TestMedianOfSortedValues(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{0.9}, 0.9},
		{[]float64{0.8, 0.9, 1.5}, 0.9},
		{[]float64{0.8, 0.9, 1.0, 1.5}, 0.95},
	}
	for _, tc := range cases {
		if got := median(tc.in); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestWireSizeCountsStatusLineHeadersAndBody(t *testing.T) {
	const answer = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 13\r\n\r\n{\"data\": [1]}"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		req, err := http.ReadRequest(bufio.NewReader(conn))
		if err != nil || req.Header.Get("Authorization") != "Bearer sk_test_x" {
			_, _ = io.WriteString(conn, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			return
		}
		_, _ = io.WriteString(conn, answer)
		_, _ = io.Copy(io.Discard, conn)
	}()
	tg, err := newTarget([]string{"http://" + ln.Addr().String()}, "/v1/couriers", "sk_test_x")
	if err != nil {
		t.Fatal(err)
	}
	n, err := wireSize(context.Background(), tg, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(len(answer)) {
		t.Fatalf("wireSize = %d, want %d", n, len(answer))
	}
}

func TestPerRequestSpreadsCPUTime(t *testing.T) {
	cases := []struct {
		d    time.Duration
		n    int
		want string
	}{
		{time.Millisecond, 40, "25.0µs"},
		{3 * time.Second, 100_000, "30.0µs"},
		{0, 10, "0.0µs"},
		{time.Second, 0, "-"},
	}
	for _, tc := range cases {
		if got := perRequest(tc.d, tc.n); got != tc.want {
			t.Errorf("perRequest(%v, %d) = %q, want %q", tc.d, tc.n, got, tc.want)
		}
	}
}

func TestStatsAddSumsCountsAndCPU(t *testing.T) {
	var s stats
	s.add(stats{Latencies: []time.Duration{1, 2}, Errors: 1, FirstErr: "first", Elapsed: time.Second, CPU: cpuUse{Server: 3 * time.Millisecond, Client: time.Millisecond}})
	s.add(stats{Latencies: []time.Duration{3}, Errors: 2, FirstErr: "second", Elapsed: time.Second, CPU: cpuUse{Server: 2 * time.Millisecond, Client: 4 * time.Millisecond}})
	if s.Requests() != 6 || s.FirstErr != "first" || s.Elapsed != 2*time.Second {
		t.Fatalf("requests %d, first error %q, elapsed %v", s.Requests(), s.FirstErr, s.Elapsed)
	}
	if want := (cpuUse{Server: 5 * time.Millisecond, Client: 5 * time.Millisecond}); s.CPU != want {
		t.Fatalf("CPU = %+v, want %+v", s.CPU, want)
	}
	if got := s.PerSecond(); got != 1.5 {
		t.Fatalf("PerSecond = %v, want 1.5", got)
	}
}

func TestClosedLoopSendsTheKeyAndCountsOnly200s(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/moved":
			http.Redirect(w, r, "/v1/couriers", http.StatusFound)
		case r.Header.Get("Authorization") != "Bearer sk_test_x":
			http.Error(w, `{"error":"invalid_api_key"}`, http.StatusUnauthorized)
		default:
			_, _ = io.WriteString(w, `{"data":[]}`)
		}
	}))
	defer srv.Close()
	client := newClient(4)
	defer client.CloseIdleConnections()
	cases := []struct {
		name, path, key string
		wantErr         string
	}{
		{"key sent on every request", "/v1/couriers", "sk_test_x", ""},
		{"no key", "/v1/couriers", "", "status 401 Unauthorized: {\"error\":\"invalid_api_key\"}"},
		{"redirect not followed", "/moved", "sk_test_x", "status 302 Found: redirect to /v1/couriers"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tg, err := newTarget([]string{srv.URL}, tc.path, tc.key)
			if err != nil {
				t.Fatal(err)
			}
			s := closedLoop(context.Background(), client, tg, 4, 100*time.Millisecond, 5*time.Second)
			if tc.wantErr == "" {
				if s.Errors != 0 || len(s.Latencies) == 0 {
					t.Fatalf("%d successes, %d errors (first: %s)", len(s.Latencies), s.Errors, s.FirstErr)
				}
				return
			}
			if len(s.Latencies) != 0 || s.Errors == 0 || !strings.HasPrefix(s.FirstErr, tc.wantErr) {
				t.Fatalf("%d successes, %d errors, first %q; want only errors starting %q", len(s.Latencies), s.Errors, s.FirstErr, tc.wantErr)
			}
		})
	}
}

func TestMetricsOptionServesMetricsOnAFreePort(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{nil, nil},
		{[]string{"-metrics"}, []string{"KEYPORT_METRICS_ADDR=127.0.0.1:0"}},
	} {
		o, err := parseOptions(tc.args, io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		if got := o.metricsEnv(); !slices.Equal(got, tc.want) {
			t.Errorf("%v: server environment gains %v, want %v", tc.args, got, tc.want)
		}
	}
}
