package keyport

import (
	"strings"
	"testing"
)

func TestNewAccountKeyIsValidAndFresh(t *testing.T) {
	a, err := NewAccountKey()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewAccountKey()
	if msg := CheckAccountKey(a); msg != "" || a == b || !strings.HasPrefix(a, "acct_") || len(a) != 29 {
		t.Fatalf("account keys %q and %q: %s", a, b, msg)
	}
}

func TestNewAccountValidate(t *testing.T) {
	tests := []struct {
		name   string
		in     NewAccount
		fields []string
	}{
		{"valid with key", NewAccount{Name: "EU warehouse", AccountKey: "acct_abcdefghijklmnopqrstuvwx"}, nil},
		{"valid without key", NewAccount{Name: "EU warehouse"}, nil},
		{"name trimmed to empty", NewAccount{Name: "   "}, []string{"name"}},
		{"name too long", NewAccount{Name: strings.Repeat("n", 101)}, []string{"name"}},
		{"name of 100", NewAccount{Name: strings.Repeat("é", 100)}, nil},
		{"name with NUL", NewAccount{Name: "a\x00b"}, []string{"name"}},
		{"invalid UTF-8", NewAccount{Name: "a\xffb"}, []string{"name"}},
		{"escape sequence", NewAccount{Name: "a\x1b[31mb"}, []string{"name"}},
		{"line break", NewAccount{Name: "a\r\nb"}, []string{"name"}},
		{"key without prefix", NewAccount{Name: "x", AccountKey: "abcdefghijklmnopqrstuvwxyz12"}, []string{"account_key"}},
		{"key too short", NewAccount{Name: "x", AccountKey: "acct_abc"}, []string{"account_key"}},
		{"key with symbols", NewAccount{Name: "x", AccountKey: "acct_abcdefghijklmnopqrstuv<>"}, []string{"account_key"}},
		{"both bad", NewAccount{Name: "", AccountKey: "sk_test_x"}, []string{"name", "account_key"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.in.Normalize()
			err := tt.in.Validate()
			wantFields(t, err, tt.fields)
		})
	}
}

func wantFields(t *testing.T, err error, fields []string) {
	t.Helper()
	if len(fields) == 0 {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("error %v, want a ValidationError on %v", err, fields)
	}
	if len(ve.Fields) != len(fields) {
		t.Fatalf("fields %v, want %v", ve.Fields, fields)
	}
	for _, f := range fields {
		if ve.Fields[f] == "" {
			t.Fatalf("no message for %s in %v", f, ve.Fields)
		}
	}
}

func TestCheckDeleteConfirmation(t *testing.T) {
	for typed, ok := range map[string]bool{"EU warehouse": true, " EU warehouse ": true, "eu warehouse": false, "": false, "EU": false} {
		if got := CheckDeleteConfirmation("EU warehouse", typed) == ""; got != ok {
			t.Errorf("%q: accepted = %v", typed, got)
		}
	}
}

func TestNewTrackingNumber(t *testing.T) {
	a, _ := NewTrackingNumber()
	b, _ := NewTrackingNumber()
	if a == b || len(a) != 18 || !strings.HasPrefix(a, "KP") || strings.Trim(a[2:], "0123456789") != "" {
		t.Fatalf("tracking numbers %q %q", a, b)
	}
}
