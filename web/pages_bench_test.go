package web

import (
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// pageShape is how much data one benchmark app holds. The large shape is what
// a busy platform accumulates; every page should cost about the same on both.
type pageShape struct {
	auditEvents    int
	shipments      int
	pending        int
	accounts       int
	keysPerAccount int
}

// The small queue holds one full page, and each small account one full page of
// current keys (2 active, 21 expired) beside 21 revoked, so that both sides
// render as many rows.
// The large audit log holds 500,000 events: a million took over a minute to
// seed on a shared two-core machine, and the page cost was as flat there.
var (
	smallPages = pageShape{auditEvents: 1_000, shipments: 200, pending: 50, accounts: 20, keysPerAccount: 44}
	largePages = pageShape{auditEvents: 500_000, shipments: 100_000, pending: 10_000, accounts: 20, keysPerAccount: 600}
)

// pageApp is a benchmark app seeded with one shape: a merchant whose first
// account holds the audit events and shipments, a second merchant whose
// accounts hold the keys, and pending live key requests on a third.
type pageApp struct {
	app    *testApp
	owner  *client
	keys   *client
	admin  *client
	res    store.SignupResult
	keysID int64
}

func newPageApp(b *testing.B, shape pageShape) *pageApp {
	b.Helper()
	app := newTestApp(b)
	p := &pageApp{app: app}
	p.owner, p.res = app.merchant("Acme", "owner@acme.test")
	var keysRes store.SignupResult
	p.keys, keysRes = app.merchant("Keys Ltd", "owner@keys.test")
	p.keysID = keysRes.Merchant.ID
	_, queueRes := app.merchant("Queue Ltd", "owner@queue.test")
	p.admin = app.adminClient()
	if _, err := app.db.CreateKey(b.Context(), keyport.SystemActor, keyport.NewKey{AccountID: p.res.Account.ID,
		MerchantID: p.res.Merchant.ID, Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "audited"}); err != nil {
		b.Fatal(err)
	}

	start := time.Now()
	seedBulk(b, app, func(tx *sql.Tx) {
		now := app.clock().Unix()
		seedAuditEvents(b, tx, p.res, shape.auditEvents, now)
		seedBulkShipments(b, tx, p.res, shape.shipments)
		seedAccountsWithKeys(b, tx, keysRes.Merchant.ID, shape.accounts, shape.keysPerAccount, now)
		seedPendingRequests(b, tx, queueRes, shape.pending, now)
	})
	b.Logf("seeded %+v in %s", shape, time.Since(start).Round(time.Millisecond))
	return p
}

// seedBulk runs fill in one transaction straight on the database.
func seedBulk(b *testing.B, app *testApp, fill func(*sql.Tx)) {
	b.Helper()
	tx, err := app.db.SQL().Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	fill(tx)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

func bulkExec(b *testing.B, tx *sql.Tx, query string, n int, args func(i int) []any) {
	b.Helper()
	stmt, err := tx.Prepare(query)
	if err != nil {
		b.Fatal(err)
	}
	defer stmt.Close()
	for i := range n {
		if _, err := stmt.Exec(args(i)...); err != nil {
			b.Fatal(err)
		}
	}
}

// seedAuditEvents adds n events about the merchant's first account and its first key.
func seedAuditEvents(b *testing.B, tx *sql.Tx, res store.SignupResult, n int, now int64) {
	var keyID int64
	if err := tx.QueryRow(`SELECT id FROM api_keys WHERE account_id = $1 ORDER BY id LIMIT 1`, res.Account.ID).Scan(&keyID); err != nil {
		b.Fatal(err)
	}
	bulkExec(b, tx, `INSERT INTO audit_events (at, merchant_id, actor, ip, action, object_type, object_id, detail, account_id)
		VALUES ($1, $2, 'owner@acme.test', '127.0.0.1', $3, $4, $5, 'seeded', $6)`, n, func(i int) []any {
		if i%2 == 0 {
			return []any{now - int64(n-i), res.Merchant.ID, "key.revealed", "api_key", keyID, res.Account.ID}
		}
		return []any{now - int64(n-i), res.Merchant.ID, "account.enabled", "api_account", res.Account.ID, res.Account.ID}
	})
}

func seedBulkShipments(b *testing.B, tx *sql.Tx, res store.SignupResult, n int) {
	bulkExec(b, tx, `INSERT INTO shipments (account_id, merchant_id, mode, courier, service_code, status, tracking_number,
			label_ref, amount_minor, currency, from_postcode, from_country, to_postcode, to_country, weight_grams, created_at, updated_at)
		VALUES ($1, $2, 'test', 'dpd', 'DPD_NEXT_DAY', 'created', $3, 'L', 675, 'GBP', 'M1', 'GB', 'SW1', 'GB', 900, 1, 1)`, n,
		func(i int) []any { return []any{res.Account.ID, res.Merchant.ID, fmt.Sprintf("KPB%d", i)} })
}

// seedAccountsWithKeys adds accounts to the merchant, each with perAccount test
// keys: two active, the rest alternately revoked and expired.
func seedAccountsWithKeys(b *testing.B, tx *sql.Tx, merchantID int64, accounts, perAccount int, now int64) {
	for a := range accounts {
		r, err := tx.Exec(`INSERT INTO api_accounts (merchant_id, name, account_key, created_at) VALUES ($1, $2, $3, $4)`,
			merchantID, fmt.Sprintf("Bulk %d", a), fmt.Sprintf("acct_bulk%019d", a), now)
		if err != nil {
			b.Fatal(err)
		}
		accountID, _ := r.LastInsertId()
		bulkExec(b, tx, `INSERT INTO api_keys (account_id, merchant_id, type, mode, name, hash, prefix, first4, last4, access,
				permissions, created_by_label, created_at, expires_at, revoked_at, revoked_by_label)
			VALUES ($1, $2, 'secret', 'test', $3, $4, 'sk_test_', 'abcd', 'wxyz', 'full', '', 'system', $5, $6, $7, 'system')`, perAccount,
			func(i int) []any {
				hash := make([]byte, 32)
				_, _ = rand.Read(hash)
				var expires, revoked any
				switch {
				case i >= perAccount-2:
				case i%2 == 0:
					revoked = now - int64(perAccount-i)
				default:
					expires = now - int64(perAccount-i)
				}
				return []any{accountID, merchantID, fmt.Sprintf("key-%d", i), hash, now - int64(perAccount-i), expires, revoked}
			})
	}
}

func seedPendingRequests(b *testing.B, tx *sql.Tx, res store.SignupResult, n int, now int64) {
	bulkExec(b, tx, `INSERT INTO live_key_requests (account_id, merchant_id, requested_by_label, token_name, intended_use, website,
			monthly_shipments, state, created_at, updated_at)
		VALUES ($1, $2, 'owner@queue.test', $3, 'checkout', 'https://queue.example', 100, $4, $5, $6)`, n, func(i int) []any {
		state := keyport.RequestPending
		if i%5 == 0 {
			state = keyport.RequestNeedsInfo
		}
		return []any{res.Account.ID, res.Merchant.ID, fmt.Sprintf("req-%d", i), state, now - int64(n-i), now - int64(n-i)}
	})
}

// bulkAccount is the id of an account seeded with keysPerAccount keys.
func (p *pageApp) bulkAccount(b *testing.B) int64 {
	b.Helper()
	var id int64
	if err := p.app.db.SQL().QueryRow(`SELECT id FROM api_accounts WHERE merchant_id = $1 AND name = 'Bulk 0'`, p.keysID).Scan(&id); err != nil {
		b.Fatal(err)
	}
	return id
}

// nthCursor is the query of the page that starts after the first skip rows
// of a list: page=N for offset paging, and before/after for cursor paging.
func nthCursor(b *testing.B, db *sql.DB, page, perPage int, query string, args ...any) string {
	b.Helper()
	var id int64
	if err := db.QueryRow(query+` LIMIT 1 OFFSET $`+strconv.Itoa(len(args)+1), append(args, (page-1)*perPage-1)...).Scan(&id); err != nil {
		b.Fatal(err)
	}
	return "page=" + strconv.Itoa(page) + "&before=" + strconv.FormatInt(id, 10)
}

// pageCase is one page measured on the small and on the large side.
type pageCase struct {
	name         string
	small, large func() (*client, string)
}

// BenchmarkPagesStayFlat measures each list page on small and large data
// through the real app and reports the median time of each and their ratio
// (large/small); the target is a ratio of at most 2. The large data takes a
// while to seed: run it alone, with -bench PagesStayFlat -benchtime 20x.
func BenchmarkPagesStayFlat(b *testing.B) {
	small := newPageApp(b, smallPages)
	large := newPageApp(b, largePages)
	db := large.app.db.SQL()
	shipmentsOf := `SELECT id FROM shipments WHERE account_id = $1 AND mode = 'test' ORDER BY id DESC`
	secretsOf := `SELECT id FROM api_keys WHERE merchant_id = $1 ORDER BY id DESC`
	cases := []pageCase{
		{"audit-account",
			func() (*client, string) { return small.owner, fmt.Sprintf("/audit?account=%d", small.res.Account.ID) },
			func() (*client, string) { return large.owner, fmt.Sprintf("/audit?account=%d", large.res.Account.ID) }},
		{"audit",
			func() (*client, string) { return small.owner, "/audit" },
			func() (*client, string) { return large.owner, "/audit" }},
		{"shipments-page-2-vs-2000",
			func() (*client, string) {
				return large.owner, accountPath(large.res) + "/shipments?mode=test&" + nthCursor(b, db, 2, views.ShipmentsPerPage, shipmentsOf, large.res.Account.ID)
			},
			func() (*client, string) {
				return large.owner, accountPath(large.res) + "/shipments?mode=test&" + nthCursor(b, db, 2000, views.ShipmentsPerPage, shipmentsOf, large.res.Account.ID)
			}},
		{"secrets-page-1-vs-200",
			func() (*client, string) { return large.keys, "/secrets" },
			func() (*client, string) {
				return large.keys, "/secrets?" + nthCursor(b, db, 200, views.SecretsPerPage, secretsOf, large.keysID)
			}},
		{"admin-requests",
			func() (*client, string) { return small.admin, "/admin/requests" },
			func() (*client, string) { return large.admin, "/admin/requests" }},
		{"accounts",
			func() (*client, string) { return small.keys, "/accounts" },
			func() (*client, string) { return large.keys, "/accounts" }},
		{"keys-tab",
			func() (*client, string) { return small.keys, views.KeysURL(small.bulkAccount(b)) },
			func() (*client, string) { return large.keys, views.KeysURL(large.bulkAccount(b)) }},
		{"keys-and-tokens-pop-up",
			func() (*client, string) { return small.keys, views.TokensURL(small.bulkAccount(b)) },
			func() (*client, string) { return large.keys, views.TokensURL(large.bulkAccount(b)) }},
	}
	for _, pc := range cases {
		b.Run(pc.name, func(b *testing.B) {
			sc, sp := pc.small()
			lc, lp := pc.large()
			smallReq, largeReq := benchRequest(sc, sp), benchRequest(lc, lp)
			serveOK(b, sc.app, smallReq)
			serveOK(b, lc.app, largeReq)
			var smallTimes, largeTimes []time.Duration
			for b.Loop() {
				smallTimes = append(smallTimes, serveOK(b, sc.app, smallReq))
				largeTimes = append(largeTimes, serveOK(b, lc.app, largeReq))
			}
			s, l := median(smallTimes), median(largeTimes)
			b.ReportMetric(float64(s.Microseconds())/1000, "small-ms")
			b.ReportMetric(float64(l.Microseconds())/1000, "large-ms")
			b.ReportMetric(float64(l)/float64(s), "ratio")
		})
	}
}

func benchRequest(c *client, path string) *http.Request {
	req := httptest.NewRequest(http.MethodGet, "http://example.test"+path, nil)
	for _, ck := range c.jar.Cookies(req.URL) {
		req.AddCookie(ck)
	}
	return req
}

// serveOK serves req and returns how long the app took to answer it with 200.
func serveOK(b *testing.B, app *testApp, req *http.Request) time.Duration {
	b.Helper()
	rec := httptest.NewRecorder()
	start := time.Now()
	app.srv.ServeHTTP(rec, req.Clone(req.Context()))
	took := time.Since(start)
	if rec.Code != http.StatusOK {
		b.Fatalf("%s: status %d", req.URL, rec.Code)
	}
	return took
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
