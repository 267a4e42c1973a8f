package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/labstack/echo/v4"

	"keyport/store/storetest"
)

// htmlValidator returns the path of html-validate's command line script,
// from KEYPORT_HTML_VALIDATE (.ci/run installs html-validate from npm into a
// cache outside the module).
func htmlValidator(t *testing.T) string {
	t.Helper()
	return testTool(t, "KEYPORT_HTML_VALIDATE", "html-validate", "its bin/html-validate.mjs")
}

// htmlValidateConfig is html-validate's configuration: the HTML standard's
// content models and attributes, and its accessibility rules.
const htmlValidateConfig = `{"root": true, "extends": ["html-validate:standard", "html-validate:a11y"]}`

// markupSample is one answer of the portal kept for the markup check.
type markupSample struct {
	file, request string
}

// TestEveryPageAndFragmentIsValidHTML sends every route of the router that
// answers HTML, as each role the authorization matrix lets in: each page
// loaded in full and as htmx loads it, and each form posted empty and filled
// in, so that its error state and what follows it are checked too. html-validate then checks every answer
// against the HTML standard's content models and its accessibility rules.
func TestEveryPageAndFragmentIsValidHTML(t *testing.T) {
	cli := htmlValidator(t)
	if storetest.OnPostgres() {
		t.Skip("the markup is the same on both engines; the PostgreSQL run of the authorization matrix is skipped for the same reason")
	}
	seedApp, seed, snapshot := seededMatrix(t)
	table := authzMatrix(seed)
	base := sharedForm(seed)
	dir := t.TempDir()
	var (
		mu      sync.Mutex
		samples = map[string]markupSample{}
	)
	keep := func(request string, res response) {
		if !strings.HasPrefix(res.Header.Get("Content-Type"), echo.MIMETextHTML) || strings.TrimSpace(res.Body) == "" {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		name := fmt.Sprintf("%04d.html", len(samples))
		if err := os.WriteFile(filepath.Join(dir, name), []byte(res.Body), 0o600); err != nil {
			t.Fatal(err)
		}
		samples[name] = markupSample{file: name, request: fmt.Sprintf("%s (status %d)", request, res.Code)}
	}

	t.Run("answers", func(t *testing.T) {
		for _, r := range seedApp.srv.Echo().Routes() {
			row, ok := table[r.Method+" "+r.Path]
			if !ok || strings.HasPrefix(r.Path, "/v1/") || strings.HasPrefix(r.Path, "/static/") {
				continue
			}
			switch r.Method {
			case http.MethodGet:
				for role := matrixRole(0); role < matrixRoles; role++ {
					if row.want[role] != success {
						continue
					}
					uri := row.target(t, r.Path, seed.params)
					c := seed.clients[role]
					keep(fmt.Sprintf("GET %s as %s", uri, role), c.getURL(uri))
					keep(fmt.Sprintf("GET %s as %s, from htmx", uri, role), c.htmxGet(uri))
				}
			case http.MethodPost:
				role := matrixRole(0)
				for role < matrixRoles && row.want[role] != success {
					role++
				}
				if role == matrixRoles {
					continue
				}
				uri := row.target(t, r.Path, seed.params)
				for _, filled := range []bool{false, true} {
					for _, htmx := range []bool{false, true} {
						request := fmt.Sprintf("POST %s as %s, empty form", uri, role)
						if filled {
							request = fmt.Sprintf("POST %s as %s, filled form", uri, role)
						}
						if htmx {
							request += ", from htmx"
						}
						t.Run(request, func(t *testing.T) {
							t.Parallel()
							form := url.Values{}
							if filled {
								form = row.form(base, role)
							}
							c := seed.clients[role].on(snapshot.open(t))
							if htmx {
								keep(request, c.htmxPost(uri, form))
							} else {
								keep(request, c.post(uri, form))
							}
						})
					}
				}
			}
		}
	})
	if len(samples) < 150 {
		t.Fatalf("only %d HTML answers collected: the route walk is broken", len(samples))
	}

	config := filepath.Join(t.TempDir(), "htmlvalidate.json")
	if err := os.WriteFile(config, []byte(htmlValidateConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	report := filepath.Join(t.TempDir(), "report.json")
	out, err := exec.Command("node", cli, "--config", config, "--formatter", "json="+report, "--ext", "html", dir).CombinedOutput()
	var exit *exec.ExitError
	if err != nil && !(errors.As(err, &exit) && exit.ExitCode() == 1) {
		t.Fatalf("html-validate: %v\n%s", err, out)
	}
	raw, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("html-validate wrote no report: %v\n%s", err, out)
	}
	var reports []struct {
		FilePath string `json:"filePath"`
		Messages []struct {
			RuleID   string `json:"ruleId"`
			Message  string `json:"message"`
			Selector string `json:"selector"`
		} `json:"messages"`
	}
	if err := json.Unmarshal(raw, &reports); err != nil {
		t.Fatalf("html-validate's report: %v", err)
	}
	var failures []string
	for _, rep := range reports {
		sample := samples[filepath.Base(rep.FilePath)]
		for _, m := range rep.Messages {
			failures = append(failures, fmt.Sprintf("%s: [%s] %s at %s", sample.request, m.RuleID, m.Message, m.Selector))
		}
	}
	sort.Strings(failures)
	if len(failures) > 0 {
		t.Errorf("%d markup errors in %d answers:\n%s", len(failures), len(samples), strings.Join(failures, "\n"))
	}
	t.Logf("%d HTML answers checked", len(samples))
}
