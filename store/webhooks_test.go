package store

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"keyport"
)

// webhookFixture is a merchant with an Owner, its first account and one endpoint.
type webhookFixture struct {
	db       *DB
	acme     SignupResult
	owner    keyport.Actor
	endpoint keyport.WebhookEndpoint
	secret   string
	advance  func(time.Duration)
}

func newWebhookFixture(t *testing.T, events ...keyport.WebhookEventType) webhookFixture {
	t.Helper()
	db, advance := clockedDB(t)
	acme := signedUp(t, db)
	owner := keyport.Actor{UserID: acme.Owner.ID, Label: acme.Owner.Email}
	if len(events) == 0 {
		events = keyport.WebhookEventTypes
	}
	in := keyport.WebhookEndpointInput{URL: "https://hooks.acme.test/keyport", Events: events, Enabled: true}
	if err := in.Validate(false); err != nil {
		t.Fatal(err)
	}
	e, secret, err := db.CreateWebhookEndpoint(context.Background(), owner, acme.Merchant.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	return webhookFixture{db: db, acme: acme, owner: owner, endpoint: e, secret: secret, advance: advance}
}

// sentEvents claims every due delivery and returns their event types in order, with their bodies.
func (f webhookFixture) sentEvents(t *testing.T) ([]keyport.WebhookEventType, []keyport.WebhookMessage) {
	t.Helper()
	msgs, err := f.db.ClaimWebhooks(context.Background(), 100, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var types []keyport.WebhookEventType
	for _, m := range msgs {
		types = append(types, m.EventType)
	}
	return types, msgs
}

func TestEveryChangeWritesItsWebhookEvent(t *testing.T) {
	ctx := context.Background()
	f := newWebhookFixture(t)
	db, mid, aid := f.db, f.acme.Merchant.ID, f.acme.Account.ID
	admin, err := db.CreateAdmin(ctx, "Root", "root@platform.test", "hash")
	if err != nil {
		t.Fatal(err)
	}
	staff := keyport.Actor{UserID: admin.ID, Label: admin.Email}
	var plaintexts []string
	var keyID int64
	var requestID int64
	steps := []struct {
		name string
		do   func() error
		want []keyport.WebhookEventType
	}{
		{"create a key", func() error {
			k, err := db.CreateKey(ctx, f.owner, keyport.NewKey{AccountID: aid, MerchantID: mid, Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "CI"})
			keyID = k.Key.ID
			plaintexts = append(plaintexts, k.Plaintext)
			return err
		}, []keyport.WebhookEventType{keyport.EventKeyCreated}},
		{"roll it", func() error {
			k, err := db.RollKey(ctx, f.owner, mid, aid, keyID, time.Hour)
			plaintexts = append(plaintexts, k.Plaintext)
			keyID = k.Key.ID
			return err
		}, []keyport.WebhookEventType{keyport.EventKeyRolled}},
		{"revoke the new key", func() error {
			_, err := db.RevokeKey(ctx, f.owner, mid, aid, keyID, "no longer used")
			return err
		}, []keyport.WebhookEventType{keyport.EventKeyRevoked}},
		{"revoke it again (refused)", func() error {
			_, err := db.RevokeKey(ctx, f.owner, mid, aid, keyID, "twice")
			if errors.Is(err, keyport.ErrConflict) {
				return nil
			}
			return err
		}, nil},
		{"file a live key request", func() error {
			r, err := db.FileRequest(ctx, f.owner, mid, aid, goodInput, 100)
			requestID = r.ID
			return err
		}, []keyport.WebhookEventType{keyport.EventLiveRequestFiled}},
		{"ask a question", func() error { return db.AskForInfo(ctx, staff, requestID, "What do you ship?") },
			[]keyport.WebhookEventType{keyport.EventLiveRequestNeedsInfo}},
		{"answer it", func() error { return db.AnswerRequest(ctx, f.owner, mid, aid, requestID, "Parcels") }, nil},
		{"approve", func() error { return db.ApproveRequest(ctx, staff, requestID) },
			[]keyport.WebhookEventType{keyport.EventLiveRequestApproved}},
		{"issue the live key", func() error {
			k, err := db.IssueLiveKey(ctx, f.owner, mid, aid, requestID)
			plaintexts = append(plaintexts, k.Plaintext)
			return err
		}, []keyport.WebhookEventType{keyport.EventKeyCreated}},
		{"reject another request", func() error {
			r, err := db.FileRequest(ctx, f.owner, mid, aid, goodInput, 100)
			if err != nil {
				return err
			}
			return db.RejectRequest(ctx, staff, r.ID, "Not a shipping business")
		}, []keyport.WebhookEventType{keyport.EventLiveRequestFiled, keyport.EventLiveRequestRejected}},
		{"disable the account", func() error {
			_, err := db.SetAccountDisabled(ctx, f.owner, mid, aid, true)
			return err
		}, []keyport.WebhookEventType{keyport.EventAPIAccountDisabled}},
		{"disable it again (no change)", func() error {
			_, err := db.SetAccountDisabled(ctx, f.owner, mid, aid, true)
			return err
		}, nil},
		{"enable it", func() error {
			_, err := db.SetAccountDisabled(ctx, f.owner, mid, aid, false)
			return err
		}, []keyport.WebhookEventType{keyport.EventAPIAccountEnabled}},
		{"delete it", func() error {
			_, err := db.DeleteAccount(ctx, f.owner, mid, aid)
			return err
		}, []keyport.WebhookEventType{keyport.EventKeyRevoked, keyport.EventKeyRevoked, keyport.EventAPIAccountDeleted}},
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got, msgs := f.sentEvents(t)
		if !slices.Equal(got, step.want) {
			t.Errorf("%s: events %v, want %v", step.name, got, step.want)
		}
		for _, m := range msgs {
			var body struct {
				Type keyport.WebhookEventType `json:"type"`
				Data map[string]any           `json:"data"`
			}
			if err := json.Unmarshal(m.Body, &body); err != nil || body.Type != m.EventType || body.Data["merchant_id"] != float64(mid) {
				t.Errorf("%s: body %s (%v)", step.name, m.Body, err)
			}
			for _, p := range plaintexts {
				if p != "" && strings.Contains(string(m.Body), p[len(p)-12:]) {
					t.Errorf("%s: the %s event holds a key's secret: %s", step.name, m.EventType, m.Body)
				}
			}
			if !strings.HasPrefix(m.EventID, "msg_") || !slices.Equal(m.Secrets, []string{f.secret}) {
				t.Errorf("%s: id %q, secrets %d", step.name, m.EventID, len(m.Secrets))
			}
			if err := db.WebhookDelivered(ctx, m, keyport.WebhookAttempt{Status: 204}); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func TestAnEndpointReceivesOnlyWhatItSubscribesTo(t *testing.T) {
	ctx := context.Background()
	f := newWebhookFixture(t, keyport.EventKeyRevoked)
	k, err := f.db.CreateKey(ctx, f.owner, keyport.NewKey{AccountID: f.acme.Account.ID, MerchantID: f.acme.Merchant.ID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "CI"})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := f.sentEvents(t); len(got) != 0 {
		t.Fatalf("an endpoint of key.revoked only got %v", got)
	}
	if n := count(t, f.db, `SELECT count(*) FROM webhook_events`); n != 0 {
		t.Errorf("%d events written that no endpoint receives", n)
	}
	if _, err := f.db.RevokeKey(ctx, f.owner, f.acme.Merchant.ID, f.acme.Account.ID, k.Key.ID, "test"); err != nil {
		t.Fatal(err)
	}
	got, msgs := f.sentEvents(t)
	if !slices.Equal(got, []keyport.WebhookEventType{keyport.EventKeyRevoked}) {
		t.Fatalf("events %v", got)
	}
	var body struct {
		Data struct {
			Key    map[string]any `json:"key"`
			Reason string         `json:"reason"`
			Actor  string         `json:"actor"`
		} `json:"data"`
	}
	if err := json.Unmarshal(msgs[0].Body, &body); err != nil {
		t.Fatal(err)
	}
	if body.Data.Reason != "test" || body.Data.Actor != f.owner.Label || body.Data.Key["redacted"] != k.Key.Redacted() || body.Data.Key["revoked_at"] == nil {
		t.Errorf("key.revoked body: %s", msgs[0].Body)
	}
}

func TestAFailingEndpointIsRetriedThenDisabledAndItsOwnersEmailed(t *testing.T) {
	ctx := context.Background()
	f := newWebhookFixture(t)
	if err := f.db.SendTestWebhook(ctx, f.owner, f.acme.Merchant.ID, f.endpoint.ID); err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	attempts := 0
	for {
		_, msgs := f.sentEvents(t)
		if len(msgs) == 0 {
			break
		}
		if len(msgs) != 1 || msgs[0].EventType != keyport.EventPing {
			t.Fatalf("claimed %v", msgs)
		}
		attempts++
		if err := f.db.WebhookDelivered(ctx, msgs[0], keyport.WebhookAttempt{Status: 503, Excerpt: "down\x00 for maintenance \xff"}); err != nil {
			t.Fatal(err)
		}
		list, err := f.db.WebhookDeliveries(ctx, f.acme.Merchant.ID, f.endpoint.ID)
		if err != nil {
			t.Fatal(err)
		}
		if list[0].State != keyport.WebhookPending {
			break
		}
		wait := list[0].NextAttemptAt.Sub(f.db.Now())
		waits = append(waits, wait)
		f.advance(wait)
	}
	if waits[0] != 30*time.Second || waits[1] != time.Minute || slices.Max(waits) != 4*time.Hour {
		t.Errorf("waits between attempts: %v", waits)
	}
	list, err := f.db.WebhookDeliveries(ctx, f.acme.Merchant.ID, f.endpoint.ID)
	if err != nil {
		t.Fatal(err)
	}
	if list[0].State != keyport.WebhookFailed || len(list[0].Log) != attempts || list[0].Log[0].Status != 503 {
		t.Fatalf("delivery after %d attempts: %+v", attempts, list[0])
	}
	if got := list[0].Log[0].Excerpt; got != "down for maintenance �" {
		t.Errorf("excerpt %q", got)
	}
	e, err := f.db.WebhookEndpointOf(ctx, f.acme.Merchant.ID, f.endpoint.ID)
	if err != nil {
		t.Fatal(err)
	}
	if e.Enabled || e.DisabledReason == "" {
		t.Errorf("endpoint after 3 days of failures: enabled=%t reason %q", e.Enabled, e.DisabledReason)
	}
	if n := count(t, f.db, `SELECT count(*) FROM outbox WHERE kind = 'webhook_disabled' AND recipient = $1`, f.acme.Owner.Email); n != 1 {
		t.Errorf("%d messages to the Owner about the disabled endpoint", n)
	}
	if n := count(t, f.db, `SELECT count(*) FROM audit_events WHERE action = 'webhook.disabled'`); n != 1 {
		t.Errorf("%d audit events of the disabling", n)
	}
}

func TestASuccessBetweenFailuresKeepsTheEndpointEnabled(t *testing.T) {
	ctx := context.Background()
	f := newWebhookFixture(t)
	mid := f.acme.Merchant.ID
	for range 2 {
		if err := f.db.SendTestWebhook(ctx, f.owner, mid, f.endpoint.ID); err != nil {
			t.Fatal(err)
		}
	}
	_, msgs := f.sentEvents(t)
	if err := f.db.WebhookDelivered(ctx, msgs[0], keyport.WebhookAttempt{Status: 500}); err != nil {
		t.Fatal(err)
	}
	f.advance(time.Hour)
	if err := f.db.WebhookDelivered(ctx, msgs[1], keyport.WebhookAttempt{Status: 200}); err != nil {
		t.Fatal(err)
	}
	for {
		f.advance(4 * time.Hour)
		_, due := f.sentEvents(t)
		if len(due) == 0 {
			break
		}
		if err := f.db.WebhookDelivered(ctx, due[0], keyport.WebhookAttempt{Status: 500}); err != nil {
			t.Fatal(err)
		}
	}
	e, err := f.db.WebhookEndpointOf(ctx, mid, f.endpoint.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !e.Enabled {
		t.Error("an endpoint that succeeded after the failing delivery's first attempt was disabled")
	}
}

func TestARolledSecretSignsBesideTheNewOneDuringItsGrace(t *testing.T) {
	ctx := context.Background()
	f := newWebhookFixture(t)
	mid := f.acme.Merchant.ID
	secret, err := f.db.RollWebhookSecret(ctx, f.owner, mid, f.endpoint.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if secret == f.secret || !strings.HasPrefix(secret, keyport.WebhookSecretPrefix) {
		t.Fatalf("rolled secret %q", secret)
	}
	ping := func() []string {
		t.Helper()
		if err := f.db.SendTestWebhook(ctx, f.owner, mid, f.endpoint.ID); err != nil {
			t.Fatal(err)
		}
		_, msgs := f.sentEvents(t)
		if len(msgs) != 1 {
			t.Fatalf("claimed %d", len(msgs))
		}
		if err := f.db.WebhookDelivered(ctx, msgs[0], keyport.WebhookAttempt{Status: 200}); err != nil {
			t.Fatal(err)
		}
		return msgs[0].Secrets
	}
	if got := ping(); !slices.Equal(got, []string{secret, f.secret}) {
		t.Errorf("during the grace period the secrets are %d", len(got))
	}
	f.advance(time.Hour + time.Second)
	if got := ping(); !slices.Equal(got, []string{secret}) {
		t.Errorf("after the grace period the secrets are %d", len(got))
	}
	again, err := f.db.RollWebhookSecret(ctx, f.owner, mid, f.endpoint.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := ping(); !slices.Equal(got, []string{again}) {
		t.Errorf("a roll without grace keeps %d secrets", len(got))
	}
	var stored []byte
	if err := f.db.SQL().QueryRow(`SELECT secret FROM webhook_endpoints WHERE id = $1`, f.endpoint.ID).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(stored), strings.TrimPrefix(again, keyport.WebhookSecretPrefix)) {
		t.Error("the signing secret is stored in plaintext")
	}
}

func TestWebhookEndpointsAreTheMerchantsOwn(t *testing.T) {
	ctx := context.Background()
	f := newWebhookFixture(t)
	other, err := f.db.CreateSignup(ctx, keyport.Signup{MerchantName: "Globex", Name: "Gil", Email: "gil@globex.test"}, "hash", "")
	if err != nil {
		t.Fatal(err)
	}
	gil := keyport.Actor{UserID: other.Owner.ID, Label: other.Owner.Email}
	if err := f.db.SendTestWebhook(ctx, f.owner, f.acme.Merchant.ID, f.endpoint.ID); err != nil {
		t.Fatal(err)
	}
	list, err := f.db.WebhookDeliveries(ctx, f.acme.Merchant.ID, f.endpoint.ID)
	if err != nil || len(list) != 1 {
		t.Fatalf("deliveries %v, %v", list, err)
	}
	gid := other.Merchant.ID
	in := keyport.WebhookEndpointInput{URL: "https://evil.test/", Events: keyport.WebhookEventTypes, Enabled: true}
	for name, err := range map[string]error{
		"read":   func() error { _, err := f.db.WebhookEndpointOf(ctx, gid, f.endpoint.ID); return err }(),
		"update": func() error { _, err := f.db.UpdateWebhookEndpoint(ctx, gil, gid, f.endpoint.ID, in); return err }(),
		"roll":   func() error { _, err := f.db.RollWebhookSecret(ctx, gil, gid, f.endpoint.ID, 0); return err }(),
		"test":   f.db.SendTestWebhook(ctx, gil, gid, f.endpoint.ID),
		"resend": f.db.ResendWebhook(ctx, gid, f.endpoint.ID, list[0].ID),
		"delete": f.db.DeleteWebhookEndpoint(ctx, gil, gid, f.endpoint.ID),
		"log":    func() error { l, _ := f.db.WebhookDeliveries(ctx, gid, f.endpoint.ID); return notEmpty(l) }(),
	} {
		if !errors.Is(err, keyport.ErrNotFound) {
			t.Errorf("%s of another merchant's endpoint: %v", name, err)
		}
	}
	e, err := f.db.WebhookEndpointOf(ctx, f.acme.Merchant.ID, f.endpoint.ID)
	if err != nil || e.URL != f.endpoint.URL {
		t.Errorf("the endpoint changed: %+v %v", e, err)
	}
}

func notEmpty[T any](list []T) error {
	if len(list) == 0 {
		return keyport.ErrNotFound
	}
	return errors.New("listed")
}

func TestResendSendsTheSameEventAgainAndDeleteDropsWhatWaits(t *testing.T) {
	ctx := context.Background()
	f := newWebhookFixture(t)
	mid := f.acme.Merchant.ID
	if err := f.db.SendTestWebhook(ctx, f.owner, mid, f.endpoint.ID); err != nil {
		t.Fatal(err)
	}
	_, first := f.sentEvents(t)
	if err := f.db.WebhookDelivered(ctx, first[0], keyport.WebhookAttempt{Status: 200}); err != nil {
		t.Fatal(err)
	}
	if err := f.db.ResendWebhook(ctx, mid, f.endpoint.ID, first[0].DeliveryID); err != nil {
		t.Fatal(err)
	}
	_, again := f.sentEvents(t)
	if len(again) != 1 || again[0].EventID != first[0].EventID || string(again[0].Body) != string(first[0].Body) {
		t.Fatalf("resent %+v", again)
	}
	if err := f.db.SendTestWebhook(ctx, f.owner, mid, f.endpoint.ID); err != nil {
		t.Fatal(err)
	}
	if err := f.db.DeleteWebhookEndpoint(ctx, f.owner, mid, f.endpoint.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.sentEvents(t); len(got) != 0 {
		t.Errorf("a deleted endpoint still gets %v", got)
	}
	if _, err := f.db.WebhookEndpointOf(ctx, mid, f.endpoint.ID); !errors.Is(err, keyport.ErrNotFound) {
		t.Errorf("a deleted endpoint is still found: %v", err)
	}
}

func TestExpiryWritesExpiringAndExpiredEventsOnce(t *testing.T) {
	ctx := context.Background()
	f := newWebhookFixture(t, keyport.EventKeyExpiring, keyport.EventKeyExpired)
	_, err := f.db.CreateKey(ctx, f.owner, keyport.NewKey{AccountID: f.acme.Account.ID, MerchantID: f.acme.Merchant.ID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "CI", ExpiresAt: f.db.Now().Add(10 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 12 {
		f.advance(24 * time.Hour)
		for range 2 {
			if _, err := f.db.SendExpiryReminders(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := f.db.LogExpiredKeys(ctx); err != nil {
				t.Fatal(err)
			}
		}
		_, msgs := f.sentEvents(t)
		for _, m := range msgs {
			var body struct {
				Data struct {
					Reminder string `json:"reminder"`
				} `json:"data"`
			}
			_ = json.Unmarshal(m.Body, &body)
			if err := f.db.WebhookDelivered(ctx, m, keyport.WebhookAttempt{Status: 200}); err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.TrimSpace(string(m.EventType)+" "+body.Data.Reminder))
		}
	}
	if want := []string{"key.expiring 7d", "key.expiring 1d", "key.expired"}; !slices.Equal(got, want) {
		t.Errorf("events %v, want %v", got, want)
	}
}
