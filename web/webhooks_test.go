package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"keyport"
)

// receiver is a real HTTP endpoint that records what it receives and answers
// with the statuses the test queues (200 once the queue is empty).
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	got      []received
	statuses []int
	arrived  chan struct{}
}

// received is one request a receiver got.
type received struct {
	header http.Header
	body   []byte
	at     time.Time
}

func newReceiver(t *testing.T, statuses ...int) *receiver {
	t.Helper()
	r := &receiver{statuses: statuses, arrived: make(chan struct{}, 1000)}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{header: req.Header.Clone(), body: body, at: time.Now()})
		status := http.StatusOK
		if len(r.statuses) > 0 {
			status, r.statuses = r.statuses[0], r.statuses[1:]
		}
		r.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprintf(w, "answer %d", status)
		r.arrived <- struct{}{}
	}))
	t.Cleanup(r.Close)
	return r
}

// count is how many requests the receiver got.
func (r *receiver) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.got)
}

// wait returns once the receiver got n requests in all, or fails the test.
func (r *receiver) wait(t *testing.T, n int) []received {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		r.mu.Lock()
		got := slices.Clone(r.got)
		r.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("the receiver got %d requests, want %d", len(got), n)
		}
	}
}

// runWebhookSender runs the server's webhook sender until the test ends.
func (a *testApp) runWebhookSender(every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.srv.DeliverWebhooks(ctx, every) })
	a.t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

var shownSecret = regexp.MustCompile(`whsec_[A-Za-z0-9+/=]+`)

// addWebhook adds an endpoint through the form as c and returns its id and signing secret.
func (a *testApp) addWebhook(c *client, target string, events ...string) (int64, string) {
	a.t.Helper()
	form := url.Values{"url": {target}, "events": events, "enabled": {"on"}, "description": {"Key monitor"}}
	res := c.post("/webhooks", form)
	wantStatus(a.t, res, http.StatusOK)
	wantContains(a.t, res.Body, "Copy it now: it is shown only once.", target)
	secret := shownSecret.FindString(res.Body)
	var id int64
	if err := a.db.SQL().QueryRow(`SELECT max(id) FROM webhook_endpoints`).Scan(&id); err != nil {
		a.t.Fatal(err)
	}
	return id, secret
}

func TestWebhookEventsAreSignedAsTheStandardSays(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	hook := newReceiver(t)
	id, secret := app.addWebhook(owner, hook.URL, "key.created", "key.revoked")
	if secret == "" {
		t.Fatal("the signing secret is not shown")
	}
	if strings.Contains(owner.get(fmt.Sprintf("/webhooks/%d", id)).Body, secret) {
		t.Error("the signing secret is shown again")
	}
	app.runWebhookSender(10 * time.Millisecond)
	plaintext := app.newKey(res, keyport.NewKey{Name: "CI"})
	got := hook.wait(t, 1)
	verifier, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.Verify(got[0].body, got[0].header); err != nil {
		t.Fatalf("the Standard Webhooks library refuses the signature: %v (headers %v)", err, got[0].header)
	}
	var body struct {
		Type      string `json:"type"`
		Timestamp string `json:"timestamp"`
		Data      struct {
			Key struct {
				Redacted string `json:"redacted"`
				Name     string `json:"name"`
			} `json:"key"`
			Actor string `json:"actor"`
		} `json:"data"`
	}
	if err := json.Unmarshal(got[0].body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Type != "key.created" || body.Data.Key.Name != "CI" || !strings.HasPrefix(body.Data.Key.Redacted, "sk_test_") {
		t.Errorf("event %s", got[0].body)
	}
	if strings.Contains(string(got[0].body), plaintext[8:20]) {
		t.Error("the event holds the key's secret")
	}
	if ct := got[0].header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q", ct)
	}
	tampered := append([]byte(nil), got[0].body...)
	tampered[len(tampered)-2] = ' '
	if verifier.Verify(tampered, got[0].header) == nil {
		t.Error("a changed body still verifies")
	}
	waitFor(t, func() bool { return app.count(`SELECT count(*) FROM webhook_attempts`) == 1 })
	page := owner.get(fmt.Sprintf("/webhooks/%d", id)).Body
	wantContains(t, page, "key.created", "Delivered", "HTTP 200", "answer 200")
}

func TestARetryKeepsTheEventIDAndBothSecretsSignDuringARoll(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	hook := newReceiver(t, http.StatusServiceUnavailable)
	id, oldSecret := app.addWebhook(owner, hook.URL, "key.revoked")
	res := owner.post(fmt.Sprintf("/webhooks/%d/roll", id), url.Values{"grace": {"24h"}})
	wantStatus(t, res, http.StatusOK)
	newSecret := shownSecret.FindString(res.Body)
	if newSecret == "" || newSecret == oldSecret {
		t.Fatalf("rolled secret %q", newSecret)
	}
	wantContains(t, res.Body, "The previous secret also signs until")
	app.runWebhookSender(10 * time.Millisecond)
	wantStatus(t, owner.post(fmt.Sprintf("/webhooks/%d/test", id), nil), http.StatusSeeOther)
	first := hook.wait(t, 1)
	waitFor(t, func() bool { return app.count(`SELECT count(*) FROM webhook_attempts`) == 1 })
	app.advance(31 * time.Second)
	got := hook.wait(t, 2)
	if got[0].header.Get("webhook-id") != got[1].header.Get("webhook-id") || !strings.HasPrefix(got[1].header.Get("webhook-id"), "msg_") {
		t.Errorf("a retry changed the id: %q then %q", got[0].header.Get("webhook-id"), got[1].header.Get("webhook-id"))
	}
	for _, secret := range []string{oldSecret, newSecret} {
		wh, err := standardwebhooks.NewWebhook(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := wh.VerifyIgnoringTimestamp(got[1].body, got[1].header); err != nil {
			t.Errorf("during the grace period a receiver with one of the secrets refuses the event: %v", err)
		}
	}
	if !strings.Contains(string(first[0].body), `"type":"ping"`) {
		t.Errorf("the test event is %s", first[0].body)
	}
	waitFor(t, func() bool { return app.count(`SELECT count(*) FROM webhook_attempts`) == 2 })
	page := owner.get(fmt.Sprintf("/webhooks/%d", id)).Body
	wantContains(t, page, "HTTP 503", "answer 503", "HTTP 200", "Delivered")

	var deliveryID int64
	if err := app.db.SQL().QueryRow(`SELECT max(id) FROM webhook_deliveries`).Scan(&deliveryID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, owner.post(fmt.Sprintf("/webhooks/%d/deliveries/%d/resend", id, deliveryID), nil), http.StatusSeeOther)
	again := hook.wait(t, 3)
	if again[2].header.Get("webhook-id") != got[0].header.Get("webhook-id") || string(again[2].body) != string(got[0].body) {
		t.Error("a resent event is not the same event")
	}
}

func TestDeliveriesRefuseInternalAddressesAndRedirects(t *testing.T) {
	app := newTestApp(t)
	cfg := app.config()
	cfg.WebhookAllowPrivate = false
	app.srv = New(app.db, cfg)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	hook := newReceiver(t)
	id, _ := app.addWebhook(owner, hook.URL, "key.revoked")
	app.runWebhookSender(10 * time.Millisecond)
	wantStatus(t, owner.post(fmt.Sprintf("/webhooks/%d/test", id), nil), http.StatusSeeOther)
	waitFor(t, func() bool { return app.count(`SELECT count(*) FROM webhook_attempts`) == 1 })
	page := owner.get(fmt.Sprintf("/webhooks/%d", id)).Body
	wantContains(t, page, "refused: the URL resolves to a loopback, private, link-local or metadata address", "No answer")
	if hook.count() != 0 {
		t.Error("the delivery reached a loopback address")
	}

	private := newTestApp(t)
	owner2, _ := private.merchant("Bolt", "owner@bolt.test")
	final := newReceiver(t)
	redirecting := httptest.NewServer(http.RedirectHandler(final.URL, http.StatusTemporaryRedirect))
	t.Cleanup(redirecting.Close)
	id2, _ := private.addWebhook(owner2, redirecting.URL, "key.revoked")
	private.runWebhookSender(10 * time.Millisecond)
	wantStatus(t, owner2.post(fmt.Sprintf("/webhooks/%d/test", id2), nil), http.StatusSeeOther)
	waitFor(t, func() bool { return private.count(`SELECT count(*) FROM webhook_attempts`) == 1 })
	wantContains(t, owner2.get(fmt.Sprintf("/webhooks/%d", id2)).Body, "HTTP 307", "not followed", "Retrying")
	if final.count() != 0 {
		t.Error("a redirect was followed")
	}
}

// waitFor polls cond for up to 10 seconds.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("timed out")
}

func TestWebhookAddressRules(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"93.184.216.34", true}, {"2606:2800:220:1:248:1893:25c8:1946", true},
		{"127.0.0.1", false}, {"::1", false}, {"10.1.2.3", false}, {"172.16.0.1", false}, {"192.168.1.1", false},
		{"169.254.169.254", false}, {"fe80::1", false}, {"fc00::1", false}, {"100.64.0.1", false}, {"0.0.0.0", false},
		{"::ffff:127.0.0.1", false}, {"::ffff:169.254.169.254", false}, {"fd00:ec2::254", false}, {"224.0.0.1", false},
	} {
		if got := keyport.WebhookAddressAllowed(mustAddr(t, tc.addr), false); got != tc.ok {
			t.Errorf("%s allowed = %t, want %t", tc.addr, got, tc.ok)
		}
	}
}

func TestTheEndpointFormRefusesWhatCannotWork(t *testing.T) {
	app := newTestApp(t)
	cfg := app.config()
	cfg.WebhookAllowHTTP = false
	app.srv = New(app.db, cfg)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"url": {"http://hooks.acme.test/"}, "events": {"key.revoked"}}, "Use an https:// URL"},
		{url.Values{"url": {"https://user:pw@hooks.acme.test/"}, "events": {"key.revoked"}}, "Leave user names and passwords out"},
		{url.Values{"url": {"hooks.acme.test"}, "events": {"key.revoked"}}, "Enter a full URL"},
		{url.Values{"url": {"https://hooks.acme.test/"}}, "Choose at least one event"},
		{url.Values{"url": {"https://hooks.acme.test/"}, "events": {"key.stolen"}}, "Choose among the listed events"},
		{url.Values{"url": {"https://hooks.acme.test/"}, "events": {"key.revoked"}, "description": {"line\nbreak"}}, "not allowed"},
	} {
		res := owner.post("/webhooks", tc.form)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantContains(t, res.Body, tc.want)
	}
	if n := app.count(`SELECT count(*) FROM webhook_endpoints`); n != 0 {
		t.Errorf("%d endpoints stored from refused forms", n)
	}
}

func TestAReviewerSeesWebhooksButCannotChangeThem(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	id, _ := app.addWebhook(owner, "https://hooks.acme.test/", "key.revoked")
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	list := reviewer.get("/webhooks")
	wantStatus(t, list, http.StatusOK)
	wantContains(t, list.Body, "https://hooks.acme.test/", "You can view webhook endpoints")
	if strings.Contains(list.Body, "Add endpoint") {
		t.Error("a Reviewer is offered to add an endpoint")
	}
	page := reviewer.get(fmt.Sprintf("/webhooks/%d", id)).Body
	for _, action := range []string{"Send test event", "Roll secret", "Delete endpoint", ">Edit<"} {
		if strings.Contains(page, action) {
			t.Errorf("a Reviewer is offered %q", action)
		}
	}
	wantStatus(t, reviewer.post(fmt.Sprintf("/webhooks/%d/test", id), nil), http.StatusForbidden)
}

func TestEditingAndDeletingAnEndpoint(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	id, _ := app.addWebhook(owner, "https://hooks.acme.test/", "key.revoked")
	edit := owner.get(fmt.Sprintf("/webhooks/%d/edit", id))
	wantContains(t, edit.Body, `value="https://hooks.acme.test/"`, `value="key.revoked" checked`)
	res := owner.post(fmt.Sprintf("/webhooks/%d", id), url.Values{"url": {"https://hooks.acme.test/v2"}, "events": {"key.leaked", "key.rolled"}})
	wantStatus(t, res, http.StatusSeeOther)
	page := owner.get(fmt.Sprintf("/webhooks/%d", id)).Body
	wantContains(t, page, "https://hooks.acme.test/v2", "key.rolled", "key.leaked", "Disabled")
	wantContains(t, owner.get(fmt.Sprintf("/webhooks/%d/delete", id)).Body, "This cannot be undone.")
	wantStatus(t, owner.post(fmt.Sprintf("/webhooks/%d/delete", id), nil), http.StatusSeeOther)
	wantContains(t, owner.get("/webhooks").Body, "Deleted the webhook endpoint https://hooks.acme.test/v2.", "No webhook endpoint yet.")
	wantStatus(t, owner.get(fmt.Sprintf("/webhooks/%d", id)), http.StatusNotFound)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action IN ('webhook.created', 'webhook.updated', 'webhook.deleted')`); n != 3 {
		t.Errorf("%d audit events for add, edit and delete", n)
	}
}

func mustAddr(t *testing.T, s string) netip.Addr {
	t.Helper()
	a, err := netip.ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
