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

func TestASignInFromANewBrowserIsEmailed(t *testing.T) {
	app := newTestApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	newSignIns := func() int { return app.count(`SELECT count(*) FROM outbox WHERE kind = 'new_sign_in'`) }
	laptop := app.client()
	laptop.login("owner@acme.test")
	laptop.post("/logout", nil)
	laptop.login("owner@acme.test")
	if n := newSignIns(); n != 0 {
		t.Fatalf("%d new sign-in messages for the first browser and its return", n)
	}
	phone := app.client()
	phone.login("owner@acme.test")
	if n := newSignIns(); n != 1 {
		t.Fatalf("%d new sign-in messages after a second browser, want 1", n)
	}
	phone.login("owner@acme.test")
	if n := newSignIns(); n != 1 {
		t.Fatal("a known browser was reported as new")
	}
	wrong := app.client().post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"not-the-password-1"}})
	wantStatus(t, wrong, http.StatusUnauthorized)
	if n := newSignIns(); n != 1 {
		t.Fatal("a failed sign-in was reported")
	}
	email, err := app.renderedMessage(keyport.MessageNewSignIn, "owner@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, email.Text, "203.0.113.7", "an unknown browser", "If this wasn't you", "http://example.test/password/forgot",
		"Keyport always sends this security notice.")
}

// TestEveryMessageKindReachesTheMailServer makes Keyport write one message of
// every kind through the portal and the sweeps, delivers them through a real
// SMTP server, and checks that each arrived rendered, with nothing left unsent.
func TestEveryMessageKindReachesTheMailServer(t *testing.T) {
	app := newTestApp(t)
	mails := mailtest.Start(t)
	app.withMailer(mailerFor(app, mails))
	ctx := context.Background()

	guest := app.client()
	guest.signUp(signupForm("Acme", "Ada", "ada@acme.test", "a-long-unusual-passphrase"))
	guest.post("/signup", signupForm("Acme again", "Ada", "ada@acme.test", "a-long-unusual-passphrase"))
	var res struct{ merchant, account int64 }
	if err := app.db.SQL().QueryRow(`SELECT merchant_id, id FROM api_accounts`).Scan(&res.merchant, &res.account); err != nil {
		t.Fatal(err)
	}
	admin := app.adminClient()
	wantStatus(t, admin.post("/admin/settings", url.Values{"token_cap": {"0"}}), http.StatusSeeOther)
	for _, email := range []string{"rita@acme.test", "staff@keyport.test"} {
		wantStatus(t, guest.post("/team/invitations", url.Values{"email": {email}, "role": {string(keyport.RoleReviewer)}}), http.StatusOK)
	}
	app.client().post("/password/forgot", url.Values{"email": {"ada@acme.test"}})
	guest.post("/settings/password", url.Values{"current_password": {"a-long-unusual-passphrase"},
		"new_password": {"another-long-passphrase-7"}, "confirm_password": {"another-long-passphrase-7"}})
	app.client().login("staff@keyport.test")
	wantStatus(t, guest.post(fmt.Sprintf("/accounts/%d/requests", res.account), goodRequest("Live one")), http.StatusSeeOther)
	var requestID int64
	if err := app.db.SQL().QueryRow(`SELECT max(id) FROM live_key_requests`).Scan(&requestID); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, admin.post(fmt.Sprintf("/admin/requests/%d/approve", requestID), nil), http.StatusSeeOther)
	owner, err := app.db.UserByEmail(ctx, "ada@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	actor := keyport.Actor{UserID: owner.ID, Label: owner.Email}
	for _, expiry := range []time.Duration{time.Hour, 30 * time.Hour} {
		if _, err := app.db.CreateKey(ctx, actor, keyport.NewKey{AccountID: res.account, MerchantID: res.merchant, Type: keyport.KeySecret,
			Mode: keyport.ModeTest, Name: "Short lived", Access: keyport.AccessFull, ExpiresAt: app.clock().Add(expiry)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := app.db.SendExpiryReminders(ctx); err != nil {
		t.Fatal(err)
	}
	leaked, err := app.db.CreateKey(ctx, actor, keyport.NewKey{AccountID: res.account, MerchantID: res.merchant, Type: keyport.KeySecret,
		Mode: keyport.ModeTest, Name: "Leaked", Access: keyport.AccessFull})
	if err != nil {
		t.Fatal(err)
	}
	admin.post(fmt.Sprintf("/admin/merchants/%d/secrets/%d/revoke", res.merchant, leaked.Key.ID), url.Values{"reason": {"Public repository."}})
	wantStatus(t, admin.post(fmt.Sprintf("/admin/merchants/%d/disable", res.merchant), nil), http.StatusSeeOther)
	wantStatus(t, admin.post(fmt.Sprintf("/admin/merchants/%d/enable", res.merchant), nil), http.StatusSeeOther)
	app.advance(2 * time.Hour)
	if _, err := app.db.LogExpiredKeys(ctx); err != nil {
		t.Fatal(err)
	}
	pushed, err := app.db.CreateKey(ctx, actor, keyport.NewKey{AccountID: res.account, MerchantID: res.merchant, Type: keyport.KeySecret,
		Mode: keyport.ModeTest, Name: "Pushed", Access: keyport.AccessFull})
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, app.reportLeak(leakBody(pushed.Plaintext, "https://github.com/acme/shop")), http.StatusAccepted)
	hook, _, err := app.db.CreateWebhookEndpoint(ctx, actor, res.merchant, keyport.WebhookEndpointInput{URL: "https://hooks.acme.test/",
		Events: keyport.WebhookEventTypes, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.db.SendTestWebhook(ctx, actor, res.merchant, hook.ID); err != nil {
		t.Fatal(err)
	}
	for {
		due, err := app.db.ClaimWebhooks(ctx, 10, time.Minute)
		if err != nil || len(due) == 0 {
			break
		}
		for _, m := range due {
			if err := app.db.WebhookDelivered(ctx, m, keyport.WebhookAttempt{Status: http.StatusBadGateway}); err != nil {
				t.Fatal(err)
			}
		}
		app.advance(4 * time.Hour)
	}

	app.srv.deliverDue(ctx)
	if n := app.count(`SELECT count(*) FROM outbox WHERE state <> 'sent'`); n != 0 {
		t.Fatalf("%d messages not sent", n)
	}
	kinds := map[string]bool{}
	rows, err := app.db.SQL().Query(`SELECT DISTINCT kind FROM outbox`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			t.Fatal(err)
		}
		kinds[k] = true
	}
	rows.Close()
	for _, k := range []keyport.MessageKind{keyport.MessageInvitation, keyport.MessageInvitationHasAccount, keyport.MessagePasswordReset, keyport.MessagePasswordChanged,
		keyport.MessageVerifyEmail, keyport.MessageAccountExists, keyport.MessageNewSignIn, keyport.MessageRequestFiled,
		keyport.MessageRequestAnswered, keyport.MessageKeyExpiring, keyport.MessageKeyExpired, keyport.MessageKeyRevoked,
		keyport.MessageMerchantDisabled, keyport.MessageMerchantEnabled, keyport.MessageKeyLeaked, keyport.MessageWebhookDisabled} {
		if !kinds[string(k)] {
			t.Errorf("no %s message was written", k)
		}
		if keyport.MessageKindLabel(k) == string(k) {
			t.Errorf("%s has no label for admins", k)
		}
	}
	for _, m := range mails.Mails() {
		if m.Subject == "" || m.Text == "" || !strings.Contains(m.HTML, "<h1") {
			t.Errorf("an email arrived without its subject, text or HTML: %+v", m)
		}
	}
	if len(mails.Mails()) != app.count(`SELECT count(*) FROM outbox`) {
		t.Fatalf("%d emails arrived for %d messages", len(mails.Mails()), app.count(`SELECT count(*) FROM outbox`))
	}
}
