package web

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"keyport"
)

// stateOfEverything counts what any destructive action of the portal changes.
func (a *testApp) stateOfEverything() string {
	a.t.Helper()
	var out []string
	for _, q := range []string{
		`SELECT count(*) FROM audit_events`,
		`SELECT count(*) FROM sessions`,
		`SELECT count(*) FROM users`,
		`SELECT count(*) FROM merchants WHERE disabled_at IS NULL`,
		`SELECT count(*) FROM api_accounts WHERE disabled_at IS NULL`,
		`SELECT count(*) FROM api_keys WHERE revoked_at IS NULL`,
		`SELECT count(*) FROM live_key_requests WHERE state = 'pending'`,
		`SELECT count(*) FROM invitations WHERE revoked_at IS NULL`,
		`SELECT count(*) FROM registered_auths`,
		`SELECT count(*) FROM passkeys`,
		`SELECT count(*) FROM totp_secrets`,
		`SELECT count(*) FROM recovery_codes`,
		`SELECT count(*) FROM webhook_endpoints WHERE old_secret IS NULL`,
	} {
		out = append(out, fmt.Sprintf("%s: %d", q, a.count(q)))
	}
	return strings.Join(out, "\n")
}

// TestConfirmationsAskBeforeActing opens the confirmation of every destructive
// action, as a page without JavaScript and as a dialog with htmx: each asks
// its question, names its object on a red button that posts to the action
// with the CSRF field and what the list carried, and changes nothing.
func TestConfirmationsAskBeforeActing(t *testing.T) {
	app := newTestApp(t)
	ctx := context.Background()
	owner, res := app.merchant("Acme", "owner@acme.test")
	acct := fmt.Sprintf("/accounts/%d", res.Account.ID)
	warehouse, err := app.db.CreateAccount(ctx, keyport.SystemActor, res.Merchant.ID, keyport.NewAccount{Name: "EU warehouse"})
	if err != nil {
		t.Fatal(err)
	}
	authID := owner.registerDPD(res, "Alpha Couriers Ltd")
	requestID := owner.file(res, "Checkout live")
	owner.generate(res, "Checkout key")
	keyID := app.keyIDs(res.Account.ID, "name = 'Checkout key'")[0]
	owner.invite("new@acme.test", keyport.RoleReviewer)
	invitationID := int64(app.count(`SELECT max(id) FROM invitations`))
	ann, err := app.db.AddMember(ctx, keyport.SystemActor, res.Merchant.ID, "Ann Lee", "ann@acme.test", keyport.RoleDeveloper, passwordHashOnce())
	if err != nil {
		t.Fatal(err)
	}
	annPhone := app.client()
	annPhone.login("ann@acme.test")
	annLaptop := app.client()
	annLaptop.login("ann@acme.test")
	session := app.otherSession(annLaptop, "ann@acme.test")
	app.enableTwoFactor("ann@acme.test")
	if _, err := app.db.AddPasskey(ctx, keyport.SystemActor, ann, "Work laptop", []byte("cred-ann"), []byte("{}"), nil); err != nil {
		t.Fatal(err)
	}
	passkeyID := int64(app.count(`SELECT id FROM passkeys WHERE user_id = $1`, ann.ID))
	hook, _, err := app.db.CreateWebhookEndpoint(ctx, keyport.SystemActor, res.Merchant.ID, keyport.WebhookEndpointInput{
		URL: "https://hooks.acme.test/keyport", Events: keyport.WebhookEventTypes, Enabled: true})
	if err != nil {
		t.Fatal(err)
	}
	admin := app.adminClient()
	users := fmt.Sprintf("/admin/merchants/%d/users/%d", res.Merchant.ID, ann.ID)

	cases := []struct {
		name     string
		c        *client
		uri      string
		question string
		action   string
		button   string
		fields   map[string]string
		inModal  bool
	}{
		{name: "disable an API account", c: owner, uri: fmt.Sprintf("/accounts/%d/disable", warehouse.Account.ID),
			question: "Disable “EU warehouse”?", action: fmt.Sprintf("/accounts/%d/disable", warehouse.Account.ID), button: "Disable “EU warehouse”"},
		{name: "delete a registered auth", c: owner, uri: fmt.Sprintf("%s/auths/%d/delete", acct, authID),
			question: "Delete the DPD auth of “Alpha Couriers Ltd”?", action: fmt.Sprintf("%s/auths/%d/delete", acct, authID),
			button: "Delete the DPD auth of “Alpha Couriers Ltd”", inModal: true},
		{name: "cancel a live token request", c: owner, uri: fmt.Sprintf("%s/requests/%d/cancel", acct, requestID),
			question: "Cancel the live token request “Checkout live”?", action: fmt.Sprintf("%s/requests/%d/cancel", acct, requestID),
			button: "Cancel the request “Checkout live”"},
		{name: "remove a token", c: owner, uri: fmt.Sprintf("%s/keys/%d/revoke?from=tokens&after=5", acct, keyID),
			question: "Remove the token “Checkout key”?", action: fmt.Sprintf("%s/keys/%d/revoke", acct, keyID),
			button: "Remove “Checkout key”", fields: map[string]string{"from": "tokens", "after": "5"}, inModal: true},
		{name: "revoke a key", c: owner, uri: fmt.Sprintf("/secrets/%d/revoke?back=%%2Fsecrets%%3Fmode%%3Dtest", keyID),
			question: "Revoke “Checkout key”?", action: fmt.Sprintf("/secrets/%d/revoke", keyID),
			button: "Revoke “Checkout key”", fields: map[string]string{"back": "/secrets?mode=test"}},
		{name: "remove a team member", c: owner, uri: fmt.Sprintf("/team/members/%d/remove", ann.ID),
			question: "Remove Ann Lee (ann@acme.test) from the team?", action: fmt.Sprintf("/team/members/%d/remove", ann.ID), button: "Remove Ann Lee"},
		{name: "withdraw an invitation", c: owner, uri: fmt.Sprintf("/team/invitations/%d/revoke", invitationID),
			question: "Withdraw the invitation of new@acme.test?", action: fmt.Sprintf("/team/invitations/%d/revoke", invitationID),
			button: "Withdraw the invitation of new@acme.test"},
		{name: "sign out of another session", c: annLaptop, uri: "/settings/sessions/" + session + "/end",
			question: "Sign out of an unknown browser (203.0.113.7)?", action: "/settings/sessions/" + session + "/end",
			button: "Sign out of an unknown browser (203.0.113.7)"},
		{name: "sign out everywhere", c: annLaptop, uri: "/settings/sessions/end",
			question: "Sign out of every session?", action: "/settings/sessions/end", button: "Sign out of every session"},
		{name: "new recovery codes", c: annLaptop, uri: "/settings/two-factor/recovery-codes",
			question: "Generate new recovery codes?", action: "/settings/two-factor/recovery-codes", button: "Generate new recovery codes"},
		{name: "remove a passkey", c: annLaptop, uri: fmt.Sprintf("/settings/two-factor/passkeys/%d/remove", passkeyID),
			question: "Remove the passkey “Work laptop”?", action: fmt.Sprintf("/settings/two-factor/passkeys/%d/remove", passkeyID),
			button: "Remove “Work laptop”"},
		{name: "roll a webhook secret", c: owner, uri: fmt.Sprintf("/webhooks/%d/roll?grace=7d", hook.ID),
			question: "Roll the signing secret of https://hooks.acme.test/keyport?", action: fmt.Sprintf("/webhooks/%d/roll", hook.ID),
			button: "Roll the secret of https://hooks.acme.test/keyport", fields: map[string]string{"grace": "7d"}},
		{name: "disable a merchant", c: admin, uri: fmt.Sprintf("/admin/merchants/%d/disable", res.Merchant.ID),
			question: "Disable “Acme”?", action: fmt.Sprintf("/admin/merchants/%d/disable", res.Merchant.ID), button: "Disable “Acme”"},
		{name: "end a user's sessions", c: admin, uri: users + "/sessions/end",
			question: "End every session of ann@acme.test?", action: users + "/sessions/end", button: "End every session of ann@acme.test"},
		{name: "reset a user's two-factor", c: admin, uri: users + "/two-factor/reset",
			question: "Reset the two-factor authentication of ann@acme.test?", action: users + "/two-factor/reset",
			button: "Reset two-factor of ann@acme.test"},
		{name: "approve a live token request", c: admin, uri: fmt.Sprintf("/admin/requests/%d/approve", requestID),
			question: "Approve the live token request of Acme?", action: fmt.Sprintf("/admin/requests/%d/approve", requestID),
			button: "Approve the request of Acme"},
	}
	before := app.stateOfEverything()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			esc := html.EscapeString
			want := []string{
				fmt.Sprintf(`<form method="post" action="%s"`, esc(tc.action)),
				`name="_csrf" value="` + tc.c.csrf + `"`,
				`<button type="submit" class="btn btn-danger">` + esc(tc.button) + `</button>`,
			}
			for name, value := range tc.fields {
				want = append(want, fmt.Sprintf(`<input type="hidden" name="%s" value="%s">`, name, esc(value)))
			}
			page := tc.c.getURL(tc.uri)
			wantStatus(t, page, http.StatusOK)
			wantContains(t, page.Body, append(want, `<h1 id="modal-title">`+esc(tc.question)+`</h1>`, `<a class="btn" href="`)...)

			dialog := tc.c.htmxGet(tc.uri)
			wantStatus(t, dialog, http.StatusOK)
			if got := dialog.Header.Get("HX-Retarget"); got != "#modal" {
				t.Errorf("HX-Retarget %q, want #modal", got)
			}
			cancel := `<button type="button" class="btn" data-close>Cancel</button>`
			if tc.inModal {
				cancel = `<button type="button" class="btn" hx-get="`
			}
			wantContains(t, dialog.Body, append(want, `<h2 id="modal-title">`+esc(tc.question)+`</h2>`, cancel)...)
			if posts := strings.Contains(dialog.Body, `hx-post="`+esc(tc.action)+`"`); posts != tc.inModal {
				t.Errorf("the dialog posts with htmx: %v, want %v", posts, tc.inModal)
			}
		})
	}
	if after := app.stateOfEverything(); after != before {
		t.Errorf("opening the confirmations changed the store:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}
