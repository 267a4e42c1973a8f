package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"keyport"
	"keyport/store"
)

// addShipment stores one shipment on the merchant's first account, with the
// parcel details of addShipments unless s sets them, and returns its id.
func (a *testApp) addShipment(res store.SignupResult, s keyport.Shipment) int64 {
	a.t.Helper()
	s.AccountID, s.MerchantID = res.Account.ID, res.Merchant.ID
	if s.Mode == "" {
		s.Mode = keyport.ModeTest
	}
	if s.TrackingNumber == "" {
		s.TrackingNumber, _ = keyport.NewTrackingNumber()
	}
	if s.FromPostcode == "" {
		s.FromPostcode = "M1 1AE"
	}
	s.Courier, s.ServiceCode, s.LabelRef, s.AmountMinor, s.Currency = "royal_mail", "TPN24", "LBL-"+s.TrackingNumber, 395, "GBP"
	s.FromCountry, s.ToPostcode, s.ToCountry, s.WeightGrams = "GB", "SW1A 1AA", "GB", 750
	out, err := a.db.CreateShipment(context.Background(), s, 0)
	if err != nil {
		a.t.Fatal(err)
	}
	return out.ID
}

var shipmentRow = regexp.MustCompile(`<tr id="shipment-(\d+)">`)

// shipmentRows are the ids of the shipments a page lists, in order.
func shipmentRows(t *testing.T, body string) []int64 {
	t.Helper()
	var ids []int64
	for _, m := range shipmentRow.FindAllStringSubmatch(body, -1) {
		id, err := strconv.ParseInt(m[1], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	return ids
}

// filterShipments stores shipments of several tracking numbers, statuses,
// days and modes, and returns their ids by tracking number.
func filterShipments(app *testApp, res store.SignupResult) map[string]int64 {
	day := func(d, hour int) time.Time { return time.Date(2024, 3, d, hour, 0, 0, 0, time.UTC) }
	ids := map[string]int64{}
	for _, s := range []keyport.Shipment{
		{TrackingNumber: "KPA100", Status: keyport.ShipmentCreated, CreatedAt: day(1, 0)},
		{TrackingNumber: "KPA101", Status: keyport.ShipmentDelivered, CreatedAt: day(1, 23)},
		{TrackingNumber: "KPA200", Status: keyport.ShipmentInTransit, CreatedAt: day(2, 12)},
		{TrackingNumber: "KPB100", Status: keyport.ShipmentDelivered, CreatedAt: day(3, 0)},
		{TrackingNumber: "KPB101", Status: keyport.ShipmentCancelled, CreatedAt: day(4, 8)},
		{TrackingNumber: "KPA102", Status: keyport.ShipmentDelivered, CreatedAt: day(2, 9), Mode: keyport.ModeLive},
	} {
		ids[s.TrackingNumber] = app.addShipment(res, s)
	}
	return ids
}

func TestShipmentsPageFilters(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	ids := filterShipments(app, res)
	base := accountPath(res) + "/shipments"

	tests := []struct {
		name  string
		query string
		want  []string
		// form lists what the filter form must show of the query.
		form []string
	}{
		{"no filter", "", []string{"KPB101", "KPB100", "KPA200", "KPA101", "KPA100"}, nil},
		{"live mode", "mode=live", []string{"KPA102"}, []string{`name="mode" value="live"`}},
		{"tracking prefix", "tracking=KPA1", []string{"KPA101", "KPA100"}, []string{`id="f-tracking" name="tracking" type="search" value="KPA1"`}},
		{"whole tracking number", "tracking=KPB100", []string{"KPB100"}, nil},
		{"tracking number in lower case, trimmed", "tracking=+kpb1+", []string{"KPB101", "KPB100"}, []string{`value="KPB1"`}},
		{"tracking number of the other mode", "tracking=KPA102", nil, nil},
		{"status", "status=delivered", []string{"KPB100", "KPA101"}, []string{`<option value="delivered" selected>Delivered</option>`}},
		{"from", "from=2024-03-03", []string{"KPB101", "KPB100"}, []string{`id="f-from" name="from" type="date" value="2024-03-03"`}},
		{"to, inclusive", "to=2024-03-01", []string{"KPA101", "KPA100"}, []string{`id="f-to" name="to" type="date" value="2024-03-01"`}},
		{"one day", "from=2024-03-02&to=2024-03-02", []string{"KPA200"}, nil},
		{"status and dates", "status=delivered&from=2024-03-01&to=2024-03-02", []string{"KPA101"}, nil},
		{"every filter", "mode=test&tracking=kpb&status=cancelled&from=2024-03-04&to=2024-03-04", []string{"KPB101"}, nil},
		{"live status", "mode=live&status=delivered", []string{"KPA102"}, nil},
		{"empty fields", "mode=test&tracking=&status=&from=&to=", []string{"KPB101", "KPB100", "KPA200", "KPA101", "KPA100"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := owner.getURL(base + "?" + tt.query)
			wantStatus(t, page, http.StatusOK)
			var want []int64
			for _, tracking := range tt.want {
				want = append(want, ids[tracking])
			}
			if got := shipmentRows(t, page.Body); !slices.Equal(got, want) {
				t.Fatalf("rows %v, want %v (%v)", got, want, tt.want)
			}
			wantContains(t, page.Body, tt.form...)
			q, _ := url.ParseQuery(tt.query)
			filtered := strings.TrimSpace(q.Get("tracking")+q.Get("status")+q.Get("from")+q.Get("to")) != ""
			if len(want) == 0 {
				wantContains(t, page.Body, "No shipment matches these filters.", ">Clear filters</a>")
			} else {
				wantContains(t, page.Body, `href="`+base+`/export.csv?`)
			}
			if strings.Contains(page.Body, ">Clear</a>") != filtered {
				t.Fatalf("Clear link shown: %v, want %v", !filtered, filtered)
			}
		})
	}

	_, other := app.merchant("Bolt", "owner@bolt.test")
	wantStatus(t, owner.get(fmt.Sprintf("/accounts/%d/shipments", other.Account.ID)), http.StatusNotFound)
	wantStatus(t, owner.getURL(base+"?mode=prod&status=delivered"), http.StatusNotFound)
}

func TestShipmentsFilterKeepsTheEmptyStatesApart(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	base := accountPath(res) + "/shipments"
	empty := owner.get(base)
	wantContains(t, empty.Body, "No test shipments on this account yet.")
	if strings.Contains(empty.Body, `aria-label="Filter shipments"`) {
		t.Fatal("a mode without shipments offers filters")
	}
	app.addShipments(res, keyport.ModeTest, 1)
	none := owner.getURL(base + "?mode=test&status=cancelled")
	wantStatus(t, none, http.StatusOK)
	wantContains(t, none.Body, "No shipment matches these filters.", `<a href="`+base+`?mode=test">Clear filters</a>`)
	if strings.Contains(none.Body, "on this account yet") || strings.Contains(none.Body, "Export CSV") {
		t.Fatal("the empty filtered list reads as an empty account or offers an export")
	}
}

func TestShipmentsPagesKeepTheFilter(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	var delivered []int64
	for i := range 130 {
		status := keyport.ShipmentInTransit
		if i%2 == 0 {
			status = keyport.ShipmentDelivered
		}
		id := app.addShipment(res, keyport.Shipment{Status: status, TrackingNumber: fmt.Sprintf("KP%06d", i)})
		if status == keyport.ShipmentDelivered {
			delivered = append(delivered, id)
		}
	}
	slices.Reverse(delivered)
	base := accountPath(res) + "/shipments"

	page := owner.getURL(base + "?status=delivered&from=2000-01-01")
	var listed []int64
	var pages []int
	for {
		wantStatus(t, page, http.StatusOK)
		rows := shipmentRows(t, page.Body)
		listed = append(listed, rows...)
		pages = append(pages, len(rows))
		if len(pages) > 1 && pagerLink(page.Body, "prev") == "" {
			t.Fatalf("page %d has no Previous", len(pages))
		}
		next := pagerLink(page.Body, "next")
		if next == "" {
			break
		}
		for _, part := range []string{"mode=test", "status=delivered", "from=2000-01-01", "before="} {
			if !strings.Contains(next, part) {
				t.Fatalf("Next %q drops %s", next, part)
			}
		}
		page = owner.getURL(next)
	}
	if !slices.Equal(pages, []int{50, 15}) || !slices.Equal(listed, delivered) {
		t.Fatalf("pages of %v rows; listed the delivered shipments in order: %v", pages, slices.Equal(listed, delivered))
	}
	wantContains(t, page.Body, "Shipments matching these filters, newest first, of 130 test shipments in all.")
	prev := pagerLink(page.Body, "prev")
	if !strings.Contains(prev, "status=delivered") {
		t.Fatalf("Previous %q drops the filter", prev)
	}
	if got := shipmentRows(t, owner.getURL(prev).Body); !slices.Equal(got, delivered[:50]) {
		t.Fatal("Previous is not the first page of the filter")
	}
	export := pagerExport(t, page.Body)
	if strings.Contains(export, "before=") || strings.Contains(export, "after=") || !strings.Contains(export, "status=delivered") {
		t.Fatalf("Export link %q", export)
	}
}

var exportLink = regexp.MustCompile(`href="([^"]*/export\.csv[^"]*)"`)

// pagerExport is the Export CSV link of a page.
func pagerExport(t *testing.T, body string) string {
	t.Helper()
	m := exportLink.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no Export CSV link")
	}
	return html.UnescapeString(m[1])
}

func TestShipmentsExportIsEveryFilteredShipmentAsSafeCSV(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	ids := filterShipments(app, res)
	evil := `=HYPERLINK("http://evil.test","click")`
	hostile := app.addShipment(res, keyport.Shipment{TrackingNumber: "KPC100", Status: keyport.ShipmentDelivered, FromPostcode: evil,
		CreatedAt: time.Date(2024, 3, 5, 10, 30, 0, 0, time.UTC)})
	for range 3 {
		app.addShipment(res, keyport.Shipment{Status: keyport.ShipmentCreated, CreatedAt: time.Date(2024, 3, 6, 0, 0, 0, 0, time.UTC)})
	}
	base := accountPath(res) + "/shipments"

	page := owner.getURL(base + "?status=delivered&before=999999999")
	export := pagerExport(t, page.Body)
	if export != base+"/export.csv?mode=test&status=delivered" {
		t.Fatalf("Export link %q", export)
	}
	res1 := owner.getURL(export)
	wantStatus(t, res1, http.StatusOK)
	if ct := res1.Header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	wantName := `attachment; filename="keyport-shipments-default-test-` + app.clock().UTC().Format("2006-01-02") + `.csv"`
	if cd := res1.Header.Get("Content-Disposition"); cd != wantName {
		t.Fatalf("Content-Disposition %q, want %q", cd, wantName)
	}
	if cc := res1.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("Cache-Control %q", cc)
	}
	records := readCSV(t, res1.Body)
	if got := strings.Join(records[0], ","); got != "id,created_at,mode,status,courier,service_code,tracking_number,"+
		"from_postcode,from_country,to_postcode,to_country,weight_grams,amount,currency" {
		t.Fatalf("header %s", got)
	}
	var got []string
	for _, r := range records[1:] {
		got = append(got, r[0])
	}
	want := []string{strconv.FormatInt(hostile, 10), strconv.FormatInt(ids["KPB100"], 10), strconv.FormatInt(ids["KPA101"], 10)}
	if !slices.Equal(got, want) {
		t.Fatalf("exported ids %v, want %v", got, want)
	}
	wantRow := []string{strconv.FormatInt(hostile, 10), "2024-03-05T10:30:00Z", "test", "delivered", "royal_mail", "TPN24", "KPC100",
		"'" + evil, "GB", "SW1A 1AA", "GB", "750", "3.95", "GBP"}
	if !slices.Equal(records[1], wantRow) {
		t.Fatalf("row\n%q\nwant\n%q", records[1], wantRow)
	}

	everything := readCSV(t, owner.getURL(base+"/export.csv").Body)
	if len(everything) != 1+9 {
		t.Fatalf("%d test shipments exported, want 9", len(everything)-1)
	}
	live := readCSV(t, owner.getURL(base+"/export.csv?mode=live&tracking=kpa").Body)
	if len(live) != 2 || live[1][6] != "KPA102" || live[1][2] != "live" {
		t.Fatalf("live export %q", live)
	}
	if cd := owner.getURL(base + "/export.csv?mode=live").Header.Get("Content-Disposition"); !strings.Contains(cd, "-default-live-") {
		t.Fatalf("live export's name %q", cd)
	}
	nothing := readCSV(t, owner.getURL(base+"/export.csv?tracking=KPZ").Body)
	if len(nothing) != 1 {
		t.Fatalf("an empty filter exported %d rows", len(nothing)-1)
	}

	_, other := app.merchant("Bolt", "owner@bolt.test")
	theirs := owner.get(fmt.Sprintf("/accounts/%d/shipments/export.csv", other.Account.ID))
	wantStatus(t, theirs, http.StatusNotFound)
	if strings.HasPrefix(theirs.Header.Get("Content-Type"), "text/csv") {
		t.Fatal("another merchant's account answered a CSV file")
	}
	wantStatus(t, owner.getURL(base+"/export.csv?mode=prod"), http.StatusNotFound)
}

func TestShipmentsFilterRefusesBadInputNextToTheField(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	filterShipments(app, res)
	base := accountPath(res) + "/shipments"
	tests := []struct {
		query, field, message string
		// kept is how the other fields must still read.
		kept []string
	}{
		{"tracking=KP+12", "tracking", "A tracking number has only letters, digits and hyphens.", nil},
		{"tracking=KP%25&status=delivered", "tracking", "A tracking number has only letters, digits and hyphens.",
			[]string{`<option value="delivered" selected>Delivered</option>`}},
		{"tracking=" + strings.Repeat("K", 41), "tracking", "Tracking number must be at most 40 characters.", nil},
		{"status=lost&tracking=kpa", "status", "Choose a status from the list.", []string{`value="kpa"`}},
		{"from=2024-13-01", "from", "Start date must be a date written as YYYY-MM-DD", nil},
		{"to=yesterday&from=2024-03-01", "to", "End date must be a date written as YYYY-MM-DD", []string{`value="2024-03-01"`}},
		{"from=2024-03-05&to=2024-03-04", "to", "The end date must be on or after the start date.", []string{`value="2024-03-05"`}},
		{"mode=live&from=2024-02-30", "from", "Start date must be a date written as YYYY-MM-DD", []string{`name="mode" value="live"`}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			page := owner.getURL(base + "?" + tt.query)
			wantStatus(t, page, http.StatusUnprocessableEntity)
			wantContains(t, page.Body, `aria-describedby="f-`+tt.field+`-error"`, `id="f-`+tt.field+`-error">`+tt.message,
				"Correct the filter to see shipments.", "<h1>Shipments</h1>")
			wantContains(t, page.Body, tt.kept...)
			if n := strings.Count(page.Body, `class="field-error"`); n != 1 {
				t.Fatalf("%d messages, want one", n)
			}
			if rows := shipmentRows(t, page.Body); len(rows) != 0 || strings.Contains(page.Body, "Export CSV") {
				t.Fatalf("a bad filter lists %d shipments or offers the export", len(rows))
			}
			fragment := owner.htmxGet(base + "?" + tt.query)
			wantStatus(t, fragment, http.StatusUnprocessableEntity)
			wantContains(t, fragment.Body, `id="f-`+tt.field+`-error"`)
			if push := fragment.Header.Get("HX-Push-Url"); push != "" {
				t.Fatalf("a bad filter pushes %q", push)
			}
			export := owner.getURL(base + "/export.csv?" + tt.query)
			wantStatus(t, export, http.StatusUnprocessableEntity)
			if strings.HasPrefix(export.Header.Get("Content-Type"), "text/csv") {
				t.Fatal("a bad filter exported a CSV file")
			}
			wantContains(t, export.Body, tt.message)
		})
	}
}

func TestShipmentsFilterFormWorksWithHTMX(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	ids := filterShipments(app, res)
	base := accountPath(res) + "/shipments"
	page := owner.get(base)
	wantContains(t, page.Body, `<form method="get" action="`+base+`" hx-get="`+base+`" hx-target="#shipments" hx-swap="outerHTML" hx-push-url="true"`,
		`<button type="submit" class="btn">Filter</button>`, `<input type="hidden" name="mode" value="test">`)
	fragment := owner.htmxGet(base + "?mode=test&tracking=kpa1&status=&from=&to=")
	wantStatus(t, fragment, http.StatusOK)
	if push := fragment.Header.Get("HX-Push-Url"); push != base+"?mode=test&tracking=KPA1" {
		t.Fatalf("HX-Push-Url %q", push)
	}
	if strings.Contains(fragment.Body, "<html") || strings.Contains(fragment.Body, "<h1>") {
		t.Fatal("htmx got the whole page")
	}
	wantContains(t, fragment.Body, `<div id="shipments">`, `value="KPA1"`, `href="`+base+`/export.csv?mode=test&amp;tracking=KPA1"`)
	if got := shipmentRows(t, fragment.Body); !slices.Equal(got, []int64{ids["KPA101"], ids["KPA100"]}) {
		t.Fatalf("rows %v", got)
	}
}
