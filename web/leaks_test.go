package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"keyport"
)

// reportLeak posts body to /v1/leaks without a key.
func (a *testApp) reportLeak(body string) response {
	a.t.Helper()
	return a.callAPI(http.MethodPost, "/v1/leaks", nil, body)
}

func leakBody(token, where string) string {
	b, _ := json.Marshal(map[string]string{"token": token, "url": where})
	return string(b)
}

func TestALeakedSecretKeyIsRevokedAtOnce(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	hook := newReceiver(t)
	app.addWebhook(owner, hook.URL, "key.leaked", "key.revoked")
	app.runWebhookSender(10 * time.Millisecond)
	key := app.newKey(res, keyport.NewKey{Name: "Pushed to GitHub"})
	wantStatus(t, app.api(http.MethodGet, "/v1/couriers", key, ""), http.StatusOK)

	where := "https://github.com/acme/shop/blob/main/.env"
	answer := app.reportLeak(leakBody(key, where))
	wantStatus(t, answer, http.StatusAccepted)
	wantStatus(t, app.api(http.MethodGet, "/v1/couriers", key, ""), http.StatusUnauthorized)

	var reason string
	if err := app.db.SQL().QueryRow(`SELECT revoke_reason FROM api_keys WHERE name = 'Pushed to GitHub'`).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if reason != "found public at "+where {
		t.Errorf("revoke reason %q", reason)
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'key.leaked' AND detail LIKE '%revoked'`); n != 1 {
		t.Errorf("%d key.leaked audit events", n)
	}
	mail := app.messageData(keyport.MessageKeyLeaked, "owner@acme.test")
	if mail["url"] != where || mail["revoked"] != "true" {
		t.Errorf("the Owner's email data: %v", mail)
	}
	got := hook.wait(t, 2)
	var types []string
	for _, r := range got {
		var ev struct {
			Type string `json:"type"`
			Data struct {
				URL     string `json:"url"`
				Revoked bool   `json:"revoked"`
			} `json:"data"`
		}
		if err := json.Unmarshal(r.body, &ev); err != nil {
			t.Fatal(err)
		}
		types = append(types, ev.Type)
		if ev.Type == "key.leaked" && (ev.Data.URL != where || !ev.Data.Revoked) {
			t.Errorf("key.leaked event %s", r.body)
		}
	}
	if strings.Join(types, " ") != "key.revoked key.leaked" {
		t.Errorf("webhook events %v", types)
	}

	again := app.reportLeak(leakBody(key, where))
	wantStatus(t, again, http.StatusAccepted)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'key.leaked'`); n != 1 {
		t.Errorf("a second report of a revoked key wrote %d events in all", n)
	}
}

func TestTheLeakReportAnswersTheSameWhateverItMatched(t *testing.T) {
	app := newTestApp(t)
	_, res := app.merchant("Acme", "owner@acme.test")
	secret := app.newKey(res, keyport.NewKey{Name: "Secret"})
	publishable := app.newKey(res, keyport.NewKey{Name: "Browser", Type: keyport.KeyPublishable})
	unknown, err := keyport.MintKey(keyport.KeySecret, keyport.ModeLive)
	if err != nil {
		t.Fatal(err)
	}
	var bodies []string
	for _, token := range []string{unknown.String(), "not-a-key", "sk_test_" + strings.Repeat("A", 36), publishable, secret} {
		r := app.reportLeak(leakBody(token, "https://pastebin.example/raw/1"))
		wantStatus(t, r, http.StatusAccepted)
		bodies = append(bodies, r.Body)
	}
	for _, b := range bodies[1:] {
		if b != bodies[0] {
			t.Errorf("answers differ: %q and %q", bodies[0], b)
		}
	}
	wantStatus(t, app.api(http.MethodGet, "/v1/couriers", publishable, ""), http.StatusOK)
	wantStatus(t, app.api(http.MethodGet, "/v1/couriers", secret, ""), http.StatusUnauthorized)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'key.leaked'`); n != 2 {
		t.Errorf("%d key.leaked events, want the publishable and the secret key's", n)
	}
	if data := app.messageData(keyport.MessageKeyLeaked, "owner@acme.test"); data["revoked"] == "" {
		t.Errorf("no leak email: %v", data)
	}
}

func TestALeakReportListRevokesEveryKeyInIt(t *testing.T) {
	app := newTestApp(t)
	_, res := app.merchant("Acme", "owner@acme.test")
	a := app.newKey(res, keyport.NewKey{Name: "A"})
	b := app.newKey(res, keyport.NewKey{Name: "B"})
	body := fmt.Sprintf(`[{"token": %q, "type": "keyport_secret_key", "url": "https://github.com/acme/a", "source": "content"},
		{"token": %q, "type": "keyport_secret_key", "url": "https://github.com/acme/b", "source": "commit"}]`, a, b)
	wantStatus(t, app.reportLeak(body), http.StatusAccepted)
	for _, key := range []string{a, b} {
		wantStatus(t, app.api(http.MethodGet, "/v1/couriers", key, ""), http.StatusUnauthorized)
	}
}

func TestNotifyOnlyLeavesALeakedKeyWorking(t *testing.T) {
	app := newTestApp(t)
	_, res := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	wantStatus(t, admin.post("/admin/settings", map[string][]string{"token_cap": {"2"}, "leak_action": {"notify"}}), http.StatusSeeOther)
	if action, err := app.db.LeakAction(context.Background()); err != nil || action != keyport.LeakNotify {
		t.Fatalf("leak action %q, %v", action, err)
	}
	wantContains(t, admin.get("/admin/settings").Body, `value="notify" checked`)
	key := app.newKey(res, keyport.NewKey{Name: "CI"})
	wantStatus(t, app.reportLeak(leakBody(key, "https://github.com/acme/ci")), http.StatusAccepted)
	wantStatus(t, app.api(http.MethodGet, "/v1/couriers", key, ""), http.StatusOK)
	if data := app.messageData(keyport.MessageKeyLeaked, "owner@acme.test"); data["revoked"] != "false" {
		t.Errorf("the Owner's email says revoked=%q", data["revoked"])
	}
}

func TestTheLeakReportRefusesBadInputAndFloods(t *testing.T) {
	app := newTestApp(t)
	many := "[" + strings.TrimSuffix(strings.Repeat(`{"token": "sk_test_x"},`, keyport.MaxLeakReports+1), ",") + "]"
	for _, tc := range []struct {
		body, field string
	}{
		{`{"token": "sk_test_x"`, "body"},
		{`{"token": 42}`, "token"},
		{`{"token": "sk_test_x", "where": "x"}`, "where"},
		{`{"url": "https://x.test"}`, "token"},
		{`[]`, "body"},
		{many, "body"},
		{`{"token": "sk_test_x", "url": "line\nbreak"}`, "url"},
		{`[{"token": "sk_test_x"}, {"token": ""}]`, "1.token"},
	} {
		r := app.reportLeak(tc.body)
		var problem struct {
			Field string `json:"field"`
		}
		wantJSON(t, r, http.StatusBadRequest, &problem)
		if problem.Field != tc.field {
			t.Errorf("%.40s: field %q, want %q", tc.body, problem.Field, tc.field)
		}
	}
	for i := range keyport.NewLeakThrottle().PerIP {
		if r := app.reportLeak(leakBody("sk_test_x", "")); r.Code != http.StatusAccepted {
			t.Fatalf("report %d: %d", i, r.Code)
		}
	}
	r := app.reportLeak(leakBody("sk_test_x", ""))
	wantStatus(t, r, http.StatusTooManyRequests)
	if r.Header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
