package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"keyport"
	"keyport/web/mailtest"
)

// mailsTo returns the subjects of the emails mails accepted for to.
func mailsTo(mails *mailtest.Server, to string) []string {
	var subjects []string
	for _, m := range mails.Mails() {
		if len(m.To) == 1 && m.To[0] == to {
			subjects = append(subjects, m.Subject)
		}
	}
	return subjects
}

func TestRequestsKeysAndMerchantsAreEmailedToThePeopleTheyConcern(t *testing.T) {
	app := newTestApp(t)
	mails := mailtest.Start(t)
	app.withMailer(mailerFor(app, mails))
	app.runSender(time.Hour)
	owner, res := app.merchant("Acme", "owner@acme.test")
	app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	admin := app.adminClient()

	questioned := owner.file(res, "Checkout live")
	filed := mails.WaitFor("staff@keyport.test", "Live key request from Acme: Checkout live")
	wantContains(t, filed.Text, "owner@acme.test of Acme asks for a live key named \"Checkout live\"",
		fmt.Sprintf("http://example.test/admin/requests/%d", questioned))
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/ask", questioned), url.Values{"question": {"Which shop is it for?"}}), http.StatusSeeOther)
	asked := mails.WaitFor("owner@acme.test", "A question about your live key request")
	wantContains(t, asked.Text, "Which shop is it for?", fmt.Sprintf("http://example.test/accounts/%d/keys", res.Account.ID))
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/reject", questioned), url.Values{"reason": {"Tell us about the shop first."}}),
		http.StatusSeeOther)
	rejected := mails.WaitFor("owner@acme.test", "was rejected")
	wantContains(t, rejected.Text, "Their reason: Tell us about the shop first.")
	approvedID := owner.file(res, "Warehouse live")
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", approvedID), nil), http.StatusSeeOther)
	mails.WaitFor("owner@acme.test", `Your live key request "Warehouse live" was approved`)

	key, err := app.db.CreateKey(context.Background(), keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "Leaky", Access: keyport.AccessFull})
	if err != nil {
		t.Fatal(err)
	}
	revoke := admin.post(fmt.Sprintf("/admin/merchants/%d/secrets/%d/revoke", res.Merchant.ID, key.Key.ID), url.Values{"reason": {"Found in a public gist."}})
	if revoke.Code >= 400 {
		t.Fatalf("revoke: %d", revoke.Code)
	}
	revoked := mails.WaitFor("owner@acme.test", "The API team revoked your key Leaky")
	wantContains(t, revoked.Text, "Their reason: Found in a public gist.", key.Key.Redacted())
	if strings.Contains(revoked.Text+revoked.HTML, key.Plaintext) {
		t.Fatal("the email carries the key's secret")
	}

	wantStatus(t, admin.post(fmt.Sprintf("/admin/merchants/%d/disable", res.Merchant.ID), nil), http.StatusSeeOther)
	mails.WaitFor("owner@acme.test", "Acme was disabled on Keyport")
	wantStatus(t, admin.post(fmt.Sprintf("/admin/merchants/%d/enable", res.Merchant.ID), nil), http.StatusSeeOther)
	mails.WaitFor("owner@acme.test", "Acme was enabled again on Keyport")

	app.waitForCount(`SELECT count(*) FROM outbox WHERE state <> 'sent'`, 0)
	if got := mailsTo(mails, "dev@acme.test"); len(got) != 0 {
		t.Fatalf("a Developer received the Owners' and the requester's email: %q", got)
	}
	if got := mailsTo(mails, "staff@keyport.test"); len(got) != 2 {
		t.Fatalf("the admin received %q, want the two requests filed", got)
	}
	if got := mailsTo(mails, "owner@acme.test"); len(got) != 6 {
		t.Fatalf("the Owner received %q, want 6 emails", got)
	}
}

func TestOwnRevocationsSendNothing(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	key, err := app.db.CreateKey(context.Background(), keyport.SystemActor, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID,
		Type: keyport.KeySecret, Mode: keyport.ModeTest, Name: "Mine", Access: keyport.AccessFull})
	if err != nil {
		t.Fatal(err)
	}
	r := owner.post(fmt.Sprintf("/accounts/%d/keys/%d/revoke", res.Account.ID, key.Key.ID), nil)
	if r.Code >= 400 {
		t.Fatalf("revoke: %d", r.Code)
	}
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'key_revoked'`); n != 0 {
		t.Fatalf("a merchant's own revocation wrote %d messages", n)
	}
}

func TestEmailPreferencesTurnOffOptionalTopicsOnly(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	page := owner.get("/settings")
	wantContains(t, page.Body, "Send me email about", `name="receive" value="requests" checked`, `name="receive" value="expiry" checked`)
	wantStatus(t, owner.post("/settings/email", url.Values{"receive": {"expiry", "everything"}}), http.StatusUnprocessableEntity)
	saved := owner.post("/settings/email", url.Values{"receive": {"expiry"}})
	wantStatus(t, saved, http.StatusSeeOther)
	page = owner.get("/settings")
	wantContains(t, page.Body, "Email preferences saved.", `name="receive" value="expiry" checked`)
	if strings.Contains(page.Body, `value="requests" checked`) {
		t.Fatal("a topic turned off shows as received")
	}

	admin := app.adminClient()
	id := owner.file(res, "Quiet live")
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", id), nil), http.StatusSeeOther)
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'request_answered'`); n != 0 {
		t.Fatal("an answer was emailed to an Owner who turned live key requests off")
	}
	wantStatus(t, admin.post(fmt.Sprintf("/admin/merchants/%d/disable", res.Merchant.ID), nil), http.StatusSeeOther)
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'merchant_disabled' AND recipient = 'owner@acme.test'`); n != 1 {
		t.Fatal("a security notice was not sent")
	}
}

func TestExpiryRemindersAreSentOncePerKeyAndThreshold(t *testing.T) {
	app := newTestApp(t)
	_, res := app.merchant("Acme", "owner@acme.test")
	creator, err := app.db.AddMember(context.Background(), keyport.SystemActor, res.Merchant.ID, "Dev", "dev@acme.test", keyport.RoleDeveloper,
		passwordHashOnce())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	newKey := func(name string, expires time.Duration) {
		t.Helper()
		actor := keyport.Actor{UserID: creator.ID, Label: creator.Email}
		if _, err := app.db.CreateKey(ctx, actor, keyport.NewKey{AccountID: res.Account.ID, MerchantID: res.Merchant.ID, Type: keyport.KeySecret,
			Mode: keyport.ModeTest, Name: name, Access: keyport.AccessFull, ExpiresAt: app.clock().Add(expires)}); err != nil {
			t.Fatal(err)
		}
	}
	newKey("Ten days", 10*24*time.Hour)
	newKey("Half a day", 12*time.Hour)
	sweep := func() int {
		t.Helper()
		n, err := app.db.SendExpiryReminders(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	expiring := func() int {
		return app.count(`SELECT count(*) FROM outbox WHERE kind = 'key_expiring'`)
	}
	if n := sweep(); n != 1 || expiring() != 2 {
		t.Fatalf("first sweep: %d keys, %d messages; want the half-day key's one reminder to its creator and the Owner", n, expiring())
	}
	if sweep() != 0 {
		t.Fatal("a reminder was sent twice")
	}
	app.advance(3*24*time.Hour + time.Minute)
	if n := sweep(); n != 1 || expiring() != 4 {
		t.Fatalf("7 days before: %d keys, %d messages", n, expiring())
	}
	app.advance(6 * 24 * time.Hour)
	if n := sweep(); n != 1 || expiring() != 6 {
		t.Fatalf("1 day before: %d keys, %d messages", n, expiring())
	}
	if sweep() != 0 {
		t.Fatal("a reminder was sent twice")
	}
	if n, err := app.db.LogExpiredKeys(ctx); err != nil || n != 1 {
		t.Fatalf("expired sweep: %d, %v", n, err)
	}
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'key_expired'`); n != 2 {
		t.Fatalf("%d expiry messages for the half-day key, want its creator and the Owner", n)
	}
	data := app.messageData(keyport.MessageKeyExpiring, "dev@acme.test")
	if data["key_name"] != "Ten days" || !strings.Contains(data["key"], "****") || data["expires"] == "" {
		t.Fatalf("the reminder says %v", data)
	}
	email, err := app.renderedMessage(keyport.MessageKeyExpiring, "dev@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, email.Subject, "Your key Ten days expires on")
	wantContains(t, email.Text, "Roll the key", fmt.Sprintf("http://example.test/accounts/%d/keys", res.Account.ID),
		"You receive this because of your email preferences")
}
