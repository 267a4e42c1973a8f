package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"keyport"
)

// filterFixture is a shipment the filter tests store, named by its tracking number.
type filterFixture struct {
	tracking string
	mode     keyport.Mode
	status   string
	created  time.Time
}

func TestShipmentFilterSelectsTheSameRowsOnPagesAndInTheExport(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	other := otherMerchant(t, db)
	day := func(d, hour int) time.Time { return time.Date(2024, 3, d, hour, 0, 0, 0, time.UTC) }
	fixtures := []filterFixture{
		{"KPA100", keyport.ModeTest, keyport.ShipmentCreated, day(1, 0)},
		{"KPA101", keyport.ModeTest, keyport.ShipmentDelivered, day(1, 23)},
		{"KPA200", keyport.ModeTest, keyport.ShipmentInTransit, day(2, 12)},
		{"KPB100", keyport.ModeTest, keyport.ShipmentDelivered, day(3, 0)},
		{"KPB101", keyport.ModeTest, keyport.ShipmentCancelled, day(4, 8)},
		{"KPA102", keyport.ModeLive, keyport.ShipmentDelivered, day(2, 9)},
	}
	ids := map[string]int64{}
	for _, f := range fixtures {
		s, err := db.CreateShipment(ctx, keyport.Shipment{AccountID: res.Account.ID, MerchantID: res.Merchant.ID, Mode: f.mode,
			Courier: "dpd", ServiceCode: "DPD_NEXT_DAY", Status: f.status, TrackingNumber: f.tracking, LabelRef: "L", AmountMinor: 675,
			Currency: "GBP", FromPostcode: "M1 1AE", FromCountry: "GB", ToPostcode: "SW1A 1AA", ToCountry: "GB", WeightGrams: 900,
			CreatedAt: f.created}, 0)
		if err != nil {
			t.Fatal(err)
		}
		ids[f.tracking] = s.ID
	}
	if _, err := db.CreateShipment(ctx, keyport.Shipment{AccountID: other.Account.ID, MerchantID: other.Merchant.ID, Mode: keyport.ModeTest,
		Courier: "dpd", ServiceCode: "DPD_NEXT_DAY", Status: keyport.ShipmentDelivered, TrackingNumber: "KPA199", LabelRef: "L",
		Currency: "GBP", FromPostcode: "M1", FromCountry: "GB", ToPostcode: "SW1", ToCountry: "GB", WeightGrams: 1, CreatedAt: day(1, 12)}, 0); err != nil {
		t.Fatal(err)
	}

	test := keyport.ModeTest
	tests := []struct {
		name   string
		filter ShipmentFilter
		want   []string
	}{
		{"every test shipment", ShipmentFilter{Mode: test}, []string{"KPB101", "KPB100", "KPA200", "KPA101", "KPA100"}},
		{"every live shipment", ShipmentFilter{Mode: keyport.ModeLive}, []string{"KPA102"}},
		{"tracking prefix", ShipmentFilter{Mode: test, Tracking: "KPA1"}, []string{"KPA101", "KPA100"}},
		{"whole tracking number", ShipmentFilter{Mode: test, Tracking: "KPB100"}, []string{"KPB100"}},
		{"tracking number in lower case", ShipmentFilter{Mode: test, Tracking: "kpb1"}, []string{"KPB101", "KPB100"}},
		{"tracking number of the other mode", ShipmentFilter{Mode: test, Tracking: "KPA102"}, nil},
		{"tracking number of another merchant", ShipmentFilter{Mode: test, Tracking: "KPA199"}, nil},
		{"tracking number with LIKE wildcards", ShipmentFilter{Mode: test, Tracking: "KP_1%"}, nil},
		{"status", ShipmentFilter{Mode: test, Status: keyport.ShipmentDelivered}, []string{"KPB100", "KPA101"}},
		{"from a day", ShipmentFilter{Mode: test, From: day(3, 0)}, []string{"KPB101", "KPB100"}},
		{"to a day, inclusive", ShipmentFilter{Mode: test, To: day(1, 0)}, []string{"KPA101", "KPA100"}},
		{"one day", ShipmentFilter{Mode: test, From: day(2, 0), To: day(2, 0)}, []string{"KPA200"}},
		{"status and dates", ShipmentFilter{Mode: test, Status: keyport.ShipmentDelivered, From: day(1, 0), To: day(2, 0)}, []string{"KPA101"}},
		{"every filter", ShipmentFilter{Mode: test, Tracking: "KPB", Status: keyport.ShipmentCancelled, From: day(4, 0), To: day(4, 0)},
			[]string{"KPB101"}},
		{"nothing matches", ShipmentFilter{Mode: test, Tracking: "KPB", Status: keyport.ShipmentInTransit}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []int64
			for _, tracking := range tt.want {
				want = append(want, ids[tracking])
			}
			page, err := db.ListShipments(ctx, res.Account.ID, tt.filter, 50)
			if err != nil {
				t.Fatal(err)
			}
			if got := shipmentIDs(page.Items); !slices.Equal(got, want) {
				t.Errorf("page %v, want %v", got, want)
			}
			if wantTotal := map[keyport.Mode]int{keyport.ModeTest: 5, keyport.ModeLive: 1}[tt.filter.Mode]; page.Total != wantTotal {
				t.Errorf("total %d, want %d", page.Total, wantTotal)
			}
			var exported []keyport.Shipment
			if err := db.ExportShipments(ctx, res.Account.ID, tt.filter, func(s keyport.Shipment) error {
				exported = append(exported, s)
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if got := shipmentIDs(exported); !slices.Equal(got, want) {
				t.Errorf("export %v, want %v", got, want)
			}
		})
	}
}

func TestShipmentFilterPagesKeepTheFilterAndTheExportReadsEveryBatch(t *testing.T) {
	db := openTestDB(t)
	ctx := context.Background()
	res := signedUp(t, db)
	statuses := []string{keyport.ShipmentDelivered, keyport.ShipmentCreated}
	var delivered []int64
	for i := range 2*shipmentExportBatch + 10 {
		tn, _ := keyport.NewTrackingNumber()
		s, err := db.CreateShipment(ctx, keyport.Shipment{AccountID: res.Account.ID, MerchantID: res.Merchant.ID, Mode: keyport.ModeTest,
			Courier: "dpd", ServiceCode: "DPD_NEXT_DAY", Status: statuses[i%2], TrackingNumber: tn, LabelRef: "L", Currency: "GBP",
			FromPostcode: "M1", FromCountry: "GB", ToPostcode: "SW1", ToCountry: "GB", WeightGrams: 1}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status == keyport.ShipmentDelivered {
			delivered = append(delivered, s.ID)
		}
	}
	slices.Reverse(delivered)

	f := ShipmentFilter{Mode: keyport.ModeTest, Status: keyport.ShipmentDelivered}
	var paged []int64
	for pages := 0; ; pages++ {
		if pages > len(delivered)/200+1 {
			t.Fatal("the pages never end")
		}
		page, err := db.ListShipments(ctx, res.Account.ID, f, 200)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, shipmentIDs(page.Items)...)
		if !page.HasNext() {
			break
		}
		f.Page = page.Next
	}
	if !slices.Equal(paged, delivered) {
		t.Fatalf("paged through %d delivered shipments, want %d in order", len(paged), len(delivered))
	}

	back, err := db.ListShipments(ctx, res.Account.ID, ShipmentFilter{Mode: keyport.ModeTest, Status: keyport.ShipmentDelivered,
		Page: PageRequest{Cursor: Cursor{ID: delivered[200]}}}, 200)
	if err != nil {
		t.Fatal(err)
	}
	if got := shipmentIDs(back.Items); !slices.Equal(got, delivered[:200]) || back.HasPrev() {
		t.Fatalf("the page before the second one: %d rows, more before: %v", len(got), back.HasPrev())
	}

	var exported []int64
	f.Page = PageRequest{Cursor: Cursor{ID: delivered[3]}, Before: true}
	if err := db.ExportShipments(ctx, res.Account.ID, f, func(s keyport.Shipment) error {
		exported = append(exported, s.ID)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(exported, delivered) {
		t.Fatalf("exported %d delivered shipments, want every one of %d, whatever the cursor", len(exported), len(delivered))
	}
}

func shipmentIDs(list []keyport.Shipment) []int64 {
	var ids []int64
	for _, s := range list {
		ids = append(ids, s.ID)
	}
	return ids
}
