package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"keyport/store/storetest"
)

// deployDir holds the alert rules and the dashboard that ship with Keyport.
const deployDir = "../deploy"

// metricName finds the metric names a rule file or dashboard refers to.
var metricName = regexp.MustCompile(`\b(?:keyport|go|process)_[a-z0-9_]+\b`)

// postgresOnlyMetrics are exported on PostgreSQL only; on PostgreSQL the test
// checks that they are.
var postgresOnlyMetrics = []string{"keyport_key_listener_up"}

// exportedMetricNames returns every series name a scrape of a server that has
// served every kind of request holds, histograms with their _bucket, _sum and
// _count series.
func exportedMetricNames(t *testing.T) map[string]bool {
	t.Helper()
	app := newMetricsApp(t)
	m := app.apiMerchant("Acme")
	wantStatus(t, app.api("GET", "/v1/couriers", m.key, ""), http.StatusOK)
	wantStatus(t, app.api("GET", "/v1/couriers", "sk_test_nope", ""), http.StatusUnauthorized)
	m.owner.get(keysPath(m.res))
	app.client().post("/login", url.Values{"email": {"nobody@acme.test"}, "password": {"not-the-password"}})
	if err := app.srv.Usage().Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		app.srv.SweepExpiredKeys(ctx, time.Hour)
		close(done)
	}()
	for deadline := time.Now().Add(10 * time.Second); app.metricValue("keyport_expiry_sweeps_total", map[string]string{"result": "ok"}) < 1; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the expiry sweep did not run")
		}
	}
	cancel()
	<-done
	families, err := app.srv.metrics.registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := make(map[string]bool)
	for _, f := range families {
		names[f.GetName()] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				names[f.GetName()+suffix] = true
			}
		}
	}
	for _, name := range postgresOnlyMetrics {
		if names[name] != storetest.OnPostgres() {
			t.Fatalf("%s exported: %v, on PostgreSQL: %v", name, names[name], storetest.OnPostgres())
		}
		names[name] = true
	}
	return names
}

func TestDashboardAndAlertsNameOnlyExportedMetrics(t *testing.T) {
	exported := exportedMetricNames(t)
	for _, file := range []string{"prometheus/alerts.yml", "prometheus/alerts_test.yml", "grafana/keyport.json"} {
		text, err := os.ReadFile(filepath.Join(deployDir, file))
		if err != nil {
			t.Fatal(err)
		}
		used := metricName.FindAllString(string(text), -1)
		if len(used) == 0 {
			t.Fatalf("%s names no metric", file)
		}
		for _, name := range used {
			if !exported[name] {
				t.Errorf("%s uses %s, which Keyport does not export", file, name)
			}
		}
	}
}

// grafanaDashboard is the part of a Grafana dashboard model the test reads.
type grafanaDashboard struct {
	Title  string `json:"title"`
	UID    string `json:"uid"`
	Panels []struct {
		ID      int    `json:"id"`
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			Expr  string `json:"expr"`
			RefID string `json:"refId"`
		} `json:"targets"`
	} `json:"panels"`
}

func TestDashboardPanelsEachQueryKeyport(t *testing.T) {
	text, err := os.ReadFile(filepath.Join(deployDir, "grafana/keyport.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d grafanaDashboard
	if err := json.Unmarshal(text, &d); err != nil {
		t.Fatalf("the dashboard is not JSON: %v", err)
	}
	if d.Title == "" || d.UID == "" {
		t.Fatalf("dashboard title %q, uid %q", d.Title, d.UID)
	}
	var ids []int
	for _, p := range d.Panels {
		if slices.Contains(ids, p.ID) {
			t.Errorf("panel id %d is used twice", p.ID)
		}
		ids = append(ids, p.ID)
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, target := range p.Targets {
			if !metricName.MatchString(target.Expr) || target.RefID == "" {
				t.Errorf("panel %q: query %q (refId %q) names no metric", p.Title, target.Expr, target.RefID)
			}
			if !strings.Contains(target.Expr, `instance=~"$instance"`) {
				t.Errorf("panel %q: query %q ignores the replica picker", p.Title, target.Expr)
			}
		}
	}
}

func TestAlertRulesPassPromtool(t *testing.T) {
	tool := promtool(t)
	dir := filepath.Join(deployDir, "prometheus")
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		cmd := exec.Command(tool, args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}

func TestEveryAlertHasAFiringAndAQuietCase(t *testing.T) {
	rules, err := os.ReadFile(filepath.Join(deployDir, "prometheus/alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	tests, err := os.ReadFile(filepath.Join(deployDir, "prometheus/alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	alerts := regexp.MustCompile(`(?m)^\s+- alert: (\S+)$`).FindAllStringSubmatch(string(rules), -1)
	if len(alerts) == 0 {
		t.Fatal("no alert rules")
	}
	cases := regexp.MustCompile(`(?m)^\s+alertname: (\S+)\n\s+exp_alerts:( \[\])?$`).FindAllStringSubmatch(string(tests), -1)
	for _, a := range alerts {
		var firing, quiet bool
		for _, c := range cases {
			if c[1] == a[1] {
				quiet = quiet || c[2] != ""
				firing = firing || c[2] == ""
			}
		}
		if !firing || !quiet {
			t.Errorf("alert %s: a test where it fires %v, where it stays quiet %v; want both", a[1], firing, quiet)
		}
	}
}
