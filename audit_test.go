package keyport

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestParseAuditFilter(t *testing.T) {
	march := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		query  string
		want   AuditFilter
		errors map[string]string
	}{
		{"", AuditFilter{}, nil},
		{"actor=+Ada@&action=key.created&account=7&from=2024-03-01&to=2024-03-31",
			AuditFilter{Actor: "Ada@", Action: "key.created", AccountID: 7, From: march(1), To: time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)}, nil},
		{"from=2024-03-02&to=2024-03-02", AuditFilter{From: march(2), To: march(2)}, nil},
		{"merchant=platform", AuditFilter{Platform: true}, nil},
		{"merchant=12&before=1700000000.40", AuditFilter{MerchantID: 12, Page: PageRequest{Cursor: Cursor{Key: 1700000000, ID: 40}, Before: true}}, nil},
		{"after=1700000000.40", AuditFilter{Page: PageRequest{Cursor: Cursor{Key: 1700000000, ID: 40}}}, nil},
		{"before=1.40&after=1.10", AuditFilter{Page: PageRequest{Cursor: Cursor{Key: 1, ID: 40}, Before: true}}, nil},
		{"before=-3&after=x", AuditFilter{}, nil},
		{"from=2024-03-05&to=2024-03-04", AuditFilter{From: march(5), To: march(4)}, map[string]string{"to": "on or after"}},
		{"from=yesterday&to=2024-02-30", AuditFilter{}, map[string]string{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}},
		{"from=03/01/2024", AuditFilter{}, map[string]string{"from": "Start date"}},
		{"account=acct_1&merchant=0", AuditFilter{}, map[string]string{"account": "Choose", "merchant": "Choose"}},
		{"actor=" + strings.Repeat("a", 201) + "&action=%00", AuditFilter{}, map[string]string{"actor": "at most 200", "action": "not allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ParseAuditFilter(q)
			if got != tt.want {
				t.Fatalf("filter %+v, want %+v", got, tt.want)
			}
			var ve *ValidationError
			if tt.errors == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				return
			}
			if !errors.As(err, &ve) || len(ve.Fields) != len(tt.errors) {
				t.Fatalf("err = %v, want messages on %v", err, tt.errors)
			}
			for field, part := range tt.errors {
				if !strings.Contains(ve.Fields[field], part) {
					t.Fatalf("%s: %q lacks %q", field, ve.Fields[field], part)
				}
			}
		})
	}
}

func TestAuditFilterQueryRoundTripsWithoutTheCursor(t *testing.T) {
	f := AuditFilter{MerchantID: 3, AccountID: 9, Actor: "ada@acme.test", Action: "key.created",
		From: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC),
		Page: PageRequest{Cursor: Cursor{Key: 1700000000, ID: 77}, Before: true}}
	back, err := ParseAuditFilter(f.Query())
	if err != nil {
		t.Fatal(err)
	}
	f.Page = PageRequest{}
	if back != f {
		t.Fatalf("%+v came back as %+v", f, back)
	}
	if q := (AuditFilter{Platform: true, MerchantID: 3}).Query().Encode(); q != "merchant=platform" {
		t.Fatalf("platform query %q", q)
	}
	if q := (AuditFilter{}).Query().Encode(); q != "" {
		t.Fatalf("empty filter query %q", q)
	}
}

func TestCSVCellDefusesFormulas(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"ada@acme.test", "ada@acme.test"},
		{"=HYPERLINK(\"http://evil.test\")", "'=HYPERLINK(\"http://evil.test\")"},
		{"+1+2", "'+1+2"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\t=1", "'\t=1"},
		{"\r=1", "'\r=1"},
		{"a=1", "a=1"},
		{" =1", " =1"},
		{"sk_live_ij30********bvrw", "sk_live_ij30********bvrw"},
	}
	for _, tt := range tests {
		if got := CSVCell(tt.in); got != tt.want {
			t.Errorf("CSVCell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestAuditScopeOfRole(t *testing.T) {
	for r, want := range map[Role]bool{RoleOwner: true, RoleReviewer: true, RoleAdmin: true, RoleDeveloper: false, "": false} {
		if r.CanReadAudit() != want {
			t.Fatalf("%q may read the audit log: %v", r, !want)
		}
	}
	if s := AuditScopeOf(&User{Role: RoleAdmin}); !s.All {
		t.Fatal("an admin's scope is not every event")
	}
	for _, r := range []Role{RoleOwner, RoleReviewer, RoleDeveloper} {
		if s := AuditScopeOf(&User{Role: r, MerchantID: 5}); s.All || s.MerchantID != 5 {
			t.Fatalf("%s scope %+v", r, s)
		}
	}
}

func TestAuditLabels(t *testing.T) {
	if got := AuditActionLabel("key.created"); got != "Key created" {
		t.Fatalf("label %q", got)
	}
	if got := AuditActionLabel("something.new"); got != "something.new" {
		t.Fatalf("unknown action shown as %q", got)
	}
	if got := AuditObjectLabel("api_key", 12); got != "Key #12" {
		t.Fatalf("object %q", got)
	}
	if got := AuditObjectLabel("settings", 0); got != "Settings" {
		t.Fatalf("object %q", got)
	}
}

func TestEveryAuditActionHasAUniqueNameAndALabel(t *testing.T) {
	seen := map[string]bool{}
	for _, a := range auditActions {
		if a.String() == "" || a.Label() == "" || a.Label() == a.String() {
			t.Errorf("action %q has label %q", a.String(), a.Label())
		}
		if seen[a.String()] {
			t.Errorf("action %q is declared twice", a.String())
		}
		seen[a.String()] = true
		if got := AuditActionLabel(a.String()); got != a.Label() {
			t.Errorf("AuditActionLabel(%q) = %q", a.String(), got)
		}
	}
	if len(auditActions) < 30 {
		t.Fatalf("only %d actions declared", len(auditActions))
	}
}
