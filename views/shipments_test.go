package views

import (
	"testing"
	"time"

	"keyport"
	"keyport/store"
)

func TestShipmentsQueryKeepsTheModeAndLeavesOutEmptyFilters(t *testing.T) {
	day := time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		filter store.ShipmentFilter
		want   string
	}{
		{store.ShipmentFilter{Mode: keyport.ModeTest}, "mode=test"},
		{store.ShipmentFilter{Mode: keyport.ModeLive, Status: keyport.ShipmentDelivered}, "mode=live&status=delivered"},
		{store.ShipmentFilter{Mode: keyport.ModeTest, Tracking: "KP12", From: day, To: day.AddDate(0, 0, 2),
			Page: store.PageRequest{Cursor: store.Cursor{ID: 9}, Before: true}}, "from=2024-03-05&mode=test&to=2024-03-07&tracking=KP12"},
	}
	for _, tt := range tests {
		if got := ShipmentsQuery(tt.filter).Encode(); got != tt.want {
			t.Errorf("ShipmentsQuery(%+v) = %q, want %q", tt.filter, got, tt.want)
		}
	}
}

func TestShipmentStatusChoicesNameEveryStatus(t *testing.T) {
	choices := ShipmentStatusChoices()
	if len(choices) != len(keyport.ShipmentStatuses)+1 || choices[0].Value != "" {
		t.Fatalf("choices %v", choices)
	}
	for i, status := range keyport.ShipmentStatuses {
		if c := choices[i+1]; c.Value != status || c.Label == status {
			t.Errorf("choice %v for status %q", c, status)
		}
	}
}
