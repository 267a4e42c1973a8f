package web

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"keyport"
	"keyport/views"
	"keyport/web/mailtest"
)

// withMailer rebuilds the app's server to send its email through m.
func (a *testApp) withMailer(m Mailer) {
	cfg := a.config()
	cfg.Mailer = m
	a.srv = New(a.db, cfg)
}

// messageData returns the unsealed data of the newest outbox message of kind
// to `to`, read from the database as the sender reads it.
func (a *testApp) messageData(kind keyport.MessageKind, to string) map[string]string {
	a.t.Helper()
	var uid string
	var payload []byte
	err := a.db.SQL().QueryRow(`SELECT uid, payload FROM outbox WHERE kind = $1 AND recipient = $2 ORDER BY id DESC LIMIT 1`,
		string(kind), to).Scan(&uid, &payload)
	if err != nil {
		a.t.Fatalf("no %s message to %s: %v", kind, to, err)
	}
	sealer, err := keyport.NewSealer(bytes.Repeat([]byte{9}, keyport.EncryptionKeySize))
	if err != nil {
		a.t.Fatal(err)
	}
	plain, err := sealer.Open(payload, "outbox:"+uid)
	if err != nil {
		a.t.Fatal(err)
	}
	var data map[string]string
	if err := json.Unmarshal(plain, &data); err != nil {
		a.t.Fatal(err)
	}
	return data
}

// unlimited is a throttle that never refuses, for tests that set up many sign-ups or resets.
func unlimited() *keyport.LoginThrottle { return &keyport.LoginThrottle{Window: time.Minute} }

// resetToken asks for a password reset of email and returns the token of its message.
func (a *testApp) resetToken(email string) string {
	a.t.Helper()
	if err := a.db.RequestPasswordReset(context.Background(), unlimited(), email, "198.51.100.9"); err != nil {
		a.t.Fatal(err)
	}
	return a.messageData(keyport.MessagePasswordReset, email)["token"]
}

// waitForCount waits up to 10 seconds for query to count want rows, as the
// sender records a delivery just after the mail server accepts it.
func (a *testApp) waitForCount(query string, want int) {
	a.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		n := a.count(query)
		if n == want {
			return
		}
		if time.Now().After(deadline) {
			a.t.Fatalf("%s counts %d, want %d", query, n, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

var (
	mailInviteLink = regexp.MustCompile(`http://example\.test/invite\?token=[A-Za-z0-9_-]+`)
	mailResetLink  = regexp.MustCompile(`http://example\.test/password/reset\?token=[A-Za-z0-9_-]+`)
)

// pathOf is the path and query of an absolute link of the test server.
func pathOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}

func TestInvitationIsEmailedAndItsLinkJoins(t *testing.T) {
	app := newTestApp(t)
	mails := mailtest.Start(t)
	app.withMailer(mailerFor(app, mails))
	app.runSender(time.Hour)
	owner, _ := app.merchant("Acme", "owner@acme.test")

	page := owner.post("/team/invitations", url.Values{"email": {"rita@acme.test"}, "role": {string(keyport.RoleReviewer)}})
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "We are emailing the invitation to rita@acme.test.")
	if inviteLink.MatchString(page.Body) {
		t.Fatal("the page shows the invitation link that only the invited address should get")
	}
	got := mails.WaitFor("rita@acme.test", "invited you to Acme")
	if got.From != "keys@keyport.test" {
		t.Fatalf("envelope sender %q", got.From)
	}
	link := mailInviteLink.FindString(got.Text)
	if link == "" || !strings.Contains(got.HTML, link) {
		t.Fatalf("the invitation link is missing from the text or the HTML part:\n%s\n%s", got.Text, got.HTML)
	}
	token := strings.TrimPrefix(link, "http://example.test/invite?token=")
	wantContains(t, got.Text, "as Reviewer", "Acme")
	if !strings.HasSuffix(got.ID, "@keyport.test>") {
		t.Fatalf("Message-ID %q", got.ID)
	}
	guest := app.client()
	wantStatus(t, guest.getURL(pathOf(t, link)), http.StatusOK)
	joined := guest.post("/invite", url.Values{"token": {token}, "name": {"Rita"}, "password": {"joining-by-the-emailed-link"}})
	wantStatus(t, joined, http.StatusSeeOther)
	if strings.Contains(app.logs.String(), token) {
		t.Fatal("the invitation token reached the logs")
	}
	app.waitForCount(`SELECT count(*) FROM outbox WHERE state = 'sent' AND sent_at IS NOT NULL`, 1)
}

func TestForgotPasswordAnswersAlikeAndTheLinkResetsOnce(t *testing.T) {
	app := newTestApp(t)
	mails := mailtest.Start(t)
	app.withMailer(mailerFor(app, mails))
	app.runSender(time.Hour)
	_, res := app.merchant("Acme", "owner@acme.test")
	elsewhere := app.client()
	elsewhere.login("owner@acme.test")

	guest := app.client()
	login := guest.get("/login")
	wantContains(t, login.Body, `href="/password/forgot"`, "Forgot your password?")
	wantStatus(t, guest.get("/password/forgot"), http.StatusOK)
	known := guest.post("/password/forgot", url.Values{"email": {" Owner@Acme.test "}})
	unknown := guest.post("/password/forgot", url.Values{"email": {"nobody@acme.test"}})
	wantStatus(t, known, http.StatusOK)
	wantStatus(t, unknown, http.StatusOK)
	if strings.ReplaceAll(known.Body, "owner@acme.test", "X") != strings.ReplaceAll(unknown.Body, "nobody@acme.test", "X") {
		t.Fatal("the answer differs between a known and an unknown email")
	}
	wantContains(t, known.Body, "Check your inbox", "30 minutes")
	invalid := guest.post("/password/forgot", url.Values{"email": {"not-an-email"}})
	wantStatus(t, invalid, http.StatusUnprocessableEntity)

	got := mails.WaitFor("owner@acme.test", "Reset your Keyport password")
	link := mailResetLink.FindString(got.Text)
	if link == "" || !strings.Contains(got.HTML, link) {
		t.Fatalf("no reset link in the email:\n%s", got.Text)
	}
	if strings.Contains(app.logs.String(), strings.TrimPrefix(link, "http://example.test/password/reset?token=")) {
		t.Fatal("the reset token reached the logs")
	}
	form := guest.getURL(pathOf(t, link))
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, "Choose a new password", "owner@acme.test")
	if cc := form.Header.Get("Cache-Control"); !strings.Contains(cc, "no-store") {
		t.Fatalf("the reset page may be cached: %q", cc)
	}
	token := strings.TrimPrefix(pathOf(t, link), "/password/reset?token=")

	weak := guest.post("/password/reset", url.Values{"token": {token}, "new_password": {"short"}, "confirm_password": {"short"}})
	wantStatus(t, weak, http.StatusUnprocessableEntity)
	wantContains(t, weak.Body, "at least 12 characters")
	mismatch := guest.post("/password/reset", url.Values{"token": {token}, "new_password": {"a-brand-new-passphrase"},
		"confirm_password": {"another-passphrase-here"}})
	wantStatus(t, mismatch, http.StatusUnprocessableEntity)
	wantContains(t, mismatch.Body, "do not match")

	done := guest.post("/password/reset", url.Values{"token": {token}, "new_password": {"a-brand-new-passphrase"},
		"confirm_password": {"a-brand-new-passphrase"}})
	wantStatus(t, done, http.StatusSeeOther)
	loc := done.Header.Get("Location")
	if loc != "/login?signed_out=reset" {
		t.Fatalf("redirect to %q", loc)
	}
	wantContains(t, guest.getURL(loc).Body, "Your password was changed")
	if r := elsewhere.get("/accounts"); !sentToLogin(r, "/accounts") {
		t.Fatalf("a session from before the reset still works: %d %s", r.Code, r.Header.Get("Location"))
	}
	again := guest.post("/password/reset", url.Values{"token": {token}, "new_password": {"yet-another-passphrase"},
		"confirm_password": {"yet-another-passphrase"}})
	wantStatus(t, again, http.StatusNotFound)
	wantStatus(t, guest.getURL(pathOf(t, link)), http.StatusNotFound)

	old := app.client().post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}})
	wantStatus(t, old, http.StatusUnauthorized)
	fresh := app.client().post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"a-brand-new-passphrase"}})
	wantStatus(t, fresh, http.StatusSeeOther)

	changed := mails.WaitFor("owner@acme.test", "password was changed")
	wantContains(t, changed.Text, "203.0.113.7", "If this wasn't you", "http://example.test/password/forgot")
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = $1 AND merchant_id = $2`, keyport.AuditPasswordReset.String(), res.Merchant.ID); n != 1 {
		t.Fatalf("%d reset audit events, want 1", n)
	}
	if got := mailsTo(mails, "nobody@acme.test"); len(got) != 0 {
		t.Fatalf("an unknown email received %q", got)
	}
	resets := 0
	for _, subject := range mailsTo(mails, "owner@acme.test") {
		if strings.Contains(subject, "Reset your Keyport password") {
			resets++
		}
	}
	if resets != 1 {
		t.Fatalf("%d reset emails, want 1", resets)
	}
}

func TestResetLinkExpiresAfterThirtyMinutes(t *testing.T) {
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	token := app.resetToken("owner@acme.test")
	guest := app.client()
	wantStatus(t, guest.getURL("/password/reset?token="+token), http.StatusOK)
	app.advance(keyport.PasswordResetTTL + time.Second)
	wantStatus(t, guest.getURL("/password/reset?token="+token), http.StatusNotFound)
	r := guest.post("/password/reset", url.Values{"token": {token}, "new_password": {"a-brand-new-passphrase"},
		"confirm_password": {"a-brand-new-passphrase"}})
	wantStatus(t, r, http.StatusNotFound)
	wantContains(t, r.Body, "invalid, already used or expired", `href="/password/forgot"`)
}

func TestResetRequestsAreThrottledWithoutTellingAccountsApart(t *testing.T) {
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	guest := app.client()
	for i := range 3 {
		wantStatus(t, guest.post("/password/forgot", url.Values{"email": {"owner@acme.test"}}), http.StatusOK)
		_ = i
	}
	fourth := guest.post("/password/forgot", url.Values{"email": {"owner@acme.test"}})
	wantStatus(t, fourth, http.StatusOK)
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'password_reset'`); n != 3 {
		t.Fatalf("%d reset messages for one email, want 3 (its limit)", n)
	}
	for range 6 {
		wantStatus(t, guest.post("/password/forgot", url.Values{"email": {"someone@else.test"}}), http.StatusOK)
	}
	over := guest.post("/password/forgot", url.Values{"email": {"third@else.test"}})
	wantStatus(t, over, http.StatusTooManyRequests)
	if over.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	wantContains(t, over.Body, "Too many reset requests")
}

func TestRefusedDeliveriesAreRetriedWithBackoff(t *testing.T) {
	app := newTestApp(t)
	mails := mailtest.Start(t)
	app.withMailer(mailerFor(app, mails))
	mails.RefuseWith(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"})
	app.merchant("Acme", "owner@acme.test")
	app.resetToken("owner@acme.test")
	ctx := context.Background()

	app.srv.deliverDue(ctx)
	if mails.Refusals() != 1 {
		t.Fatalf("%d refusals, want 1", mails.Refusals())
	}
	var state, lastError string
	var attempts int
	var next int64
	row := `SELECT state, attempts, last_error, next_attempt_at FROM outbox WHERE kind = 'password_reset'`
	if err := app.db.SQL().QueryRow(row).Scan(&state, &attempts, &lastError, &next); err != nil {
		t.Fatal(err)
	}
	if state != "pending" || attempts != 1 || !strings.Contains(lastError, "Try again later") || next != app.clock().Add(30*time.Second).Unix() {
		t.Fatalf("after a refusal: state %s, attempts %d, error %q, next in %ds", state, attempts, lastError, next-app.clock().Unix())
	}
	app.srv.deliverDue(ctx)
	if mails.Refusals() != 1 {
		t.Fatal("a message was retried before its backoff ended")
	}
	app.advance(31 * time.Second)
	app.srv.deliverDue(ctx)
	if err := app.db.SQL().QueryRow(row).Scan(&state, &attempts, &lastError, &next); err != nil {
		t.Fatal(err)
	}
	if mails.Refusals() != 2 || attempts != 2 || next != app.clock().Add(time.Minute).Unix() {
		t.Fatalf("second refusal: %d refusals, attempts %d, next in %ds (want 60)", mails.Refusals(), attempts, next-app.clock().Unix())
	}
	mails.RefuseWith(nil)
	app.advance(time.Minute)
	app.srv.deliverDue(ctx)
	mails.WaitFor("owner@acme.test", "Reset your Keyport password")
	if n := app.count(`SELECT count(*) FROM outbox_attempts`); n != 3 {
		t.Fatalf("%d attempts recorded, want 3", n)
	}
	if n := app.count(`SELECT count(*) FROM outbox WHERE state = 'sent' AND attempts = 3 AND last_error = ''`); n != 1 {
		t.Fatal("the message is not recorded as sent on its third attempt")
	}
}

func TestWithoutSMTPMessagesAreHeldAndAdminsSeeThemWithoutTheirLinks(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	token := owner.invite("rita@acme.test", keyport.RoleReviewer)
	resetToken := app.resetToken("owner@acme.test")
	app.srv.deliverDue(context.Background())
	if n := app.count(`SELECT count(*) FROM outbox WHERE state = 'held' AND last_error = 'not sent: no SMTP configured' AND attempts = 0`); n != 2 {
		t.Fatalf("%d held messages, want 2", n)
	}

	admin := app.adminClient()
	page := admin.get("/admin/outbox")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Outbox", "Invitation", "rita@acme.test", "Password reset", "owner@acme.test",
		"not sent: no SMTP configured", "No SMTP server is configured", `Retry now<span class="sr-only"> message `, `href="/admin/outbox" aria-current="page"`)
	for _, secret := range []string{token, resetToken} {
		if strings.Contains(page.Body, secret) || strings.Contains(app.logs.String(), secret) {
			t.Fatal("a message's secret link is shown to admins or logged")
		}
	}
	held := admin.getURL("/admin/outbox?state=held")
	wantStatus(t, held, http.StatusOK)
	wantContains(t, held.Body, "rita@acme.test")
	sent := admin.getURL("/admin/outbox?state=sent")
	wantContains(t, sent.Body, "No message here yet.")
	wantStatus(t, admin.getURL("/admin/outbox?state=lost"), http.StatusBadRequest)
	wantStatus(t, admin.getURL("/admin/outbox?before=x"), http.StatusBadRequest)

	var id int64
	if err := app.db.SQL().QueryRow(`SELECT id FROM outbox WHERE kind = 'invitation'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	retry := admin.post("/admin/outbox/"+itoa(id)+"/retry", nil)
	wantStatus(t, retry, http.StatusSeeOther)
	if n := app.count(`SELECT count(*) FROM outbox WHERE id = $1 AND state = 'pending'`, id); n != 1 {
		t.Fatal("Retry now did not make the message pending")
	}
	wantStatus(t, admin.post("/admin/outbox/999999/retry", nil), http.StatusNotFound)
	wantStatus(t, owner.post("/admin/outbox/"+itoa(id)+"/retry", nil), http.StatusForbidden)
}

func TestChangingThePasswordTellsTheUserByEmail(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	owner.get("/settings")
	r := owner.post("/settings/password", url.Values{"current_password": {testPassword}, "new_password": {"a-changed-passphrase-42"},
		"confirm_password": {"a-changed-passphrase-42"}})
	wantStatus(t, r, http.StatusSeeOther)
	data := app.messageData(keyport.MessagePasswordChanged, "owner@acme.test")
	if data["ip"] != "203.0.113.7" || data["at"] == "" {
		t.Fatalf("the message says %v", data)
	}
	wrong := owner.post("/settings/password", url.Values{"current_password": {"not-the-password"}, "new_password": {"another-passphrase-43"},
		"confirm_password": {"another-passphrase-43"}})
	wantStatus(t, wrong, http.StatusUnprocessableEntity)
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'password_changed'`); n != 1 {
		t.Fatalf("%d messages, want 1: a refused change sends nothing", n)
	}
}

func TestOutboxMetrics(t *testing.T) {
	app := newTestApp(t)
	mails := mailtest.Start(t)
	cfg := app.config()
	cfg.Metrics, cfg.Mailer = true, mailerFor(app, mails)
	app.srv = New(app.db, cfg)
	app.merchant("Acme", "owner@acme.test")
	ctx := context.Background()

	app.resetToken("owner@acme.test")
	app.srv.deliverDue(ctx)
	mails.RefuseWith(&smtp.SMTPError{Code: 451, Message: "Busy"})
	app.resetToken("owner@acme.test")
	app.srv.deliverDue(ctx)
	app.advance(2 * time.Minute)
	want := []struct {
		name   string
		labels map[string]string
		value  float64
	}{
		{"keyport_outbox_deliveries_total", map[string]string{"result": "sent"}, 1},
		{"keyport_outbox_deliveries_total", map[string]string{"result": "error"}, 1},
		{"keyport_outbox_deliveries_total", map[string]string{"result": "held"}, 0},
		{"keyport_outbox_messages", map[string]string{"state": "sent"}, 1},
		{"keyport_outbox_messages", map[string]string{"state": "pending"}, 1},
		{"keyport_outbox_messages", map[string]string{"state": "failed"}, 0},
		{"keyport_outbox_oldest_pending_age_seconds", nil, 120},
	}
	for _, w := range want {
		if got := app.metricValue(w.name, w.labels); got != w.value {
			t.Errorf("%s%v = %v, want %v", w.name, w.labels, got, w.value)
		}
	}
}

// renderedMessage renders the newest message of kind to `to` as the sender would.
func (a *testApp) renderedMessage(kind keyport.MessageKind, to string) (views.Email, error) {
	a.t.Helper()
	return views.RenderEmail(context.Background(), keyport.Message{Kind: kind, To: to, Data: a.messageData(kind, to)}, "http://example.test")
}

// TestInvitingAnAddressWithAnAccountAnswersLikeAnyOther: an Owner cannot
// learn from the answer whether an email has a Keyport account elsewhere; the
// address's owner is told by email, without a link that could not work.
func TestInvitingAnAddressWithAnAccountAnswersLikeAnyOther(t *testing.T) {
	app := newTestApp(t)
	mails := mailtest.Start(t)
	app.withMailer(mailerFor(app, mails))
	app.runSender(time.Hour)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	app.merchant("Globex", "hank@globex.test")

	fresh := owner.post("/team/invitations", url.Values{"email": {"nobody@else.test"}, "role": {string(keyport.RoleDeveloper)}})
	taken := owner.post("/team/invitations", url.Values{"email": {"hank@globex.test"}, "role": {string(keyport.RoleDeveloper)}})
	for _, res := range []response{fresh, taken} {
		wantStatus(t, res, http.StatusOK)
	}
	strip := func(body, email string) string { return strings.ReplaceAll(body, email, "EMAIL") }
	if a, b := strip(fresh.Body, "nobody@else.test"), strip(taken.Body, "hank@globex.test"); invitationSection(a) == "" ||
		invitationSection(a) != invitationSection(b) {
		t.Fatalf("the answers differ:\n%s\n---\n%s", invitationSection(a), invitationSection(b))
	}
	wantContains(t, owner.get("/team").Body, "hank@globex.test", "nobody@else.test")

	got := mails.WaitFor("hank@globex.test", "invited you to Acme")
	wantContains(t, got.Text, "already has a Keyport account", "another of your addresses")
	if mailInviteLink.MatchString(got.Text) || mailInviteLink.MatchString(got.HTML) {
		t.Fatalf("the email to an existing account carries an invitation link:\n%s", got.Text)
	}
	mails.WaitFor("nobody@else.test", "invited you to Acme")

	for email, want := range map[string]string{"owner@acme.test": "already a member of your team",
		"nobody@else.test": "already has a pending invitation"} {
		res := owner.post("/team/invitations", url.Values{"email": {email}, "role": {string(keyport.RoleDeveloper)}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantContains(t, res.Body, want)
	}
}

// invitationSection is the part of the Team page that answers a new invitation.
func invitationSection(body string) string {
	start := strings.Index(body, `<section class="section" aria-labelledby="invite-`)
	if start < 0 {
		return ""
	}
	return body[start : start+strings.Index(body[start:], "</section>")]
}

// TestAnInvitationLinkForAnAddressWithAnAccountExplainsItself: without a mail
// server the Owner carries the link; whoever opens it learns why it cannot be
// accepted, and nothing changes.
func TestAnInvitationLinkForAnAddressWithAnAccountExplainsItself(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	app.merchant("Globex", "hank@globex.test")
	token := owner.invite("hank@globex.test", keyport.RoleDeveloper)
	before := app.count("SELECT count(*) FROM users")
	res := app.client().post("/invite", url.Values{"token": {token}, "name": {"Hank"}, "password": {"a-long-unusual-passphrase"}})
	wantStatus(t, res, http.StatusConflict)
	wantContains(t, res.Body, "already has a Keyport account")
	if after := app.count("SELECT count(*) FROM users"); after != before {
		t.Fatalf("users went from %d to %d", before, after)
	}
}
