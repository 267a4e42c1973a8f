package keyport

import (
	"testing"
)

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
