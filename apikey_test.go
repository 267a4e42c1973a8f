package keyport

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseExpiry(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		choice, date string
		want         time.Time
		msg          string
	}{
		{"", "", time.Time{}, ""},
		{"never", "", time.Time{}, ""},
		{"never", "2030-01-01", time.Time{}, "expiry_date: A date applies only to “On a date…”"},
		{"30", "2030-01-01", time.Time{}, "expiry_date: A date applies only"},
		{"7", "", now.Add(7 * 24 * time.Hour), ""},
		{"90", "", now.Add(90 * 24 * time.Hour), ""},
		{"date", "2026-12-31", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{"date", " 2026-12-31 ", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), ""},
		{"date", "", time.Time{}, "expiry_date: Enter the expiry date as YYYY-MM-DD"},
		{"date", "31/12/2026", time.Time{}, "YYYY-MM-DD"},
		{"date", "2026-11-22", time.Time{}, "in the future"},
		{"date", "2040-01-01", time.Time{}, "within 5 years"},
		{"365", "", time.Time{}, "expiry: Choose an expiry"},
		{"-7", "", time.Time{}, "Choose an expiry"},
	}
	for _, tc := range cases {
		got, err := ParseExpiry(tc.choice, tc.date, now)
		msg := ""
		if err != nil {
			msg = err.Error()
		}
		if !got.Equal(tc.want) || (tc.msg == "") != (msg == "") || !strings.Contains(msg, tc.msg) {
			t.Errorf("ParseExpiry(%q, %q) = %v, %q; want %v, %q", tc.choice, tc.date, got, msg, tc.want, tc.msg)
		}
	}
}

func TestKeyStatusAndCap(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		key    APIKey
		status KeyStatus
		counts bool
	}{
		{"active", APIKey{Type: KeySecret}, KeyActive, true},
		{"expires later", APIKey{Type: KeySecret, ExpiresAt: now.Add(time.Second)}, KeyActive, true},
		{"expired now", APIKey{Type: KeySecret, ExpiresAt: now}, KeyExpired, false},
		{"revoked", APIKey{Type: KeySecret, RevokedAt: now.Add(-time.Hour)}, KeyRevoked, false},
		{"revoked and expired", APIKey{Type: KeySecret, RevokedAt: now.Add(-time.Hour), ExpiresAt: now.Add(-time.Minute)}, KeyRevoked, false},
		{"rolled in grace", APIKey{Type: KeySecret, RolledAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}, KeyActive, false},
		{"publishable", APIKey{Type: KeyPublishable}, KeyActive, false},
	}
	for _, tc := range cases {
		if got := tc.key.StatusAt(now); got != tc.status {
			t.Errorf("%s: status %s, want %s", tc.name, got, tc.status)
		}
		if got := tc.key.CountsTowardCap(now); got != tc.counts {
			t.Errorf("%s: counts %v, want %v", tc.name, got, tc.counts)
		}
	}
}

func TestCapStatusCheck(t *testing.T) {
	cases := []struct {
		name string
		st   CapStatus
		full bool
	}{
		{"empty", CapStatus{Mode: ModeTest, Cap: 2}, false},
		{"one used", CapStatus{Mode: ModeTest, Used: 1, Cap: 2}, false},
		{"at cap", CapStatus{Mode: ModeLive, Used: 2, Cap: 2}, true},
		{"over a lowered cap", CapStatus{Mode: ModeLive, Used: 3, Cap: 1}, true},
		{"no cap", CapStatus{Mode: ModeTest, Used: 3, Cap: 0}, false},
	}
	for _, tc := range cases {
		if got := tc.st.Full(); got != tc.full {
			t.Errorf("%s: full %v, want %v", tc.name, got, tc.full)
		}
		err := tc.st.Check()
		var ce *CapError
		if tc.full != errors.As(err, &ce) || (tc.full && (ce.Cap != tc.st.Cap || ce.Mode != tc.st.Mode)) {
			t.Errorf("%s: Check() = %v", tc.name, err)
		}
	}
	merchant := (&CapError{Cap: 2, Mode: ModeLive}).Error()
	admin := (&CapError{Cap: 2, Mode: ModeLive, Approving: true}).Error()
	if merchant != "Max of 2 live tokens reached. Remove a token before creating another." || !strings.Contains(admin, "raise the token cap") {
		t.Errorf("messages: %q / %q", merchant, admin)
	}
}

func TestNewKeyDefaultsAndSlots(t *testing.T) {
	cases := []struct {
		in     NewKey
		typ    KeyType
		access Access
		slot   bool
	}{
		{NewKey{}, KeySecret, AccessFull, true},
		{NewKey{Type: KeyPublishable}, KeyPublishable, AccessFull, false},
		{NewKey{Access: AccessRestricted}, KeySecret, AccessRestricted, true},
		{NewKey{Type: KeySecret, Replaces: 7}, KeySecret, AccessFull, false},
	}
	for _, tc := range cases {
		got := tc.in.WithDefaults()
		if got.Type != tc.typ || got.Access != tc.access || tc.in.TakesSlot() != tc.slot {
			t.Errorf("%+v: defaults %s/%s, slot %v", tc.in, got.Type, got.Access, tc.in.TakesSlot())
		}
	}
	if k := (LiveKeyRequest{}).AsKey(); k.Type != KeySecret || k.Access != AccessFull {
		t.Errorf("request without type: %s/%s", k.Type, k.Access)
	}
}

func TestRequestTransitions(t *testing.T) {
	states := []RequestState{RequestPending, RequestNeedsInfo, RequestApproved, RequestIssued, RequestRejected, RequestCancelled}
	allowed := map[[2]RequestState]bool{
		{RequestPending, RequestNeedsInfo}: true, {RequestPending, RequestApproved}: true, {RequestPending, RequestRejected}: true,
		{RequestPending, RequestCancelled}: true, {RequestNeedsInfo, RequestPending}: true, {RequestNeedsInfo, RequestRejected}: true,
		{RequestNeedsInfo, RequestCancelled}: true, {RequestApproved, RequestIssued}: true, {RequestApproved, RequestCancelled}: true,
	}
	for _, from := range states {
		for _, to := range states {
			if got := CanMove(from, to); got != allowed[[2]RequestState{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
}

func TestLiveKeyRequestInputValidate(t *testing.T) {
	good := LiveKeyRequestInput{TokenName: "Prod", IntendedUse: strings.Repeat("u", MinIntendedUse), Website: "https://a.example", MonthlyShipments: " 250 "}
	if n, err := good.Validate(); err != nil || n != 250 {
		t.Fatalf("good input: %d, %v", n, err)
	}
	lines := good
	lines.IntendedUse = "Labels for our shop.\r\n\tAnd returns."
	if _, err := lines.Validate(); err != nil {
		t.Fatalf("intended use on several lines: %v", err)
	}
	cases := []struct {
		name  string
		edit  func(*LiveKeyRequestInput)
		field string
	}{
		{"short use", func(in *LiveKeyRequestInput) { in.IntendedUse = strings.Repeat("u", MinIntendedUse-1) }, "intended_use"},
		{"spaces pad use", func(in *LiveKeyRequestInput) { in.IntendedUse = "   short use   " + strings.Repeat(" ", 20) }, "intended_use"},
		{"ftp site", func(in *LiveKeyRequestInput) { in.Website = "ftp://a.example" }, "website"},
		{"no host", func(in *LiveKeyRequestInput) { in.Website = "https://" }, "website"},
		{"credentials in URL", func(in *LiveKeyRequestInput) { in.Website = "https://user:pw@a.example" }, "website"},
		{"decimal shipments", func(in *LiveKeyRequestInput) { in.MonthlyShipments = "2.5" }, "monthly_shipments"},
		{"huge shipments", func(in *LiveKeyRequestInput) { in.MonthlyShipments = "100000001" }, "monthly_shipments"},
		{"nul in name", func(in *LiveKeyRequestInput) { in.TokenName = "a\x00b" }, "token_name"},
		{"line break in name", func(in *LiveKeyRequestInput) { in.TokenName = "a\nb" }, "token_name"},
		{"bell in use", func(in *LiveKeyRequestInput) { in.IntendedUse += "\a" }, "intended_use"},
	}
	for _, tc := range cases {
		in := good
		tc.edit(&in)
		_, err := in.Validate()
		ve, ok := err.(*ValidationError)
		if !ok || ve.Fields[tc.field] == "" || len(ve.Fields) != 1 {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
}
