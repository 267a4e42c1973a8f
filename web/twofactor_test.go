package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyport"
)

// enableTwoFactor turns on an authenticator app for the user of email
// through the store and returns its secret and recovery codes.
func (a *testApp) enableTwoFactor(email string) (string, []string) {
	a.t.Helper()
	ctx := context.Background()
	u, err := a.db.UserByEmail(ctx, email)
	if err != nil {
		a.t.Fatal(err)
	}
	secret, err := keyport.NewTOTPSecret(email)
	if err != nil {
		a.t.Fatal(err)
	}
	codes, err := keyport.NewRecoveryCodes()
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.db.BeginTOTP(ctx, u.ID, secret); err != nil {
		a.t.Fatal(err)
	}
	if err := a.db.ConfirmTOTP(ctx, keyport.SystemActor, u, 0, codes); err != nil {
		a.t.Fatal(err)
	}
	return secret, codes
}

// totpCode is the code of secret at the app's clock.
func (a *testApp) totpCode(secret string) string {
	a.t.Helper()
	code, err := keyport.TOTPCode(secret, a.clock())
	if err != nil {
		a.t.Fatal(err)
	}
	return code
}

// passwordStep posts the password of email and expects to be asked for a code.
func (c *client) passwordStep(email string) {
	c.app.t.Helper()
	c.get("/login")
	res := c.post("/login", url.Values{"email": {email}, "password": {testPassword}})
	wantStatus(c.app.t, res, http.StatusSeeOther)
	if to := res.Header.Get("Location"); to != "/login/code" {
		c.app.t.Fatalf("a user with two-factor authentication was sent to %q", to)
	}
}

var setupSecret = regexp.MustCompile(`data-copy="([A-Z2-7]+)" aria-label="Copy the setup key"`)

func TestTurningOnAnAuthenticatorAppNeedsItsFirstCode(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	wantContains(t, owner.get("/settings").Body, "Set up an authenticator app", "Two-factor authentication")

	wantStatus(t, owner.post("/settings/two-factor/app", nil), http.StatusSeeOther)
	page := owner.get("/settings/two-factor/app")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, `<svg class="qr"`, "Enter the code the app shows")
	m := setupSecret.FindStringSubmatch(page.Body)
	if m == nil {
		t.Fatalf("no setup key on the page:\n%s", page.Body)
	}
	secret := m[1]
	var sealed []byte
	if err := app.db.SQL().QueryRow(`SELECT secret_sealed FROM totp_secrets`).Scan(&sealed); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sealed), secret) {
		t.Fatal("the secret is stored in plaintext")
	}

	for _, code := range []string{"", "123", "abcdef", "000000"} {
		res := owner.post("/settings/two-factor/app/confirm", url.Values{"code": {code}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantContains(t, res.Body, "This is not the code your app shows now.")
	}
	if n := app.count(`SELECT count(*) FROM totp_secrets WHERE confirmed_at IS NOT NULL`); n != 0 {
		t.Fatal("a wrong code turned two-factor authentication on")
	}
	done := owner.post("/settings/two-factor/app/confirm", url.Values{"code": {app.totpCode(secret)}})
	wantStatus(t, done, http.StatusOK)
	wantContains(t, done.Body, "Two-factor authentication is on.", "They are shown only once.")
	codes := regexp.MustCompile(`<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>`).FindAllStringSubmatch(done.Body, -1)
	if len(codes) != keyport.RecoveryCodeCount {
		t.Fatalf("%d recovery codes shown, want %d", len(codes), keyport.RecoveryCodeCount)
	}
	if n := app.count(`SELECT count(*) FROM recovery_codes WHERE code_hash = $1`, []byte(codes[0][1])); n != 0 {
		t.Fatal("a recovery code is stored in plaintext")
	}
	settings := owner.get("/settings")
	wantContains(t, settings.Body, "10 recovery codes left.", "Turn off two-factor authentication")
	if strings.Contains(settings.Body, codes[0][1]) {
		t.Fatal("the recovery codes are shown again")
	}
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.2fa_enabled'`); n != 1 {
		t.Fatalf("%d audit events for turning two-factor authentication on", n)
	}
}

func TestSignInAsksForTheSecondFactorAndEachCodeWorksOnce(t *testing.T) {
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	secret, recovery := app.enableTwoFactor("owner@acme.test")

	c := app.client()
	c.passwordStep("owner@acme.test")
	wantContains(t, c.get("/login/code").Body, "Authentication code", "recovery codes")
	if res := c.get("/accounts"); !sentToLogin(res, "/accounts") {
		t.Fatalf("the password alone opened /accounts: %d %s", res.Code, res.Header.Get("Location"))
	}
	wrong := c.post("/login/code", url.Values{"code": {"000000"}})
	wantStatus(t, wrong, http.StatusUnauthorized)
	wantContains(t, wrong.Body, "This code is not valid.")
	code := app.totpCode(secret)
	wantStatus(t, c.post("/login/code", url.Values{"code": {code}}), http.StatusSeeOther)
	wantStatus(t, c.get("/accounts"), http.StatusOK)

	replay := app.client()
	replay.passwordStep("owner@acme.test")
	wantStatus(t, replay.post("/login/code", url.Values{"code": {code}}), http.StatusUnauthorized)

	rescue := app.client()
	rescue.passwordStep("owner@acme.test")
	wantStatus(t, rescue.post("/login/code", url.Values{"code": {strings.ToUpper(recovery[3])}}), http.StatusSeeOther)
	wantContains(t, rescue.get("/accounts").Body, "You signed in with a recovery code; 9 left.")
	again := app.client()
	again.passwordStep("owner@acme.test")
	wantStatus(t, again.post("/login/code", url.Values{"code": {recovery[3]}}), http.StatusUnauthorized)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.recovery_code_used'`); n != 1 {
		t.Fatalf("%d audit events for the recovery code", n)
	}

	app.advance(keyport.SecondFactorTTL + time.Second)
	late := app.client()
	late.passwordStep("owner@acme.test")
	app.advance(keyport.SecondFactorTTL + time.Second)
	res := late.post("/login/code", url.Values{"code": {app.totpCode(secret)}})
	if res.Header.Get("Location") != "/login" {
		t.Fatalf("a second step after %v answered %d %s", keyport.SecondFactorTTL, res.Code, res.Header.Get("Location"))
	}
	if !sentToLogin(late.get("/accounts"), "/accounts") {
		t.Fatal("a late code signed in")
	}
}

func TestSecondFactorGuessesAreThrottled(t *testing.T) {
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	secret, _ := app.enableTwoFactor("owner@acme.test")
	c := app.client()
	c.passwordStep("owner@acme.test")
	for i := range 5 {
		wantStatus(t, c.post("/login/code", url.Values{"code": {"00000" + string(rune('0'+i))}}), http.StatusUnauthorized)
	}
	res := c.post("/login/code", url.Values{"code": {app.totpCode(secret)}})
	wantStatus(t, res, http.StatusTooManyRequests)
	if res.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
	app.advance(16 * time.Minute)
	fresh := app.client()
	fresh.passwordStep("owner@acme.test")
	wantStatus(t, fresh.post("/login/code", url.Values{"code": {app.totpCode(secret)}}), http.StatusSeeOther)
}

func TestTurningTwoFactorOffNeedsThePassword(t *testing.T) {
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	secret, _ := app.enableTwoFactor("owner@acme.test")
	c := app.client()
	c.passwordStep("owner@acme.test")
	wantStatus(t, c.post("/login/code", url.Values{"code": {app.totpCode(secret)}}), http.StatusSeeOther)

	newCodes := c.post("/settings/two-factor/recovery-codes", nil)
	wantStatus(t, newCodes, http.StatusOK)
	wantContains(t, newCodes.Body, "Save these codes now")

	wrong := c.post("/settings/two-factor/off", url.Values{"password": {"not-my-password-at-all"}})
	wantStatus(t, wrong, http.StatusUnprocessableEntity)
	wantContains(t, wrong.Body, "This is not your current password.")
	wantStatus(t, c.post("/settings/two-factor/off", url.Values{"password": {testPassword}}), http.StatusSeeOther)
	wantContains(t, c.get("/settings").Body, "Two-factor authentication is off.", "Set up an authenticator app")
	if n := app.count(`SELECT count(*) FROM totp_secrets`) + app.count(`SELECT count(*) FROM recovery_codes`); n != 0 {
		t.Fatalf("%d rows of the second factor remain", n)
	}
	plain := app.client()
	plain.login("owner@acme.test")
	wantStatus(t, plain.get("/accounts"), http.StatusOK)
}

// setUpApp turns on an authenticator app through the settings pages, as a
// user does, and returns its secret.
func (c *client) setUpApp() string {
	c.app.t.Helper()
	wantStatus(c.app.t, c.post("/settings/two-factor/app", nil), http.StatusSeeOther)
	m := setupSecret.FindStringSubmatch(c.get("/settings/two-factor/app").Body)
	if m == nil {
		c.app.t.Fatal("no setup key shown")
	}
	wantStatus(c.app.t, c.post("/settings/two-factor/app/confirm", url.Values{"code": {c.app.totpCode(m[1])}}), http.StatusOK)
	return m[1]
}

func TestAdminsMustSetUpTwoFactorByDefault(t *testing.T) {
	app := newTestApp(t)
	if _, err := app.db.SQL().Exec(`DELETE FROM settings WHERE name = 'two_factor_policy'`); err != nil {
		t.Fatal(err)
	}
	owner, _ := app.merchant("Acme", "owner@acme.test")
	admin := app.adminClient()
	for _, path := range []string{"/admin/requests", "/admin/settings", "/settings", "/docs/api"} {
		if res := admin.get(path); res.Code != http.StatusSeeOther || res.Header.Get("Location") != "/settings/two-factor/app" {
			t.Fatalf("GET %s before enrolling: %d %s", path, res.Code, res.Header.Get("Location"))
		}
	}
	wantContains(t, admin.get("/settings/two-factor/app").Body, "The platform requires two-factor authentication for your account.",
		"Add a passkey instead")
	wantStatus(t, admin.get("/settings/two-factor/passkeys/new"), http.StatusOK)
	wantContains(t, admin.get("/settings/two-factor/app").Body, "The platform requires")
	before := app.count(`SELECT count(*) FROM audit_events`)
	res := admin.post("/admin/settings", url.Values{"token_cap": {"7"}})
	if res.Header.Get("Location") != "/settings/two-factor/app" {
		t.Fatalf("POST before enrolling: %d %s", res.Code, res.Header.Get("Location"))
	}
	if after := app.count(`SELECT count(*) FROM audit_events`); after != before {
		t.Fatal("an admin who must enrol changed a setting")
	}
	wantStatus(t, owner.get("/accounts"), http.StatusOK)

	admin.setUpApp()
	wantStatus(t, admin.get("/admin/requests"), http.StatusOK)
	page := admin.get("/admin/settings")
	wantContains(t, page.Body, `value="admins" checked`, "Required for everyone")

	wantStatus(t, admin.post("/admin/settings", url.Values{"token_cap": {"2"}, "two_factor": {"everyone"}}), http.StatusSeeOther)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'settings.two_factor_policy_changed'`); n != 1 {
		t.Fatalf("%d audit events for the policy", n)
	}
	if res := owner.get("/accounts"); res.Header.Get("Location") != "/settings/two-factor/app" {
		t.Fatalf("an Owner without two-factor under the everyone policy: %d %s", res.Code, res.Header.Get("Location"))
	}
	bad := admin.post("/admin/settings", url.Values{"token_cap": {"2"}, "two_factor": {"nobody-at-all"}})
	wantStatus(t, bad, http.StatusUnprocessableEntity)
	wantContains(t, bad.Body, "Choose one of the listed requirements.")
}

func TestAnAdminResetsALostSecondFactor(t *testing.T) {
	app := newTestApp(t)
	owner, res := app.merchant("Acme", "owner@acme.test")
	other, _ := app.merchant("Globex", "hank@globex.test")
	owner.setUpApp()
	admin := app.adminClient()
	users := fmt.Sprintf("/admin/merchants/%d/users", res.Merchant.ID)
	page := admin.get(users)
	wantContains(t, page.Body, "Reset two-factor")
	u, err := app.db.UserByEmail(context.Background(), "owner@acme.test")
	if err != nil {
		t.Fatal(err)
	}
	hank, err := app.db.UserByEmail(context.Background(), "hank@globex.test")
	if err != nil {
		t.Fatal(err)
	}
	wantStatus(t, admin.post(fmt.Sprintf("%s/%d/two-factor/reset", users, hank.ID), nil), http.StatusNotFound)
	wantStatus(t, admin.post(fmt.Sprintf("%s/%d/two-factor/reset", users, u.ID), nil), http.StatusSeeOther)
	wantContains(t, admin.get(users).Body, "Reset the two-factor authentication of owner@acme.test")
	if res := owner.get("/accounts"); !sentToLogin(res, "/accounts") {
		t.Fatalf("the Owner's session survived the reset: %q", res.Header.Get("Location"))
	}
	again := app.client()
	again.login("owner@acme.test")
	wantStatus(t, again.get("/accounts"), http.StatusOK)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.2fa_reset'`); n != 1 {
		t.Fatalf("%d audit events for the reset", n)
	}
	wantStatus(t, other.get("/accounts"), http.StatusOK)
	wantStatus(t, again.post(fmt.Sprintf("%s/%d/two-factor/reset", users, u.ID), nil), http.StatusForbidden)
}

func TestPasskeysRefuseWhatNoAuthenticatorMadeAndNeedADomainName(t *testing.T) {
	app := newTestApp(t)
	owner, _ := app.merchant("Acme", "owner@acme.test")
	page := owner.get("/settings/two-factor/passkeys/new")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, `data-webauthn="create"`, "Add passkey")
	for _, credential := range []string{"", "{}", `{"id":"x","type":"public-key"}`} {
		res := owner.post("/settings/two-factor/passkeys", url.Values{"name": {"Laptop"}, "credential": {credential}})
		wantStatus(t, res, http.StatusUnprocessableEntity)
		wantContains(t, res.Body, "Your browser did not create a passkey.")
	}
	if n := app.count(`SELECT count(*) FROM passkeys`); n != 0 {
		t.Fatalf("%d passkeys stored", n)
	}

	cfg := app.config()
	cfg.BaseURL, _ = url.Parse("http://127.0.0.1:8080")
	app.srv = New(app.db, cfg)
	wantContains(t, owner.get("/settings/two-factor/passkeys/new").Body, "Passkeys need Keyport to be served under a domain name")
}
