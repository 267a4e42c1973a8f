package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"keyport"
	"keyport/store"
	"keyport/views"
)

func goodRequest(name string) url.Values {
	return url.Values{"token_name": {name}, "intended_use": {"Print labels for our web shop's orders."},
		"website": {"https://acme.example"}, "monthly_shipments": {"1500"}}
}

// file files a live key request through the form and returns its id.
func (c *client) file(res store.SignupResult, name string) int64 {
	c.app.t.Helper()
	r := c.post(requestsPath(res), goodRequest(name))
	wantStatus(c.app.t, r, http.StatusSeeOther)
	var id int64
	if err := c.app.db.SQL().QueryRow(`SELECT max(id) FROM live_key_requests`).Scan(&id); err != nil {
		c.app.t.Fatal(err)
	}
	return id
}

func (a *testApp) requestState(id int64) keyport.RequestState {
	a.t.Helper()
	var s keyport.RequestState
	if err := a.db.SQL().QueryRow(`SELECT state FROM live_key_requests WHERE id = $1`, id).Scan(&s); err != nil {
		a.t.Fatal(err)
	}
	return s
}

func TestRequestLiveTokenValidation(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	form := c.htmxGet(requestsPath(res) + "/new")
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, "Token name", "Intended use", "Company website", "Expected monthly shipments")
	with := func(field, value string) url.Values {
		v := goodRequest("Prod")
		v.Set(field, value)
		return v
	}
	cases := []struct {
		name  string
		form  url.Values
		field string
		msg   string
	}{
		{"missing name", with("token_name", ""), "token_name", "Token name is required."},
		{"short use", with("intended_use", "labels"), "intended_use", "at least 20 characters"},
		{"missing use", with("intended_use", "   "), "intended_use", "Intended use is required."},
		{"bad website", with("website", "acme dot com"), "website", "Enter a valid URL"},
		{"javascript website", with("website", "javascript:alert(1)"), "website", "Enter a valid URL"},
		{"missing shipments", with("monthly_shipments", ""), "monthly_shipments", "is required"},
		{"text shipments", with("monthly_shipments", "lots"), "monthly_shipments", "whole number"},
		{"negative shipments", with("monthly_shipments", "-4"), "monthly_shipments", "whole number"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := c.htmxPost(requestsPath(res), tc.form)
			wantStatus(t, r, http.StatusUnprocessableEntity)
			wantContains(t, r.Body, `id="f-`+tc.field+`-error"`, tc.msg)
			if n := app.count(`SELECT count(*) FROM live_key_requests`); n != 0 {
				t.Fatalf("%d requests filed", n)
			}
		})
	}
}

func TestLiveTokenApprovedThenIssuedOnce(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	id := c.file(res, "Production")
	app.addShipments(res, keyport.ModeTest, 3)
	app.addShipments(res, keyport.ModeLive, 2)
	page := c.get(keysPath(res))
	wantContains(t, page.Body, "Your live token request was sent", "Live token request: Production", "Pending review", ">Cancel request<")

	admin := app.adminClient()
	queue := admin.get("/admin/requests")
	wantStatus(t, queue, http.StatusOK)
	wantContains(t, queue.Body, "Acme", "Default", "owner@acme.test", "Print labels for our web shop", "https://acme.example", "1500",
		`<span class="nav-badge" title="1 pending">1</span>`, "3 test shipments")
	detail := admin.get(fmt.Sprintf("/admin/requests/%d", id))
	wantContains(t, detail.Body, ">Approve<", ">Reject<", ">Ask for more information<")
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusSeeOther)
	if s := app.requestState(id); s != keyport.RequestApproved {
		t.Fatalf("state %s", s)
	}
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusConflict)
	if strings.Contains(admin.get("/admin/requests").Body, "nav-badge") {
		t.Fatal("badge still counts an approved request")
	}

	page = c.get(keysPath(res))
	wantContains(t, page.Body, "Your live token request was approved", ">Generate Live Token<")
	wantContains(t, c.get(keysPath(res)).Body, "Your live token request was approved")

	issue := fmt.Sprintf("%s/%d/issue", requestsPath(res), id)
	r := c.htmxPost(issue, nil)
	wantStatus(t, r, http.StatusOK)
	plain := plaintextKey.FindString(r.Body)
	if !strings.HasPrefix(plain, "sk_live_") || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("revealed %q, Cache-Control %q", plain, r.Header.Get("Cache-Control"))
	}
	wantStatus(t, c.htmxPost(issue, nil), http.StatusConflict)
	if s := app.requestState(id); s != keyport.RequestIssued {
		t.Fatalf("state %s", s)
	}
	if n := app.count(`SELECT count(*) FROM api_keys WHERE mode = 'live' AND request_id = $1`, id); n != 1 {
		t.Fatalf("%d live keys", n)
	}
	after := c.get(keysPath(res))
	if strings.Contains(after.Body, plain) || strings.Contains(after.Body, "Generate Live Token") {
		t.Fatal("token or button shown again")
	}
	wantContains(t, after.Body, "sk_live_", "Production")
	if strings.Contains(after.Body, "Your live token request was approved") {
		t.Fatal("the approval notice outlived the issued token")
	}
	if strings.Contains(app.logs.String(), plain) {
		t.Fatal("the plaintext reached the logs")
	}
	for _, action := range []string{"request.filed", "request.approved", "request.issued", "key.created", "key.revealed"} {
		if n := app.count(`SELECT count(*) FROM audit_events WHERE action = $1`, action); n != 1 {
			t.Fatalf("%s audited %d times", action, n)
		}
	}
}

func TestNeedsInformationReplyAndCancel(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	id := c.file(res, "Production")
	admin := app.adminClient()
	ask := fmt.Sprintf("/admin/requests/%d/ask", id)
	bad := admin.post(ask, url.Values{"question": {"  "}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, `id="f-question-error"`, "Message is required.")
	if s := app.requestState(id); s != keyport.RequestPending {
		t.Fatalf("state %s", s)
	}
	wantStatus(t, admin.post(ask, url.Values{"question": {"Which carriers will you use?"}}), http.StatusSeeOther)

	page := c.get(keysPath(res))
	wantContains(t, page.Body, "has a question about your live token request", "Needs information", "Which carriers will you use?", ">Send reply<")

	reply := fmt.Sprintf("%s/%d/reply", requestsPath(res), id)
	r := c.htmxPost(reply, url.Values{"reply": {""}})
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.Body, `id="keys-live"`, `id="f-reply-error"`, "Reply is required.")
	wantStatus(t, c.post(reply, url.Values{"reply": {"Royal Mail and DPD."}}), http.StatusSeeOther)
	if s := app.requestState(id); s != keyport.RequestPending {
		t.Fatalf("state %s", s)
	}
	wantContains(t, admin.get(fmt.Sprintf("/admin/requests/%d", id)).Body, "Royal Mail and DPD.")
	wantStatus(t, c.post(reply, url.Values{"reply": {"again"}}), http.StatusConflict)

	cancel := fmt.Sprintf("%s/%d/cancel", requestsPath(res), id)
	wantStatus(t, c.post(cancel, nil), http.StatusSeeOther)
	if s := app.requestState(id); s != keyport.RequestCancelled {
		t.Fatalf("state %s", s)
	}
	wantStatus(t, c.post(cancel, nil), http.StatusConflict)
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusConflict)
	wantContains(t, c.get(keysPath(res)).Body, "Cancelled")
}

func TestRejectNeedsAReasonAndTellsTheMerchant(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	id := c.file(res, "Production")
	admin := app.adminClient()
	reject := fmt.Sprintf("/admin/requests/%d/reject", id)
	bad := admin.post(reject, url.Values{"reason": {""}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, "Reason is required.")
	wantStatus(t, admin.post(reject, url.Values{"reason": {"Website does not resolve."}}), http.StatusSeeOther)
	page := c.get(keysPath(res))
	wantContains(t, page.Body, "Your live token request was rejected", "Website does not resolve.", "Rejected")
	wantStatus(t, c.post(fmt.Sprintf("%s/%d/issue", requestsPath(res), id), nil), http.StatusConflict)
	if n := app.count(`SELECT count(*) FROM api_keys`); n != 0 {
		t.Fatal("a key was minted for a rejected request")
	}
}

func TestLiveRequestRefusedAtTheCap(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	for _, name := range []string{"one", "two"} {
		id := c.file(res, name)
		wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusSeeOther)
	}
	page := c.get(keysPath(res))
	wantContains(t, page.Body, "Max of 2 tokens reached", "Active live tokens and approved requests already reach the limit of 2")
	r := c.htmxPost(requestsPath(res), goodRequest("three"))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.Body, "Max of 2 live tokens reached")
	if n := app.count(`SELECT count(*) FROM live_key_requests`); n != 2 {
		t.Fatalf("%d requests", n)
	}
}

func TestQueueFilterAndPages(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	if err := app.db.SetTokenCap(t.Context(), keyport.SystemActor, 0); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < views.QueuePerPage+1; i++ {
		c.file(res, fmt.Sprintf("req-%02d", i))
	}
	admin := app.adminClient()
	first := admin.get("/admin/requests")
	wantContains(t, first.Body, "51 requests", "req-00", `<span class="nav-badge" title="51 pending">51</span>`)
	if strings.Contains(first.Body, "req-50") || pagerLink(first.Body, "prev") != "" {
		t.Fatal("page 1 holds more than 50")
	}
	second := admin.getURL(pagerLink(first.Body, "next"))
	wantContains(t, second.Body, "req-50", "51 requests")
	if strings.Contains(second.Body, "req-49") || pagerLink(second.Body, "next") != "" {
		t.Fatal("page 2 is not the rest of the queue")
	}
	back := admin.getURL(pagerLink(second.Body, "prev"))
	wantContains(t, back.Body, "req-00", "req-49")
	wantContains(t, admin.getURL("/admin/requests?page=2").Body, "req-00")
	wantStatus(t, admin.post("/admin/requests/1/approve", nil), http.StatusSeeOther)
	approved := admin.getURL("/admin/requests?state=approved")
	wantContains(t, approved.Body, "req-00", "1 request<")
	if pagerLink(approved.Body, "next") != "" || pagerLink(approved.Body, "prev") != "" {
		t.Fatal("one request has pages")
	}
	waiting := admin.getURL("/admin/requests?state=pending")
	if next := pagerLink(waiting.Body, "next"); next != "" {
		t.Fatalf("50 pending requests have a second page: %s", next)
	}
	all := admin.getURL("/admin/requests?state=all")
	if next := pagerLink(all.Body, "next"); !strings.Contains(next, "state=all") || !strings.Contains(next, "after=") {
		t.Fatalf("Next drops the filter: %q", next)
	}
	wantStatus(t, admin.getURL("/admin/requests?state=bogus"), http.StatusBadRequest)
	empty := admin.getURL("/admin/requests?state=rejected")
	wantContains(t, empty.Body, "No request matches this filter.")
}

func TestSettingsValidation(t *testing.T) {
	app := newTestApp(t)
	admin := app.adminClient()
	wantContains(t, admin.get("/admin/settings").Body, `value="2"`)
	for _, v := range []string{"", "-1", "two", "1001", "2.5"} {
		r := admin.post("/admin/settings", url.Values{"token_cap": {v}})
		wantStatus(t, r, http.StatusUnprocessableEntity)
		wantContains(t, r.Body, "Enter a whole number from 0 (no cap) to 1000.")
	}
	if n, _ := app.db.TokenCap(t.Context()); n != 2 {
		t.Fatalf("cap changed to %d", n)
	}
	wantStatus(t, admin.post("/admin/settings", url.Values{"token_cap": {"0"}}), http.StatusSeeOther)
	if n, _ := app.db.TokenCap(t.Context()); n != 0 {
		t.Fatalf("cap = %d", n)
	}
}

// TestTokenCapHoldsAcrossFileApproveAndGenerate files three live requests
// under a cap of 2: the third approval is refused with a message for the API
// team, and both approved requests can then be generated.
func TestTokenCapHoldsAcrossFileApproveAndGenerate(t *testing.T) {
	app := newTestApp(t)
	c, res := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	ids := []int64{c.file(res, "one"), c.file(res, "two"), c.file(res, "three")}
	for _, id := range ids[:2] {
		wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusSeeOther)
	}
	audits := app.count(`SELECT count(*) FROM audit_events`)
	r := admin.post(fmt.Sprintf("/admin/requests/%d/approve", ids[2]), nil)
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.Body, "already has 2 active live tokens and approved requests", "raise the token cap in Platform settings", "Approve")
	if s := app.requestState(ids[2]); s != keyport.RequestPending {
		t.Fatalf("third request is %s", s)
	}
	if n := app.count(`SELECT count(*) FROM audit_events`); n != audits {
		t.Fatalf("a refused approval wrote %d audit events", n-audits)
	}
	for _, id := range ids[:2] {
		r := c.htmxPost(fmt.Sprintf("%s/%d/issue", requestsPath(res), id), nil)
		wantStatus(t, r, http.StatusOK)
		wantContains(t, r.Body, "sk_live_")
	}
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/reject", ids[2]), url.Values{"reason": {"Over the cap."}}), http.StatusSeeOther)
}
