package web

import (
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"keyport"
	"keyport/store/storetest"
	"keyport/views"
)

func signupForm(merchant, name, email, password string) url.Values {
	return url.Values{"merchant_name": {merchant}, "name": {name}, "email": {email}, "password": {password}}
}

// signUp signs up through the portal and opens the verification link the
// sign-up emails, which signs the client in.
func (c *client) signUp(form url.Values) {
	c.app.t.Helper()
	wantStatus(c.app.t, c.post("/signup", form), http.StatusOK)
	token := c.app.messageData(keyport.MessageVerifyEmail, keyport.NormalizeEmail(form.Get("email")))["token"]
	wantStatus(c.app.t, c.post("/verify-email", url.Values{"token": {token}}), http.StatusSeeOther)
}

func TestSignupCreatesMerchantAndTheVerificationLinkSignsIn(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	res := c.post("/signup", signupForm("Acme Parcels", "Ada Lovelace", "Ada@Example.com", "a-long-unusual-passphrase"))
	wantStatus(t, res, http.StatusOK)
	wantContains(t, res.Body, "Check your inbox", "ada@example.com")
	if n := app.count("SELECT count(*) FROM users WHERE email = 'ada@example.com' AND role = 'owner' AND email_verified_at IS NULL"); n != 1 {
		t.Fatalf("unverified owner rows = %d", n)
	}
	if r := c.get("/accounts"); r.Code != http.StatusSeeOther {
		t.Fatalf("signing up signed in before the email was verified: %d", r.Code)
	}
	token := app.messageData(keyport.MessageVerifyEmail, "ada@example.com")["token"]
	form := c.getURL(views.VerifyEmailURL(token))
	wantStatus(t, form, http.StatusOK)
	wantContains(t, form.Body, "Verify your email address", "ada@example.com", "Verify my email")
	if n := app.count("SELECT count(*) FROM users WHERE email_verified_at IS NULL"); n != 1 {
		t.Fatal("opening the link (a GET) verified the email")
	}
	done := c.post("/verify-email", url.Values{"token": {token}})
	wantStatus(t, done, http.StatusSeeOther)
	if loc := done.Header.Get("Location"); loc != "/accounts" {
		t.Fatalf("redirect to %q", loc)
	}
	page := c.get("/accounts")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "API Accounts", "Default", "Acme Parcels", "Log out", "Your email address is verified. Welcome to Keyport.")
	if strings.Contains(page.Body, "Verify your email address with the link") {
		t.Fatal("the verification banner stays after verifying")
	}
	wantStatus(t, app.client().post("/verify-email", url.Values{"token": {token}}), http.StatusNotFound)
	if n := app.count(`SELECT count(*) FROM audit_events WHERE action = 'user.email_verified'`); n != 1 {
		t.Fatal("the verification is not audited")
	}
}

func TestSignupAnswersAlikeForAnEmailThatHasAnAccount(t *testing.T) {
	app := newTestApp(t)
	app.signupMerchant("Taken", "taken@example.com")
	guest := app.client()
	fresh := guest.post("/signup", signupForm("Acme", "Ada", "ada@example.com", "a-long-unusual-passphrase"))
	taken := guest.post("/signup", signupForm("Other", "Eve", "Taken@Example.com", "a-long-unusual-passphrase"))
	wantStatus(t, fresh, http.StatusOK)
	wantStatus(t, taken, http.StatusOK)
	if strings.ReplaceAll(fresh.Body, "ada@example.com", "X") != strings.ReplaceAll(taken.Body, "taken@example.com", "X") {
		t.Fatal("sign-up answers differently for an email that has an account")
	}
	if n := app.count(`SELECT count(*) FROM merchants WHERE name = 'Other'`); n != 0 {
		t.Fatal("a merchant was created for a taken email")
	}
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'account_exists' AND recipient = 'taken@example.com'`); n != 1 {
		t.Fatal("the email's owner is not told")
	}
	for range 5 {
		app.client().post("/signup", signupForm("Other", "Eve", "taken@example.com", "a-long-unusual-passphrase"))
	}
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'account_exists'`); n != 3 {
		t.Fatalf("%d messages to one email, want its limit of 3", n)
	}
	email, err := app.renderedMessage(keyport.MessageAccountExists, "taken@example.com")
	if err != nil {
		t.Fatal(err)
	}
	wantContains(t, email.Text, "You already have an account", "http://example.test/password/forgot")
}

func TestAnUnverifiedOwnerCannotRequestALiveKeyUntilVerified(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	wantStatus(t, c.post("/signup", signupForm("Acme", "Ada", "ada@example.com", "a-long-unusual-passphrase")), http.StatusOK)
	wantStatus(t, c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"a-long-unusual-passphrase"}}), http.StatusSeeOther)
	page := c.get("/accounts")
	wantContains(t, page.Body, "Verify your email address with the link we sent to ada@example.com")
	var accountID int64
	if err := app.db.SQL().QueryRow(`SELECT id FROM api_accounts`).Scan(&accountID); err != nil {
		t.Fatal(err)
	}
	r := c.post(fmt.Sprintf("/accounts/%d/requests", accountID), goodRequest("Checkout"))
	wantStatus(t, r, http.StatusUnprocessableEntity)
	wantContains(t, r.Body, "Verify your email address before requesting a live key")
	if n := app.count(`SELECT count(*) FROM live_key_requests`); n != 0 {
		t.Fatal("an unverified owner filed a request")
	}
	settings := c.get("/settings")
	wantContains(t, settings.Body, "is not verified yet", "Send a new verification link")
	wantStatus(t, c.post("/settings/verify-email", nil), http.StatusSeeOther)
	wantContains(t, c.get("/settings").Body, "We sent a new verification link to ada@example.com")
	if n := app.count(`SELECT count(*) FROM outbox WHERE kind = 'verify_email'`); n != 2 {
		t.Fatalf("%d verification messages, want the sign-up's and the resent one", n)
	}
	token := app.messageData(keyport.MessageVerifyEmail, "ada@example.com")["token"]
	wantStatus(t, c.post("/verify-email", url.Values{"token": {token}}), http.StatusSeeOther)
	r = c.post(fmt.Sprintf("/accounts/%d/requests", accountID), goodRequest("Checkout"))
	wantStatus(t, r, http.StatusSeeOther)
}

// TestPasswordsAreHashedAtTheServersCost pins that a server built without a
// password cost, as the keyport command builds it, hashes at the default cost
// whatever cheaper cost the other tests use, and that both costs sign in.
func TestPasswordsAreHashedAtTheServersCost(t *testing.T) {
	cases := []struct {
		name   string
		cost   keyport.PasswordCost
		params string
	}{
		{"unset is the default", keyport.PasswordCost{}, "$m=19456,t=2,p=1$"},
		{"minimal", keyport.MinimalPasswordCost, "$m=8,t=1,p=1$"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			base, _ := url.Parse("http://example.test")
			app.srv = New(app.db, Config{BaseURL: base, SessionKey: make([]byte, 32), IdleTimeout: time.Hour, SessionLifetime: time.Hour,
				Logger: discardLogger(), PasswordCost: tc.cost})
			wantStatus(t, app.client().post("/signup", signupForm("Acme Parcels", "Ada", "ada@example.com", "a-long-unusual-passphrase")), http.StatusOK)
			var hash string
			if err := app.db.SQL().QueryRow("SELECT password_hash FROM users WHERE email = 'ada@example.com'").Scan(&hash); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(hash, tc.params) {
				t.Fatalf("stored hash %q, want params %s", hash, tc.params)
			}
			c := app.client()
			wantStatus(t, c.post("/login", url.Values{"email": {"ada@example.com"}, "password": {"a-long-unusual-passphrase"}}), http.StatusSeeOther)
		})
	}
}

func TestSignupValidation(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		form    url.Values
		field   string
		message string
	}{
		{"empty merchant", signupForm("", "Ada", "ada@example.com", "a-long-unusual-passphrase"), "merchant_name", "Merchant name is required."},
		{"empty name", signupForm("Acme", "  ", "ada@example.com", "a-long-unusual-passphrase"), "name", "Your name is required."},
		{"empty email", signupForm("Acme", "Ada", "", "a-long-unusual-passphrase"), "email", "Email is required."},
		{"bad email", signupForm("Acme", "Ada", "ada-at-example", "a-long-unusual-passphrase"), "email", "Enter a valid email address"},
		{"email with display name", signupForm("Acme", "Ada", "Ada <ada@example.com>", "a-long-unusual-passphrase"), "email", "Enter a valid email address"},
		{"empty password", signupForm("Acme", "Ada", "ada@example.com", ""), "password", "Password is required."},
		{"short password", signupForm("Acme", "Ada", "ada@example.com", "short-pw"), "password", "at least 12 characters"},
		{"long password", signupForm("Acme", "Ada", "ada@example.com", strings.Repeat("x", 129)), "password", "at most 128 characters"},
		{"common password", signupForm("Acme", "Ada", "ada@example.com", "Password1234"), "password", "too common"},
		{"merchant name in password", signupForm("Acme Parcels", "Ada", "ada@example.com", "parcels-forever-2026"), "password", "must not contain your name, your email"},
		{"email in password", signupForm("Acme", "Ada", "ada@example.com", "ADA@EXAMPLE.COM-2026"), "password", "must not contain your name, your email"},
		{"long merchant name", signupForm(strings.Repeat("m", 101), "Ada", "ada@example.com", "a-long-unusual-passphrase"), "merchant_name", "at most 100 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			app.signupMerchant("Taken", "taken@example.com")
			before := app.count("SELECT (SELECT count(*) FROM merchants) + (SELECT count(*) FROM users) + (SELECT count(*) FROM api_accounts)")
			c := app.client()
			res := c.post("/signup", tc.form)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			body := html.UnescapeString(res.Body)
			wantContains(t, body, `id="f-`+tc.field+`-error"`, tc.message)
			if strings.Contains(res.Body, "a-long-unusual-passphrase") {
				t.Fatal("the password was echoed back into the form")
			}
			after := app.count("SELECT (SELECT count(*) FROM merchants) + (SELECT count(*) FROM users) + (SELECT count(*) FROM api_accounts)")
			if after != before {
				t.Fatalf("rows changed from %d to %d", before, after)
			}
		})
	}
}

func TestPostWithoutCSRFTokenIsForbidden(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	c.get("/signup")
	for _, path := range []string{"/signup", "/login", "/logout"} {
		res := c.postRaw(path, signupForm("Acme", "Ada", "ada@example.com", "a-long-unusual-passphrase"))
		wantStatus(t, res, http.StatusForbidden)
		res = c.postRaw(path, url.Values{"_csrf": {"forged-token"}, "email": {"ada@example.com"}})
		wantStatus(t, res, http.StatusForbidden)
	}
	if n := app.count("SELECT count(*) FROM merchants"); n != 0 {
		t.Fatalf("merchants = %d", n)
	}
}

func TestCSRFTokenIsReadFromTheBodyOrHeaderOnly(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	c.get("/signup")
	form := signupForm("Acme", "Ada", "ada@example.com", "a-long-unusual-passphrase")
	tests := []struct {
		name   string
		req    func() *http.Request
		status int
	}{
		{"token in the address", func() *http.Request {
			return newFormRequest("/signup?_csrf="+url.QueryEscape(c.csrf), form)
		}, http.StatusForbidden},
		{"token in the address and the body", func() *http.Request {
			body := url.Values{}
			for k, v := range form {
				body[k] = v
			}
			body.Set("_csrf", c.csrf)
			return newFormRequest("/signup?_csrf="+url.QueryEscape(c.csrf), body)
		}, http.StatusForbidden},
		{"same-site page without a token", func() *http.Request {
			req := newFormRequest("/signup", form)
			req.Header.Set("Sec-Fetch-Site", "same-site")
			return req
		}, http.StatusForbidden},
		{"token in the body", func() *http.Request {
			body := url.Values{}
			for k, v := range form {
				body[k] = v
			}
			body.Set("_csrf", c.csrf)
			return newFormRequest("/signup", body)
		}, http.StatusOK},
	}
	for _, tt := range tests {
		if res := c.do(tt.req()); res.Code != tt.status {
			t.Fatalf("%s: status %d, want %d", tt.name, res.Code, tt.status)
		}
	}
	if n := app.count("SELECT count(*) FROM merchants"); n != 1 {
		t.Fatalf("merchants = %d, want the one signed up with the token in the body", n)
	}
}

func TestCrossSiteFormIsForbidden(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	c.get("/signup")
	req := newFormRequest("/signup", signupForm("Acme", "Ada", "ada@example.com", "a-long-unusual-passphrase"))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, c.do(req), http.StatusForbidden)
	if n := app.count("SELECT count(*) FROM merchants"); n != 0 {
		t.Fatalf("merchants = %d", n)
	}
}

func TestLogoutThenReplayedCookieGetsLogin(t *testing.T) {
	app := newTestApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	c := app.client()
	c.login("owner@acme.test")
	wantStatus(t, c.get("/accounts"), http.StatusOK)
	saved := c.jar.Cookies(testBase)

	res := c.post("/logout", nil)
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); loc != "/login?signed_out=1" {
		t.Fatalf("logout redirects to %q", loc)
	}
	if n := app.count("SELECT count(*) FROM sessions"); n != 0 {
		t.Fatalf("sessions left after logout: %d", n)
	}
	replay := app.client()
	replay.jar.SetCookies(testBase, saved)
	res = replay.get("/accounts")
	wantStatus(t, res, http.StatusSeeOther)
	if loc := res.Header.Get("Location"); !sentToLogin(res, "/accounts") {
		t.Fatalf("replayed cookie redirected to %q", loc)
	}
}

func TestLoginGivesNewSessionID(t *testing.T) {
	app := newTestApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	c := app.client()
	c.login("owner@acme.test")
	first := sessionCookie(c)
	c.login("owner@acme.test")
	second := sessionCookie(c)
	if first == "" || first == second {
		t.Fatalf("session cookie not renewed on login: %q %q", first, second)
	}
	if n := app.count("SELECT count(*) FROM sessions"); n != 1 {
		t.Fatalf("sessions = %d, want the old one deleted", n)
	}
}

func sessionCookie(c *client) string {
	for _, ck := range c.jar.Cookies(testBase) {
		if ck.Name == "keyport_session" {
			return ck.Value
		}
	}
	return ""
}

func TestSessionTimeouts(t *testing.T) {
	cases := []struct {
		name   string
		steps  []time.Duration
		wantOK bool
	}{
		{"active within idle timeout", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, true},
		{"idle too long", []time.Duration{31 * time.Minute}, false},
		{"absolute lifetime reached while active", repeat(25*time.Minute, 29), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			app := newTestApp(t)
			app.signupMerchant("Acme", "owner@acme.test")
			c := app.client()
			c.login("owner@acme.test")
			var res response
			for _, d := range tc.steps {
				app.advance(d)
				res = c.get("/accounts")
			}
			if ok := res.Code == http.StatusOK; ok != tc.wantOK {
				t.Fatalf("status %d, want signed in = %v", res.Code, tc.wantOK)
			}
			if !tc.wantOK && !sentToLogin(res, "/accounts") {
				t.Fatalf("expired session redirected to %q", res.Header.Get("Location"))
			}
		})
	}
}

func TestLoginErrorSameForUnknownEmailAndWrongPassword(t *testing.T) {
	app := newTestApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	c := app.client()
	wrong := c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"not-the-password"}})
	unknown := c.post("/login", url.Values{"email": {"nobody@acme.test"}, "password": {"not-the-password"}})
	wantStatus(t, wrong, http.StatusUnauthorized)
	wantStatus(t, unknown, http.StatusUnauthorized)
	wantContains(t, wrong.Body, loginFailed)
	wantContains(t, unknown.Body, loginFailed)
}

func TestLoginThrottling(t *testing.T) {
	t.Parallel()
	t.Run("per account", func(t *testing.T) {
		t.Parallel()
		app := newTestApp(t)
		app.signupMerchant("Acme", "owner@acme.test")
		c := app.client()
		for i := 0; i < 5; i++ {
			wantStatus(t, c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {"wrong-password-" + string(rune('a'+i))}}), http.StatusUnauthorized)
		}
		res := c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}})
		wantStatus(t, res, http.StatusTooManyRequests)
		wantContains(t, res.Body, "Too many failed attempts")
		if res.Header.Get("Retry-After") == "" {
			t.Fatal("no Retry-After header")
		}
		app.advance(15 * time.Minute)
		wantStatus(t, c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}}), http.StatusSeeOther)
	})
	t.Run("per IP across accounts", func(t *testing.T) {
		t.Parallel()
		app := newTestApp(t)
		app.signupMerchant("Acme", "owner@acme.test")
		c := app.client()
		for i := 0; i < 20; i++ {
			email := "guess" + string(rune('a'+i)) + "@acme.test"
			wantStatus(t, c.post("/login", url.Values{"email": {email}, "password": {"wrong-password"}}), http.StatusUnauthorized)
		}
		wantStatus(t, c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}}), http.StatusTooManyRequests)
		other := app.client()
		other.get("/login")
		req := newFormRequest("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}, "_csrf": {other.csrf}})
		req.RemoteAddr = "198.51.100.9:4000"
		wantStatus(t, other.do(req), http.StatusSeeOther)
	})
}

// TestLoginBurstChecksAtMostTheLimit sends 30 wrong passwords at once through
// three servers on one database, as three replicas behind a load balancer,
// then the right password: only as many guesses as the throttle allows are
// checked (401), the others are refused before the check (429), and so is
// the right password afterwards. It runs alone, neither beside the package's
// parallel tests nor its cases beside each other: the password work gate is
// one per process, and other tests' hashing filling its queue would turn some
// guesses into 503 (busy), which the burst must not be confused with.
func TestLoginBurstChecksAtMostTheLimit(t *testing.T) {
	cases := []struct {
		name        string
		email       func(i int) string
		wantChecked int
	}{
		{"one account", func(int) string { return "owner@acme.test" }, 5},
		{"many accounts from one IP", func(i int) string { return fmt.Sprintf("guess-%d@acme.test", i) }, 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			target := storetest.Target(t)
			replicas := []*testApp{openTestApp(t, target), openTestApp(t, target), openTestApp(t, target)}
			replicas[0].signupMerchant("Acme", "owner@acme.test")
			clients := make([]*client, 30)
			for i := range clients {
				clients[i] = replicas[i%len(replicas)].client()
				clients[i].get("/login")
			}
			codes := make([]int, len(clients))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, c := range clients {
				wg.Go(func() {
					<-start
					codes[i] = c.post("/login", url.Values{"email": {tc.email(i)}, "password": {fmt.Sprintf("wrong-guess-%d", i)}}).Code
				})
			}
			close(start)
			wg.Wait()
			checked, refused := 0, 0
			for _, code := range codes {
				switch code {
				case http.StatusUnauthorized:
					checked++
				case http.StatusTooManyRequests:
					refused++
				default:
					t.Errorf("a guess got %d", code)
				}
			}
			if checked != tc.wantChecked || refused != len(clients)-tc.wantChecked {
				t.Fatalf("%d guesses checked, %d refused; want %d checked", checked, refused, tc.wantChecked)
			}
			for _, app := range replicas {
				res := app.client().post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}})
				wantStatus(t, res, http.StatusTooManyRequests)
				if res.Header.Get("Retry-After") == "" {
					t.Fatal("no Retry-After header")
				}
			}
		})
	}
}

func TestForwardedForIgnoredWithoutTrustedProxies(t *testing.T) {
	t.Parallel()
	app := newTestApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	c := app.client()
	for i := 0; i < 20; i++ {
		c.get("/login")
		req := newFormRequest("/login", url.Values{"email": {"x" + string(rune('a'+i)) + "@acme.test"}, "password": {"wrong-password"}, "_csrf": {c.csrf}})
		req.Header.Set("X-Forwarded-For", "10.0.0."+string(rune('1'+i%9)))
		wantStatus(t, c.do(req), http.StatusUnauthorized)
	}
	wantStatus(t, c.post("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}}), http.StatusTooManyRequests)
}

func TestAdminLandsOnAdminPagesAndMerchantIsRefused(t *testing.T) {
	app := newTestApp(t)
	app.createAdmin("staff@keyport.test")
	app.signupMerchant("Acme", "owner@acme.test")
	admin := app.client()
	res := admin.post("/login", url.Values{"email": {"staff@keyport.test"}, "password": {testPassword}})
	if loc := res.Header.Get("Location"); loc != "/admin/requests" {
		t.Fatalf("admin lands on %q", loc)
	}
	page := admin.get("/admin/merchants")
	wantStatus(t, page, http.StatusOK)
	wantContains(t, page.Body, "Acme")
	wantStatus(t, admin.get("/accounts"), http.StatusForbidden)

	merchant := app.client()
	merchant.login("owner@acme.test")
	wantStatus(t, merchant.get("/admin/merchants"), http.StatusForbidden)
}

func repeat(d time.Duration, n int) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}

func TestSessionCookieEndsWithTheBrowserUnlessKeptSignedIn(t *testing.T) {
	app := newTestApp(t)
	app.merchant("Acme", "owner@acme.test")
	sessionCookie := func(res response) *http.Cookie {
		t.Helper()
		for _, ck := range (&http.Response{Header: res.Header}).Cookies() {
			if ck.Name == "keyport_session" && ck.Value != "" {
				return ck
			}
		}
		return nil
	}
	for _, keep := range []bool{false, true} {
		c := app.client()
		form := url.Values{"email": {"owner@acme.test"}, "password": {testPassword}}
		if keep {
			form.Set("keep_signed_in", "on")
		}
		login := c.post("/login", form)
		wantStatus(t, login, http.StatusSeeOther)
		ck := sessionCookie(login)
		if ck == nil {
			t.Fatal("no session cookie")
		}
		lasts := func(ck *http.Cookie) bool { return ck.MaxAge > 0 || !ck.Expires.IsZero() }
		if lasts(ck) != keep {
			t.Fatalf("keep %v: cookie Max-Age %d, Expires %v", keep, ck.MaxAge, ck.Expires)
		}
		app.advance(2 * time.Minute)
		page := c.get("/accounts")
		wantStatus(t, page, http.StatusOK)
		if refreshed := sessionCookie(page); refreshed == nil || lasts(refreshed) != keep {
			t.Fatalf("keep %v: the renewed cookie is %+v", keep, refreshed)
		}
		c.get("/settings")
		changed := c.post("/settings/password", url.Values{"current_password": {testPassword},
			"new_password": {"another-long-passphrase-7"}, "confirm_password": {"another-long-passphrase-7"}})
		wantStatus(t, changed, http.StatusSeeOther)
		if renewed := sessionCookie(changed); renewed == nil || lasts(renewed) != keep {
			t.Fatalf("keep %v: the cookie after a password change is %+v", keep, renewed)
		}
		if _, err := app.db.SQL().Exec(`UPDATE users SET password_hash = $1 WHERE email = 'owner@acme.test'`, passwordHashOnce()); err != nil {
			t.Fatal(err)
		}
	}
	wantContains(t, app.client().get("/login").Body, `name="keep_signed_in"`, "Keep me signed in")
}

func TestSignupsAndInvitationsAreThrottled(t *testing.T) {
	app := newTestApp(t)
	guest := app.client()
	limit := keyport.NewResetThrottle().PerIP
	for i := range limit {
		wantStatus(t, guest.post("/signup", signupForm("Acme", "Ada", fmt.Sprintf("ada-%d@example.com", i), "a-long-unusual-passphrase")), http.StatusOK)
	}
	over := guest.post("/signup", signupForm("Acme", "Ada", "one-more@example.com", "a-long-unusual-passphrase"))
	wantStatus(t, over, http.StatusTooManyRequests)
	wantContains(t, over.Body, "Too many sign-ups from your network. Wait 15 minutes and try again.")
	if over.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	if n := app.count(`SELECT count(*) FROM users WHERE email = 'one-more@example.com'`); n != 0 {
		t.Fatal("a throttled sign-up created an account")
	}
	app.advance(15 * time.Minute)
	wantStatus(t, guest.post("/signup", signupForm("Acme", "Ada", "later@example.com", "a-long-unusual-passphrase")), http.StatusOK)

	owner, _ := app.merchant("Bolt", "owner@bolt.test")
	invites := keyport.NewInviteThrottle().PerAccount
	for i := range invites {
		wantStatus(t, owner.post("/team/invitations", url.Values{"email": {fmt.Sprintf("invitee-%d@bolt.test", i)}, "role": {"developer"}}), http.StatusOK)
	}
	refused := owner.post("/team/invitations", url.Values{"email": {"one-more@bolt.test"}, "role": {"developer"}})
	wantStatus(t, refused, http.StatusTooManyRequests)
	wantContains(t, refused.Body, "Too many invitations.", `class="form-error"`)
	if n := app.count(`SELECT count(*) FROM invitations WHERE email = 'one-more@bolt.test'`); n != 0 {
		t.Fatal("a throttled invitation was created")
	}
}

// TestCSRFTokenIsBoundToTheSession is the attack of a sibling host (or port,
// in http mode) that tosses its own CSRF cookie into the victim's browser: a
// token the attacker got from Keyport for itself, or a token of another of the
// victim's sessions, changes nothing.
func TestCSRFTokenIsBoundToTheSession(t *testing.T) {
	app := newTestApp(t)
	victim, _ := app.merchant("Acme", "owner@acme.test")
	attacker := app.client()
	attacker.get("/login")
	other := app.client()
	other.login("owner@acme.test")
	forge := func(token string, tossed []*http.Cookie) response {
		req := newFormRequest("/accounts", url.Values{"name": {"Forged"}, "_csrf": {token}})
		for _, ck := range tossed {
			req.AddCookie(ck)
		}
		return victim.do(req)
	}
	tests := []struct {
		name   string
		token  string
		tossed []*http.Cookie
	}{
		{"attacker's own token and its cookie tossed in", attacker.csrf, attacker.jar.Cookies(testBase)},
		{"attacker's own token", attacker.csrf, nil},
		{"the token of the victim's other session", other.csrf, nil},
	}
	for _, tt := range tests {
		if res := forge(tt.token, tt.tossed); res.Code != http.StatusForbidden {
			t.Fatalf("%s: status %d, want 403", tt.name, res.Code)
		}
	}
	if n := app.count("SELECT count(*) FROM api_accounts WHERE name = 'Forged'"); n != 0 {
		t.Fatalf("%d forged accounts were created", n)
	}
	wantStatus(t, victim.post("/accounts", url.Values{"name": {"Real"}}), http.StatusOK)
}

func TestAFormFromAnotherOriginIsRefusedEvenWithItsToken(t *testing.T) {
	app := newTestApp(t)
	c := app.client()
	c.get("/signup")
	for _, tt := range []struct {
		site string
		want int
	}{{"cross-site", http.StatusForbidden}, {"same-site", http.StatusForbidden}, {"same-origin", http.StatusOK}} {
		form := signupForm("Acme "+tt.site, "Ada", tt.site+"@example.com", "a-long-unusual-passphrase")
		form.Set("_csrf", c.csrf)
		req := newFormRequest("/signup", form)
		req.Header.Set("Sec-Fetch-Site", tt.site)
		if res := c.do(req); res.Code != tt.want {
			t.Fatalf("Sec-Fetch-Site %s: status %d, want %d", tt.site, res.Code, tt.want)
		}
	}
	if n := app.count("SELECT count(*) FROM merchants"); n != 1 {
		t.Fatalf("merchants = %d, want the one from the same origin", n)
	}
}

// TestNobodyLocksTheOwnerOut is the attack of the security review: wrong
// passwords for an account from other addresses must not keep its owner out.
// A browser the owner signed in with before is never held back by them; a new
// browser waits at most 30 seconds once guesses come from many addresses.
func TestNobodyLocksTheOwnerOut(t *testing.T) {
	app := newTestApp(t)
	app.signupMerchant("Acme", "owner@acme.test")
	owner := app.client()
	owner.login("owner@acme.test")
	wantStatus(t, owner.post("/logout", nil), http.StatusSeeOther)

	attacker := app.client()
	attacker.get("/login")
	guess := func(ip string) response {
		req := newFormRequest("/login", url.Values{"email": {"owner@acme.test"}, "password": {"not-the-password"}, "_csrf": {attacker.csrf}})
		req.RemoteAddr = ip + ":4000"
		return attacker.do(req)
	}
	for range 5 {
		wantStatus(t, guess("198.51.100.1"), http.StatusUnauthorized)
	}
	wantStatus(t, guess("198.51.100.1"), http.StatusTooManyRequests)
	fresh := app.client()
	fresh.get("/login")
	signIn := func(c *client, ip string) response {
		req := newFormRequest("/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}, "_csrf": {c.csrf}})
		req.RemoteAddr = ip + ":4000"
		return c.do(req)
	}
	wantStatus(t, signIn(fresh, "203.0.113.50"), http.StatusSeeOther)

	for i := range 10 {
		guess(fmt.Sprintf("198.51.100.%d", 10+i))
	}
	wantStatus(t, guess("198.51.100.99"), http.StatusTooManyRequests)
	newBrowser := app.client()
	newBrowser.get("/login")
	slowed := signIn(newBrowser, "203.0.113.60")
	wantStatus(t, slowed, http.StatusTooManyRequests)
	if s, err := strconv.Atoi(slowed.Header.Get("Retry-After")); err != nil || s < 1 || s > 31 {
		t.Fatalf("a new browser waits %q seconds", slowed.Header.Get("Retry-After"))
	}
	owner.get("/login")
	wantStatus(t, signIn(owner, "203.0.113.7"), http.StatusSeeOther)
	app.advance(31 * time.Second)
	wantStatus(t, signIn(newBrowser, "203.0.113.60"), http.StatusSeeOther)
}
