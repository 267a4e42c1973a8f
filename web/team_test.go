package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"keyport"
	"keyport/views"
)

var inviteLink = regexp.MustCompile(`http://example\.test/invite\?token=([A-Za-z0-9_-]+)`)

// invite creates an invitation as the Owner and returns its one-time token.
func (c *client) invite(email string, role keyport.Role) string {
	c.app.t.Helper()
	r := c.post("/team/invitations", url.Values{"email": {email}, "role": {string(role)}})
	wantStatus(c.app.t, r, http.StatusOK)
	m := inviteLink.FindStringSubmatch(r.Body)
	if m == nil {
		c.app.t.Fatalf("no invitation link shown:\n%s", r.Body)
	}
	return m[1]
}

func TestInvitationLinkIsShownOnceAndJoinsWithTheRole(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	page := owner.get("/team")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Owner of Acme", "owner@acme.test", "Create invitation link", `href="/team" aria-current="page"`)

	for _, bad := range []url.Values{{"email": {"not-an-email"}, "role": {"developer"}}, {"email": {"x@acme.test"}, "role": {"admin"}},
		{"email": {"owner@acme.test"}, "role": {"developer"}}} {
		r := owner.post("/team/invitations", bad)
		wantStatus(t, r, http.StatusUnprocessableEntity)
		if inviteLink.MatchString(r.Body) {
			t.Fatal("an invalid invitation produced a link")
		}
	}
	token := owner.invite("Rita@Acme.test", keyport.RoleReviewer)
	if strings.Contains(app.logs.String(), token) {
		t.Fatal("the invitation token reached the logs")
	}
	again := owner.get("/team")
	wantContains(t, again.Body, "rita@acme.test", "Reviewer", "Withdraw")
	if strings.Contains(again.Body, token) {
		t.Fatal("the invitation link is shown twice")
	}

	guest := app.client()
	form := guest.getURL("/invite?token=" + token)
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, "Join Acme", "invited as Reviewer with rita@acme.test")
	bad := guest.post("/invite", url.Values{"token": {token}, "name": {""}, "password": {"short"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, "Your name is required.", "Password must be at least 12 characters.")
	own := guest.post("/invite", url.Values{"token": {token}, "name": {"Rita"}, "password": {"rita@acme.test-forever"}})
	wantStatus(t, own, http.StatusUnprocessableEntity)
	wantContains(t, own.Body, `id="f-password-error">Password must not contain your name, your email`)
	joined := guest.post("/invite", url.Values{"token": {token}, "name": {"Rita"}, "password": {"a-long-unusual-passphrase"}})
	wantStatus(t, joined, http.StatusSeeOther)
	if loc := joined.Header.Get("Location"); loc != "/secrets" {
		t.Fatalf("the new Reviewer lands on %s", loc)
	}
	wantContains(t, guest.get("/secrets").Body, "Welcome to Acme on Keyport.")
	wantStatus(t, guest.getURL("/invite?token="+token), http.StatusNotFound)
	wantStatus(t, app.client().post("/invite", url.Values{"token": {token}, "name": {"Eve"}, "password": {"a-long-unusual-passphrase"}}),
		http.StatusNotFound)
	if n := app.count(`SELECT count(*) FROM users WHERE merchant_id = $1 AND email = 'rita@acme.test' AND role = 'reviewer'`, res.Merchant.ID); n != 1 {
		t.Fatal("the member was not created with the invited role")
	}

	withdrawn := owner.invite("dev@acme.test", keyport.RoleDeveloper)
	var id int64
	if err := app.db.SQL().QueryRow(`SELECT id FROM invitations WHERE email = 'dev@acme.test'`).Scan(&id); err != nil {
		t.Fatal(err)
	}
	wantStatus(t, owner.post(fmt.Sprintf("/team/invitations/%d/revoke", id), nil), http.StatusSeeOther)
	wantStatus(t, app.client().getURL("/invite?token="+withdrawn), http.StatusNotFound)
}

func TestOnlyOwnersManageTheTeam(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	developer := app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	devID := app.count(`SELECT id FROM users WHERE email = 'dev@acme.test'`)
	routes := []route{
		{http.MethodGet, "/team"},
		{http.MethodPost, "/team/invitations"},
		{http.MethodPost, "/team/invitations/1/revoke"},
		{http.MethodPost, fmt.Sprintf("/team/members/%d/role", devID)},
		{http.MethodPost, fmt.Sprintf("/team/members/%d/remove", devID)},
	}
	for name, c := range map[string]*client{"developer": developer, "reviewer": reviewer, "admin": app.adminClient()} {
		for _, r := range routes {
			if r.method == http.MethodGet {
				wantStatus(t, c.getURL(r.path), http.StatusForbidden)
			} else {
				wantStatus(t, c.post(r.path, url.Values{"email": {"x@acme.test"}, "role": {"owner"}}), http.StatusForbidden)
			}
		}
		if strings.Contains(c.get("/secrets").Body, `href="/team"`) {
			t.Fatalf("%s is offered the Team page", name)
		}
	}
	if n := app.count(`SELECT count(*) FROM invitations`) + app.count(`SELECT count(*) FROM users WHERE role = 'owner'`); n != 1 {
		t.Fatalf("a non-owner changed the team: %d", n)
	}
	_, other := app.merchant("Bolt", "owner@bolt.test")
	wantStatus(t, owner.post(fmt.Sprintf("/team/members/%d/remove", other.Owner.ID), nil), http.StatusNotFound)
	wantStatus(t, owner.post(fmt.Sprintf("/team/members/%d/role", other.Owner.ID), url.Values{"role": {"reviewer"}}), http.StatusNotFound)
}

func TestRoleChangesRemovalEndsSessionsAndTheLastOwnerStays(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	developer := app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	devID := app.count(`SELECT id FROM users WHERE email = 'dev@acme.test'`)

	r := owner.post(fmt.Sprintf("/team/members/%d/role", res.Owner.ID), url.Values{"role": {"developer"}})
	wantStatus(t, r, http.StatusSeeOther)
	wantContains(t, owner.get("/team").Body, "A merchant needs at least one Owner")
	wantStatus(t, owner.post(fmt.Sprintf("/team/members/%d/remove", res.Owner.ID), nil), http.StatusSeeOther)
	if n := app.count(`SELECT count(*) FROM users WHERE role = 'owner' AND removed_at IS NULL`); n != 1 {
		t.Fatal("the last Owner was demoted or removed")
	}

	wantStatus(t, owner.post(fmt.Sprintf("/team/members/%d/role", devID), url.Values{"role": {"reviewer"}}), http.StatusSeeOther)
	wantStatus(t, developer.post(keysPath(res), url.Values{"name": {"x"}, "expiry": {"never"}}), http.StatusForbidden)

	wantStatus(t, developer.get("/secrets"), http.StatusOK)
	wantStatus(t, owner.post(fmt.Sprintf("/team/members/%d/remove", devID), nil), http.StatusSeeOther)
	gone := developer.get("/secrets")
	if !sentToLogin(gone, "/secrets") {
		t.Fatalf("a removed member's session still works: %d", gone.Code)
	}
	login := app.client().post("/login", url.Values{"email": {"dev@acme.test"}, "password": {testPassword}})
	if login.Code == http.StatusSeeOther {
		t.Fatal("a removed member can log in")
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action IN ('member.role_changed', 'member.removed')`); n != 2 {
		t.Fatalf("team events: %d", n)
	}
}

// TestTheLastOwnersRowOffersNothingTheRulesForbid: the only Owner's row shows
// the role as text, without Change role or Remove; with a second Owner both
// rows offer them.
func TestTheLastOwnersRowOffersNothingTheRulesForbid(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	app.member(res, "dev@acme.test", keyport.RoleDeveloper)
	ownerID, devID := app.userID("owner@acme.test"), app.userID("dev@acme.test")
	page := owner.get("/team").Body
	wantContains(t, page, "the only one: make another member Owner", fmt.Sprintf(`href="/team/members/%d/remove"`, devID),
		`aria-label="Change role of Member">Change role</button>`)
	for _, forbidden := range []string{fmt.Sprintf(`href="/team/members/%d/remove"`, ownerID), fmt.Sprintf(`action="/team/members/%d/role"`, ownerID)} {
		if strings.Contains(page, forbidden) {
			t.Fatalf("the last Owner's row offers %s", forbidden)
		}
	}
	wantStatus(t, owner.post(fmt.Sprintf("/team/members/%d/role", devID), url.Values{"role": {"owner"}}), http.StatusSeeOther)
	page = owner.get("/team").Body
	wantContains(t, page, fmt.Sprintf(`href="/team/members/%d/remove"`, ownerID), fmt.Sprintf(`action="/team/members/%d/role"`, ownerID))
}

// TestEveryPasswordFormStatesTheSameRules: sign-up, the invitation, a reset
// link and Your settings show the one statement of the password rules.
func TestEveryPasswordFormStatesTheSameRules(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	token := owner.invite("rita@acme.test", keyport.RoleReviewer)
	pages := map[string]response{
		"sign-up":    app.client().get("/signup"),
		"invitation": app.client().getURL("/invite?token=" + token),
		"reset":      app.client().getURL(views.PasswordResetURL(app.resetToken("owner@acme.test"))),
		"settings":   owner.get("/settings"),
	}
	for name, page := range pages {
		wantStatus(t, page, http.StatusOK)
		if !strings.Contains(page.Body, html.EscapeString(views.PasswordRules)) {
			t.Errorf("the %s page does not state the password rules", name)
		}
	}
}

func TestAReviewerIsToldTheViewIsReadOnly(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	reviewer := app.member(res, "rita@acme.test", keyport.RoleReviewer)
	for _, path := range []string{"/accounts", "/secrets", keysPath(res)} {
		wantContains(t, reviewer.get(path).Body, "You are a Reviewer: you can see every account, key and permission of Acme, and change nothing.")
		if strings.Contains(owner.get(path).Body, `id="read-only"`) {
			t.Fatalf("an Owner is told %s is read-only", path)
		}
	}
}
