package store

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport"
)

// bareScan matches a query plan step that reads a table that grows with use
// row by row instead of through an index: such a page costs more as data grows.
var bareScan = regexp.MustCompile(`^SCAN (e|k|s|r|audit_events|api_keys|shipments|live_key_requests)$`)

// planProblem returns what is wrong with one step of a query plan, or "".
func planProblem(detail string) string {
	switch {
	case bareScan.MatchString(detail):
		return "reads a growing table without an index"
	case strings.Contains(detail, "USE TEMP B-TREE FOR"):
		return "sorts every matching row"
	}
	return ""
}

// explainEach runs fn with a recorder on the database and checks the query
// plan of every query it ran.
func explainEach(t *testing.T, db *DB, fn func() error) {
	t.Helper()
	type ran struct {
		query string
		args  []any
	}
	var queries []ran
	db.traceQuery = func(query string, args []any) { queries = append(queries, ran{query, args}) }
	err := fn()
	db.traceQuery = nil
	if err != nil {
		t.Fatal(err)
	}
	if len(queries) == 0 {
		t.Fatal("ran no query")
	}
	for _, q := range queries {
		rows, err := db.sql.Query(`EXPLAIN QUERY PLAN `+q.query, q.args...)
		if err != nil {
			t.Fatalf("explain: %v\n%s", err, q.query)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		t.Logf("plan: %s", strings.Join(plan, "; "))
		for _, step := range plan {
			if problem := planProblem(step); problem != "" {
				t.Errorf("%s (%s):\n%s\nplan:\n  %s", problem, step, q.query, strings.Join(plan, "\n  "))
			}
		}
	}
}

func TestPlanProblem(t *testing.T) {
	for detail, bad := range map[string]bool{
		"SCAN e":                       true,
		"SCAN api_keys":                true,
		"USE TEMP B-TREE FOR ORDER BY": true,
		"USE TEMP B-TREE FOR RIGHT PART OF ORDER BY":                   true,
		"SEARCH e USING INDEX audit_events_account_at (account_id=$1)": false,
		"SCAN r USING INDEX live_key_requests_created":                 false,
		"SCAN a": false,
		"SEARCH k USING INTEGER PRIMARY KEY (rowid=$1)": false,
	} {
		if got := planProblem(detail) != ""; got != bad {
			t.Errorf("%q: problem %v, want %v", detail, got, bad)
		}
	}
}

// TestListQueriesReadOnlyOnePageThroughAnIndex checks the plan of every list
// query, with each filter, on its first page and from a cursor either way:
// none may read a growing table whole or sort every matching row.
func TestListQueriesReadOnlyOnePageThroughAnIndex(t *testing.T) {
	db := openTestDB(t)
	if db.Engine() != SQLite {
		t.Skip("reads SQLite's EXPLAIN QUERY PLAN; PostgreSQL's planner chooses by table statistics, which a test's few rows do not have")
	}
	ctx := context.Background()
	res := signedUp(t, db)
	addEvents(t, db, res.Merchant.ID, 10)
	from := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	member := keyport.AuditScope{MerchantID: res.Merchant.ID}
	admin := keyport.AuditScope{All: true}
	audit := func(scope keyport.AuditScope, f AuditFilter) func(PageRequest) error {
		return func(req PageRequest) error {
			f.Page = req
			_, err := db.AuditEvents(ctx, scope, f, 50)
			return err
		}
	}
	secrets := func(f SecretsFilter) func(PageRequest) error {
		return func(req PageRequest) error {
			f.Page, f.PerPage = req, 50
			_, err := db.MerchantSecrets(ctx, res.Merchant.ID, f)
			return err
		}
	}
	queue := func(states ...keyport.RequestState) func(PageRequest) error {
		return func(req PageRequest) error {
			_, _, err := db.ListRequests(ctx, QueueFilter{States: states, Page: req, PerPage: 50, CountLimit: 1000})
			return err
		}
	}
	shipments := func(f ShipmentFilter) func(PageRequest) error {
		return func(req PageRequest) error {
			f.Page = req
			_, err := db.ListShipments(ctx, res.Account.ID, f, 50)
			return err
		}
	}
	currentKeys := func(mode keyport.Mode) func(PageRequest) error {
		return func(req PageRequest) error {
			_, err := db.CurrentKeys(ctx, res.Account.ID, mode, req, 20)
			return err
		}
	}
	cases := []struct {
		name string
		run  func(PageRequest) error
	}{
		{"audit", audit(member, AuditFilter{})},
		{"audit by account", audit(member, AuditFilter{AccountID: res.Account.ID})},
		{"audit by actor", audit(member, AuditFilter{Actor: "seed"})},
		{"audit by action", audit(member, AuditFilter{Action: "test.odd"})},
		{"audit from", audit(member, AuditFilter{From: from})},
		{"audit to", audit(member, AuditFilter{To: from})},
		{"audit between", audit(member, AuditFilter{From: from, To: from.AddDate(0, 1, 0)})},
		{"admin audit", audit(admin, AuditFilter{})},
		{"admin audit of the platform", audit(admin, AuditFilter{Platform: true})},
		{"admin audit of a merchant", audit(admin, AuditFilter{MerchantID: res.Merchant.ID})},
		{"admin audit by action", audit(admin, AuditFilter{Action: "test.odd"})},
		{"admin audit by account", audit(admin, AuditFilter{MerchantID: res.Merchant.ID, AccountID: res.Account.ID})},
		{"admin audit by date", audit(admin, AuditFilter{From: from, To: from.AddDate(0, 1, 0)})},
		{"test shipments", shipments(ShipmentFilter{Mode: keyport.ModeTest})},
		{"live shipments", shipments(ShipmentFilter{Mode: keyport.ModeLive})},
		{"shipments by tracking number", shipments(ShipmentFilter{Mode: keyport.ModeTest, Tracking: "KP12"})},
		{"shipments by status", shipments(ShipmentFilter{Mode: keyport.ModeTest, Status: keyport.ShipmentDelivered})},
		{"shipments by date", shipments(ShipmentFilter{Mode: keyport.ModeLive, From: from, To: from.AddDate(0, 1, 0)})},
		{"shipments by status and date", shipments(ShipmentFilter{Mode: keyport.ModeTest, Status: keyport.ShipmentCreated, To: from})},
		{"shipments by every filter", shipments(ShipmentFilter{Mode: keyport.ModeTest, Tracking: "KP1", Status: keyport.ShipmentCancelled,
			From: from, To: from})},
		{"secrets", secrets(SecretsFilter{})},
		{"secrets of an account", secrets(SecretsFilter{AccountID: res.Account.ID})},
		{"live secrets", secrets(SecretsFilter{Mode: keyport.ModeLive})},
		{"publishable keys", secrets(SecretsFilter{Type: keyport.KeyPublishable})},
		{"active secrets", secrets(SecretsFilter{Status: keyport.KeyActive})},
		{"expired secrets", secrets(SecretsFilter{Status: keyport.KeyExpired})},
		{"revoked secrets", secrets(SecretsFilter{Status: keyport.KeyRevoked})},
		{"keys tab", func(req PageRequest) error {
			_, err := db.KeysTab(ctx, res.Merchant.ID, res.Account.ID, KeysTabRequest{Live: SectionRequest{Current: req, Revoked: req},
				Test: SectionRequest{Current: req, Revoked: req}, CurrentPerPage: 20, RevokedPerPage: 20, CountLimit: 200})
			return err
		}},
		{"current keys of both modes", currentKeys("")},
		{"current test keys", currentKeys(keyport.ModeTest)},
		{"request notices", func(PageRequest) error {
			_, err := db.RequestNotices(ctx, res.Merchant.ID)
			return err
		}},
		{"expiry sweep", func(PageRequest) error {
			_, err := db.LogExpiredKeys(ctx)
			return err
		}},
		{"open queue", queue()},
		{"pending queue", queue(keyport.RequestPending)},
		{"approved queue", queue(keyport.RequestApproved)},
		{"whole queue", queue(requestStates...)},
		{"accounts", func(PageRequest) error {
			_, err := db.AccountSummaries(ctx, res.Merchant.ID)
			return err
		}},
	}
	cursor := Cursor{Key: from.Unix(), ID: 5}
	for _, tc := range cases {
		for _, page := range []struct {
			name string
			req  PageRequest
		}{{"first page", PageRequest{}}, {"before " + cursor.String(), PageRequest{Cursor: cursor, Before: true}}, {"after " + cursor.String(), PageRequest{Cursor: cursor}}} {
			t.Run(tc.name+" "+page.name, func(t *testing.T) {
				explainEach(t, db, func() error { return tc.run(page.req) })
			})
		}
	}
}
