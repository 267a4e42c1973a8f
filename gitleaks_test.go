package keyport

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitleaksConfig is the gitleaks configuration that ships the Keyport rules.
const gitleaksConfig = "deploy/gitleaks/keyport.toml"

// gitleaksRules are the rule ids of gitleaksConfig, by key type.
var gitleaksRules = map[KeyType]string{
	KeySecret:      "keyport-secret-key",
	KeyPublishable: "keyport-publishable-key",
}

// leakFiles are the files the test writes every minted key into, one line per
// key, as code of several languages holds a key. In line, %[1]d is the key's
// number and %[2]s the key; sep joins the lines (a newline when empty), and
// head and tail go around them.
var leakFiles = []struct {
	name       string
	head, tail string
	line, sep  string
}{
	{name: ".env", line: "KEYPORT_KEY_%[1]d=%[2]s"},
	{name: "client.py", head: "import keyport\n\n", line: "api_key = \"%[2]s\""},
	{name: "client.js", line: "const key%[1]d = '%[2]s';"},
	{name: "client.go", head: "package client\n\nconst (\n", line: "\tkey%[1]d = \"%[2]s\"", tail: ")\n"},
	{name: "config.yaml", head: "keyport:\n  keys:\n", line: "    - %[2]s"},
	{name: "config.json", head: "{\n", line: "  \"key_%[1]d\": \"%[2]s\"", sep: ",\n", tail: "}\n"},
	{name: "call.sh", line: "curl -H \"Authorization: Bearer %[2]s\" https://keyport.example.com/v1/couriers"},
	{name: "keys.txt", line: "%[2]s"},
}

// gitleaksFinding holds the fields of a gitleaks JSON report the test reads.
type gitleaksFinding struct {
	RuleID string
	Secret string
	Match  string
	File   string
}

// gitleaks returns the path of the gitleaks binary, from KEYPORT_GITLEAKS or
// PATH, or skips the test when there is none outside CI.
func gitleaks(t *testing.T) string {
	t.Helper()
	path := os.Getenv("KEYPORT_GITLEAKS")
	if path == "" {
		path, _ = exec.LookPath("gitleaks")
	}
	if path != "" {
		if _, err := os.Stat(path); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("gitleaks is missing (KEYPORT_GITLEAKS=%q): .ci/run installs it", os.Getenv("KEYPORT_GITLEAKS"))
	}
	t.Skip("gitleaks is not installed (set KEYPORT_GITLEAKS or put it on PATH); CI runs this test")
	return ""
}

// runGitleaks scans dir with gitleaksConfig and returns the findings of the
// Keyport rules.
func runGitleaks(t *testing.T, tool, dir string) []gitleaksFinding {
	t.Helper()
	reportPath := filepath.Join(t.TempDir(), "report.json")
	cmd := exec.Command(tool, "dir", dir, "--config", gitleaksConfig, "--no-banner", "--no-color",
		"--report-format", "json", "--report-path", reportPath, "--exit-code", "0")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gitleaks dir: %v\n%s", err, out)
	}
	report, err := os.ReadFile(reportPath)
	if err != nil {
		t.Fatalf("gitleaks wrote no report: %v\n%s", err, out)
	}
	var all []gitleaksFinding
	if err := json.Unmarshal(report, &all); err != nil {
		t.Fatalf("gitleaks report: %v\n%s", err, report)
	}
	var ours []gitleaksFinding
	for _, f := range all {
		if f.RuleID == gitleaksRules[KeySecret] || f.RuleID == gitleaksRules[KeyPublishable] {
			ours = append(ours, f)
		}
	}
	return ours
}

func writeLeakFile(t *testing.T, dir, name, content string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestGitleaksRuleFindsEveryKeyportKey(t *testing.T) {
	tool := gitleaks(t)

	var keys []ParsedKey
	for _, typ := range []KeyType{KeySecret, KeyPublishable} {
		for _, mode := range []Mode{ModeTest, ModeLive} {
			for range 3 {
				k, err := MintKey(typ, mode)
				if err != nil {
					t.Fatal(err)
				}
				keys = append(keys, k)
			}
		}
	}

	type place struct{ file, key string }
	var want []place
	dir := t.TempDir()
	for _, file := range leakFiles {
		lines := make([]string, len(keys))
		for i, k := range keys {
			lines[i] = fmt.Sprintf(file.line, i+1, k.Raw)
			want = append(want, place{file.name, k.Raw})
		}
		sep := file.sep
		if sep == "" {
			sep = "\n"
		}
		writeLeakFile(t, dir, file.name, file.head+strings.Join(lines, sep)+"\n"+file.tail)
	}
	// Each key alone in a file too: a rule whose keywords miss a prefix would
	// skip such a file without looking at it.
	for i, k := range keys {
		name := fmt.Sprintf("alone%02d.txt", i+1)
		writeLeakFile(t, dir, name, k.Raw+"\n")
		want = append(want, place{name, k.Raw})
	}

	// Near misses of minted keys, which the rules must not report. gitleaks
	// cannot compute a CRC32, so a wrong checksum that some CRC32 could have
	// passes the rules (ParseKey refuses it); one no CRC32 encodes to does not.
	valid := keys[len(keys)-1].Raw // pk_live_
	secret := keys[0].Raw          // sk_test_
	checksumAt := len(valid) - keyChecksumLen
	notKeys := []struct {
		name, s string
	}{
		{"one character too many", valid + "x"},
		{"one character too few", valid[:len(valid)-1]},
		{"secret key one character too many", secret + "0"},
		{"secret key one character too few", secret[:len(secret)-1]},
		{"a character outside base62 in the body", valid[:20] + "-" + valid[21:]},
		{"a checksum above any CRC32", valid[:checksumAt] + "z" + valid[checksumAt+1:]},
		{"secret key with a checksum above any CRC32", secret[:checksumAt] + "5" + secret[checksumAt+1:]},
		{"another mode", "pk_prod_" + valid[keyPrefixLen:]},
		{"another type", "rk_live_" + valid[keyPrefixLen:]},
	}
	var notKeyLines strings.Builder
	for _, nk := range notKeys {
		if _, err := ParseKey(nk.s); err == nil {
			t.Fatalf("%s: ParseKey accepts %q", nk.name, nk.s)
		}
		notKeyLines.WriteString(nk.s + "\n")
	}
	const notKeysFile = "not_keys.txt"
	writeLeakFile(t, dir, notKeysFile, notKeyLines.String())

	findings := runGitleaks(t, tool, dir)

	found := make(map[place]bool)
	for _, f := range findings {
		name := filepath.Base(f.File)
		if name == notKeysFile {
			what := "a near miss"
			for _, nk := range notKeys {
				if strings.Contains(nk.s, f.Secret) {
					what = nk.name
					break
				}
			}
			t.Errorf("%s reports %q (%s), which is not a key", f.RuleID, f.Secret, what)
			continue
		}
		k, err := ParseKey(f.Secret)
		if err != nil {
			t.Errorf("%s reports %q in %s, which is not a whole key (match %q)", f.RuleID, f.Secret, name, f.Match)
			continue
		}
		if rule := gitleaksRules[k.Type]; f.RuleID != rule {
			t.Errorf("%s reports %s key %q in %s; want rule %s", f.RuleID, k.Type, f.Secret, name, rule)
			continue
		}
		found[place{name, f.Secret}] = true
	}
	for _, p := range want {
		if !found[p] {
			k, _ := ParseKey(p.key)
			t.Errorf("%s: %s finds no %s key %s", p.file, gitleaksRules[k.Type], k.Prefix(), p.key)
		}
	}
}
