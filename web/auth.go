package web

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// homeFor is where a user lands after signing in.
func homeFor(u *keyport.User) string {
	switch {
	case u.IsAdmin():
		return "/admin/requests"
	case u.Role == keyport.RoleReviewer:
		return "/secrets"
	}
	return "/accounts"
}

// home serves GET /.
func (s *Server) home(c echo.Context) error {
	u := currentUser(c)
	if u == nil {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return c.Redirect(http.StatusSeeOther, homeFor(u))
}

// signupForm serves GET /signup.
func (s *Server) signupForm(c echo.Context) error {
	if u := currentUser(c); u != nil {
		return c.Redirect(http.StatusSeeOther, homeFor(u))
	}
	return render(c, http.StatusOK, views.SignupPage(s.page(c, "Sign up", ""), views.Form{}))
}

// signup serves POST /signup. Its answer is the same whether or not the
// email already has an account: a new account's Owner gets the link that
// verifies their email, an existing account's owner a message saying so.
func (s *Server) signup(c echo.Context) error {
	in := keyport.Signup{
		MerchantName: c.FormValue("merchant_name"),
		Name:         c.FormValue("name"),
		Email:        c.FormValue("email"),
		Password:     c.FormValue("password"),
	}
	in.Normalize()
	form := views.Form{Values: map[string]string{"merchant_name": in.MerchantName, "name": in.Name, "email": in.Email}}
	invalid := func(err error) error {
		if fields := fieldErrors(err); fields != nil {
			form.Errors = fields
			return render(c, http.StatusUnprocessableEntity, views.SignupPage(s.page(c, "Sign up", ""), form))
		}
		if msg, ok := throttledForm(c, err); ok {
			form.Errors = map[string]string{"form": msg}
			return render(c, http.StatusTooManyRequests, views.SignupPage(s.page(c, "Sign up", ""), form))
		}
		return err
	}
	if err := in.Validate(); err != nil {
		return invalid(err)
	}
	hash, err := s.passwordCost.Hash(in.Password)
	if err != nil {
		return err
	}
	if _, _, err := s.db.SignUp(c.Request().Context(), s.mailThrottle, in, hash, c.RealIP()); err != nil {
		return invalid(err)
	}
	return render(c, http.StatusOK, views.SignupSentPage(s.page(c, "Check your inbox", ""), in.Email))
}

// returnPath is raw when it is a page that a sign-in may send the browser
// back to, as the login page's next parameter carries it, and "" otherwise:
// a path of this site (localPath), without a fragment, other than the home
// page and the sign-in pages themselves.
func returnPath(raw string) string {
	if len(raw) > maxReturnPath || localPath(raw, "") == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Fragment != "" || u.Path == "/" {
		return ""
	}
	for _, p := range []string{"/login", "/logout", "/signup", "/password", "/invite", "/verify-email"} {
		if u.Path == p || strings.HasPrefix(u.Path, p+"/") {
			return ""
		}
	}
	return raw
}

// maxReturnPath is the longest page address a sign-in returns to.
const maxReturnPath = 2048

// loginTo is the login page's address for a browser that asked for the page
// at next: it returns there once signed in.
func loginTo(next string) string {
	if next = returnPath(next); next == "" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// loginForm serves GET /login.
func (s *Server) loginForm(c echo.Context) error {
	next := returnPath(c.QueryParam("next"))
	if u := currentUser(c); u != nil {
		if next == "" {
			next = homeFor(u)
		}
		return c.Redirect(http.StatusSeeOther, next)
	}
	p := s.page(c, "Log in", "")
	switch c.QueryParam("signed_out") {
	case "1":
		p.Flashes = append(p.Flashes, views.Flash{Kind: "info", Message: "You have logged out."})
	case "all":
		p.Flashes = append(p.Flashes, views.Flash{Kind: "info", Message: "You have been signed out of all sessions, on every device."})
	case "disabled":
		p.Flashes = append(p.Flashes, views.Flash{Kind: "error",
			Message: "You were signed out: the platform team disabled your merchant account. Contact them to have it enabled again."})
	case "reset":
		p.Flashes = append(p.Flashes, views.Flash{Kind: "success",
			Message: "Your password was changed and every session of yours was signed out. Log in with your new password."})
	}
	return render(c, http.StatusOK, views.LoginPage(p, views.Form{Values: map[string]string{"next": next}}))
}

// loginFailed is the one message for an unknown email and a wrong password alike.
const loginFailed = "Incorrect email or password."

// login serves POST /login.
func (s *Server) login(c echo.Context) error {
	email := keyport.NormalizeEmail(c.FormValue("email"))
	password := c.FormValue("password")
	next := returnPath(c.FormValue("next"))
	form := views.Form{Values: map[string]string{"email": email, "keep_signed_in": c.FormValue("keep_signed_in"), "next": next}}
	fail := func(status int, msg string) error {
		form.Errors = map[string]string{"form": msg}
		return render(c, status, views.LoginPage(s.page(c, "Log in", ""), form))
	}
	if email == "" || password == "" {
		s.metrics.loginAttempted(loginIncomplete)
		return fail(http.StatusUnprocessableEntity, "Enter your email and password.")
	}
	ctx := c.Request().Context()
	attempt, refusal, err := s.reserveLogin(c, email)
	if err != nil {
		return err
	}
	if refusal != "" {
		s.metrics.loginAttempted(loginThrottled)
		return fail(http.StatusTooManyRequests, refusal)
	}
	u, err := s.db.UserByEmail(ctx, email)
	switch {
	case errors.Is(err, keyport.ErrNotFound):
		if err := s.passwordCost.VerifyNoUser(password); err != nil {
			return s.uncheckedLogin(ctx, attempt, err)
		}
	case err != nil:
		return err
	default:
		ok, verr := keyport.VerifyPassword(u.PasswordHash, password)
		if verr != nil {
			return s.uncheckedLogin(ctx, attempt, verr)
		}
		if ok && u.MerchantDisabled {
			if err := s.db.CancelLoginReservation(ctx, attempt); err != nil {
				return err
			}
			s.metrics.loginAttempted(loginRefused)
			return fail(http.StatusForbidden, keyport.ErrMerchantDisabled.Message)
		}
		if ok {
			if err := s.db.LoginSucceeded(ctx, attempt); err != nil {
				return err
			}
			to, err := s.signIn(c, u, "", c.FormValue("keep_signed_in") == "on", next)
			if err != nil {
				return err
			}
			s.metrics.loginAttempted(loginSucceeded)
			return redirect(c, to)
		}
	}
	s.metrics.loginAttempted(loginWrongCredentials)
	return fail(http.StatusUnauthorized, loginFailed)
}

// uncheckedLogin answers a sign-in whose password could not be checked: the
// attempt it reserved is given back, since the password was never tried.
func (s *Server) uncheckedLogin(ctx context.Context, attempt store.LoginReservation, err error) error {
	if cerr := s.db.CancelLoginReservation(ctx, attempt); cerr != nil {
		return errors.Join(err, cerr)
	}
	return err
}

// reserveLogin counts a password attempt for email from the request's client
// before the password is checked, so that concurrent guesses on every replica
// are counted before any of them is checked. When the throttle refuses the
// attempt it sets Retry-After and returns the message for the 429 page.
func (s *Server) reserveLogin(c echo.Context, email string) (store.LoginReservation, string, error) {
	client := keyport.LoginClient{IP: c.RealIP()}
	if ck, err := c.Cookie(s.deviceCookie); err == nil && validDeviceID(ck.Value) {
		client.Device = ck.Value
	}
	r, wait, err := s.db.ReserveLogin(c.Request().Context(), s.throttle, email, client)
	if err != nil || wait <= 0 {
		return r, "", err
	}
	c.Response().Header().Set("Retry-After", fmt.Sprint(int(wait.Seconds())+1))
	return r, (&keyport.ThrottledError{What: "failed attempts", Wait: wait}).Error(), nil
}

// logout serves POST /logout.
func (s *Server) logout(c echo.Context) error {
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return redirect(c, "/login?signed_out=1")
}

// deviceCookieMaxAge is how long a browser keeps the id that tells Keyport it signed in before.
const deviceCookieMaxAge = 400 * 24 * time.Hour

// deviceID returns the id of the browser's device cookie, giving the browser
// a new random one when it has none (or a malformed one). The id is no
// credential: it only tells a known browser from a new one.
func (s *Server) deviceID(c echo.Context) string {
	if ck, err := c.Cookie(s.deviceCookie); err == nil && validDeviceID(ck.Value) {
		return ck.Value
	}
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		return ""
	}
	id := base64.RawURLEncoding.EncodeToString(b)
	c.SetCookie(&http.Cookie{Name: s.deviceCookie, Value: id, Path: "/", MaxAge: int(deviceCookieMaxAge / time.Second),
		HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode})
	return id
}

// validDeviceID reports whether v has the form of an id deviceID hands out.
func validDeviceID(v string) bool {
	if len(v) != 22 {
		return false
	}
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// startSession ends the request's current session, if any, and starts a new one
// with a fresh id for the user; flash ("kind|message"), when set, is queued for
// the next page. The cookie lasts the session's lifetime when keep is set, and
// ends with the browser otherwise.
func (s *Server) startSession(c echo.Context, userID int64, flash string, keep bool) error {
	old, err := s.sessions.Get(c.Request(), s.cookieName)
	if err == nil && old.ID != "" {
		if err := s.sessions.Delete(c.Request().Context(), old.ID); err != nil {
			return err
		}
	}
	sess := sessions.NewSession(s.sessions, s.cookieName)
	opts := s.sessions.Options
	if !keep {
		opts.MaxAge = 0
	}
	sess.Options = &opts
	sess.Values[store.SessionUserKey] = userID
	sess.Values[store.SessionKeepKey] = keep
	sess.Values[store.SessionSudoKey] = s.Now().Unix()
	sess.Values[store.SessionIPKey] = c.RealIP()
	sess.Values[store.SessionBrowserKey] = keyport.DescribeBrowser(c.Request().UserAgent())
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	if flash != "" {
		s.setFlashes(c, append(s.pendingFlashes(c), flash))
	}
	return nil
}
