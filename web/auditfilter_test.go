package web

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"keyport"
	"keyport/store"
	"keyport/views"
)

func TestParseAuditFilter(t *testing.T) {
	march := func(d int) time.Time { return time.Date(2024, 3, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		query  string
		want   store.AuditFilter
		errors map[string]string
	}{
		{"", store.AuditFilter{}, nil},
		{"actor=+Ada@&action=key.created&account=7&from=2024-03-01&to=2024-03-31",
			store.AuditFilter{Actor: "Ada@", Action: "key.created", AccountID: 7, From: march(1), To: time.Date(2024, 3, 31, 0, 0, 0, 0, time.UTC)}, nil},
		{"from=2024-03-02&to=2024-03-02", store.AuditFilter{From: march(2), To: march(2)}, nil},
		{"merchant=platform", store.AuditFilter{Platform: true}, nil},
		{"merchant=12&before=1700000000.40", store.AuditFilter{MerchantID: 12, Page: store.PageRequest{Cursor: store.Cursor{Key: 1700000000, ID: 40}, Before: true}}, nil},
		{"after=1700000000.40", store.AuditFilter{Page: store.PageRequest{Cursor: store.Cursor{Key: 1700000000, ID: 40}}}, nil},
		{"before=1.40&after=1.10", store.AuditFilter{Page: store.PageRequest{Cursor: store.Cursor{Key: 1, ID: 40}, Before: true}}, nil},
		{"before=-3&after=x", store.AuditFilter{}, nil},
		{"from=2024-03-05&to=2024-03-04", store.AuditFilter{From: march(5), To: march(4)}, map[string]string{"to": "on or after"}},
		{"from=yesterday&to=2024-02-30", store.AuditFilter{}, map[string]string{"from": "YYYY-MM-DD", "to": "YYYY-MM-DD"}},
		{"from=03/01/2024", store.AuditFilter{}, map[string]string{"from": "Start date"}},
		{"account=acct_1&merchant=0", store.AuditFilter{}, map[string]string{"account": "Choose", "merchant": "Choose"}},
		{"actor=" + strings.Repeat("a", 201) + "&action=%00", store.AuditFilter{}, map[string]string{"actor": "at most 200", "action": "not allowed"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := url.ParseQuery(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			got, err := parseAuditFilter(q)
			if got != tt.want {
				t.Fatalf("filter %+v, want %+v", got, tt.want)
			}
			var ve *keyport.ValidationError
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
	f := store.AuditFilter{MerchantID: 3, AccountID: 9, Actor: "ada@acme.test", Action: "key.created",
		From: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 2, 0, 0, 0, 0, time.UTC),
		Page: store.PageRequest{Cursor: store.Cursor{Key: 1700000000, ID: 77}, Before: true}}
	back, err := parseAuditFilter(views.AuditQuery(f))
	if err != nil {
		t.Fatal(err)
	}
	f.Page = store.PageRequest{}
	if back != f {
		t.Fatalf("%+v came back as %+v", f, back)
	}
	if q := views.AuditQuery(store.AuditFilter{Platform: true, MerchantID: 3}).Encode(); q != "merchant=platform" {
		t.Fatalf("platform query %q", q)
	}
	if q := views.AuditQuery(store.AuditFilter{}).Encode(); q != "" {
		t.Fatalf("empty filter query %q", q)
	}
}
