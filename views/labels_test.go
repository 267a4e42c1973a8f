package views

import (
	"testing"
	"time"

	"keyport"
)

func TestAccessSummary(t *testing.T) {
	for want, k := range map[string]keyport.APIKey{
		"Unrestricted":     {Type: keyport.KeySecret, Access: keyport.AccessFull},
		"Public endpoints": {Type: keyport.KeyPublishable, Access: keyport.AccessFull},
		"1 permission":     {Type: keyport.KeySecret, Access: keyport.AccessRestricted, Permissions: []string{"shipments:read"}},
		"3 permissions":    {Type: keyport.KeyPublishable, Access: keyport.AccessRestricted, Permissions: keyport.PermissionCatalog.Public()},
	} {
		if got := AccessSummary(k); got != want {
			t.Errorf("%+v: %q, want %q", k, got, want)
		}
	}
}

func TestShipmentStatusLabelAndBadge(t *testing.T) {
	for _, tc := range []struct{ status, label, class string }{
		{keyport.ShipmentCreated, "Label created", "badge"},
		{keyport.ShipmentInTransit, "In transit", "badge badge-info"},
		{keyport.ShipmentDelivered, "Delivered", "badge badge-ok"},
		{keyport.ShipmentCancelled, "Cancelled", "badge badge-muted"},
		{"lost", "lost", "badge"},
	} {
		if got := ShipmentStatusLabel(tc.status); got != tc.label {
			t.Errorf("ShipmentStatusLabel(%q) = %q, want %q", tc.status, got, tc.label)
		}
		if got := ShipmentBadgeClass(tc.status); got != tc.class {
			t.Errorf("ShipmentBadgeClass(%q) = %q, want %q", tc.status, got, tc.class)
		}
	}
}

func TestAuditObjectLabel(t *testing.T) {
	for _, tc := range []struct {
		objectType string
		id         int64
		want       string
	}{
		{"api_key", 12, "Key #12"},
		{"settings", 0, "Settings"},
		{"something_new", 3, "something_new #3"},
	} {
		if got := AuditObjectLabel(tc.objectType, tc.id); got != tc.want {
			t.Errorf("AuditObjectLabel(%q, %d) = %q, want %q", tc.objectType, tc.id, got, tc.want)
		}
	}
}

func TestAgesAndCountsReadAsEnglish(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct{ got, want string }{
		{Age(now.Add(-20*time.Second), now), "less than a minute"},
		{Age(now.Add(-time.Minute), now), "1 minute"},
		{Age(now.Add(-3*time.Hour), now), "3 hours"},
		{Ago(now.Add(-20*time.Second), now), "just now"},
		{Count(1, "test shipment"), "1 test shipment"},
		{Count(0, "test shipment"), "0 test shipments"},
		{ModeLabel("test"), "Test"},
		{ModeLabel("live"), "Live"},
	}
	for _, tc := range cases {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
