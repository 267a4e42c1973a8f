package web

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// secondStep is what the short-lived sign-in cookie carries between a good
// password and the second factor: who, whether to keep them signed in, when
// the password was accepted (Unix seconds), and the page to return to.
type secondStep struct {
	UserID int64
	Keep   bool
	At     int64
	Next   string
}

// signIn is the one way a user whose password (or emailed link) was accepted
// gets a session: with two-factor authentication the sign-in continues at
// /login/code and no session starts yet. It returns where to send the browser:
// next (a returnPath) once signed in, or the user's home when next is "".
func (s *Server) signIn(c echo.Context, u keyport.User, flash string, keep bool, next string) (string, error) {
	if u.TwoFactor {
		value, err := s.secondStepCodec.Encode(s.secondStepCookie, secondStep{UserID: u.ID, Keep: keep, At: s.Now().Unix(), Next: next})
		if err != nil {
			return "", err
		}
		c.SetCookie(&http.Cookie{Name: s.secondStepCookie, Value: value, Path: "/login", HttpOnly: true, Secure: s.secure,
			SameSite: http.SameSiteStrictMode, MaxAge: int(keyport.SecondFactorTTL / time.Second)})
		return "/login/code", nil
	}
	return s.completeSignIn(c, u, flash, keep, next)
}

// enrolmentRoutes are the routes open to a user who must set up two-factor
// authentication first.
var enrolmentRoutes = map[string]bool{"/settings/two-factor/app": true, "/settings/two-factor/app/confirm": true,
	"/settings/two-factor/passkeys/new": true, "/settings/two-factor/passkeys": true, "/logout": true, "/login": true,
	"/login/code": true, "/verify-email": true}

// requireEnrolment leads a signed-in user whom the platform requires to use
// two-factor authentication, and who has none, to set it up: every other page
// and action sends them there first.
func (s *Server) requireEnrolment(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		u := currentUser(c)
		if u == nil || u.TwoFactor || enrolmentRoutes[c.Path()] {
			return next(c)
		}
		policy, err := s.db.TwoFactorPolicy(c.Request().Context())
		if err != nil {
			return err
		}
		if policy.MustEnrol(u) {
			return redirect(c, "/settings/two-factor/app")
		}
		return next(c)
	}
}

// pendingSignIn returns the user whose sign-in waits for a second factor, from
// the signed cookie signIn set; false when there is none, it is forged or
// older than keyport.SecondFactorTTL, or the user can no longer sign in.
func (s *Server) pendingSignIn(c echo.Context) (keyport.User, secondStep, bool, error) {
	var step secondStep
	ck, err := c.Cookie(s.secondStepCookie)
	if err != nil || s.secondStepCodec.Decode(s.secondStepCookie, ck.Value, &step) != nil ||
		s.Now().Sub(time.Unix(step.At, 0)) > keyport.SecondFactorTTL {
		return keyport.User{}, step, false, nil
	}
	u, err := s.db.UserByID(c.Request().Context(), step.UserID)
	if errors.Is(err, keyport.ErrNotFound) || (err == nil && u.MerchantDisabled) {
		return u, step, false, nil
	}
	return u, step, err == nil, err
}

// pendingOrRestart is pendingSignIn for the posts of the second step: without
// a pending sign-in it sends the browser back to /login, and ok is false.
func (s *Server) pendingOrRestart(c echo.Context) (keyport.User, secondStep, bool, error) {
	u, step, ok, err := s.pendingSignIn(c)
	if err != nil || ok {
		return u, step, ok, err
	}
	s.flash(c, "error", "Your sign-in took too long. Log in again.")
	return u, step, false, redirect(c, "/login")
}

// refusal is why a form was refused: its status, the field and the message.
type refusal struct {
	status         int
	field, message string
}

// checkCode is the one check of a typed second-factor code, at sign-in and on
// Confirm it's you: a code of the authenticator app or a recovery code, under
// the second-factor throttle. A wrong or throttled code is a refusal.
func (s *Server) checkCode(c echo.Context, u keyport.User, code string) (store.SecondFactorResult, *refusal, error) {
	result, err := s.db.CheckSecondFactor(c.Request().Context(), s.secondFactorThrottle, keyport.UserActor(&u, c.RealIP()), u, code)
	if msg, throttled := throttledForm(c, err); throttled {
		return result, &refusal{http.StatusTooManyRequests, "form", msg}, nil
	}
	if err == nil && result == store.SecondFactorWrong {
		return result, &refusal{http.StatusUnprocessableEntity, "code", "This code is not valid. Codes change every 30 seconds, and each works once."}, nil
	}
	return result, nil, err
}

// secondFactorForm serves GET /login/code.
func (s *Server) secondFactorForm(c echo.Context) error {
	u, _, ok, err := s.pendingSignIn(c)
	if err != nil {
		return err
	}
	if !ok {
		return c.Redirect(http.StatusSeeOther, "/login")
	}
	return s.renderSecondFactor(c, http.StatusOK, u, views.Form{})
}

// secondFactor serves POST /login/code: a good code of the pending user's
// authenticator app, or an unused recovery code, starts their session.
func (s *Server) secondFactor(c echo.Context) error {
	u, step, ok, err := s.pendingOrRestart(c)
	if !ok {
		return err
	}
	code := c.FormValue("code")
	if code == "" {
		return s.renderSecondFactor(c, http.StatusUnprocessableEntity, u, views.Form{Errors: map[string]string{
			"code": "Enter the code of your authenticator app or a recovery code."}})
	}
	result, refusal, err := s.checkCode(c, u, code)
	if err != nil {
		return err
	}
	if refusal != nil {
		if refusal.status == http.StatusUnprocessableEntity {
			refusal.status = http.StatusUnauthorized
		}
		return s.renderSecondFactor(c, refusal.status, u, views.Form{Errors: map[string]string{refusal.field: refusal.message}})
	}
	c.SetCookie(&http.Cookie{Name: s.secondStepCookie, Path: "/login", MaxAge: -1, HttpOnly: true, Secure: s.secure})
	flash := ""
	if result == store.SecondFactorRecovery {
		tf, err := s.db.TwoFactorOf(c.Request().Context(), u.ID)
		if err != nil {
			return err
		}
		flash = fmt.Sprintf("warning|You signed in with a recovery code; %d left. Generate new ones in Your settings if you lost your device.",
			tf.RecoveryLeft)
	}
	to, err := s.completeSignIn(c, u, flash, step.Keep, step.Next)
	if err != nil {
		return err
	}
	return redirect(c, to)
}

// completeSignIn records the sign-in and starts the session of a user who
// gave every factor they have, and returns next, or their home when it is "".
func (s *Server) completeSignIn(c echo.Context, u keyport.User, flash string, keep bool, next string) (string, error) {
	if err := s.db.RecordLogin(c.Request().Context(), u, c.RealIP(), s.deviceID(c), keyport.DescribeBrowser(c.Request().UserAgent())); err != nil {
		return "", err
	}
	if err := s.startSession(c, u.ID, flash, keep); err != nil {
		return "", err
	}
	if next != "" {
		return next, nil
	}
	return homeFor(&u), nil
}

// beginTwoFactor serves POST /settings/two-factor/app: a new secret awaits its first code.
func (s *Server) beginTwoFactor(c echo.Context) error {
	u := currentUser(c)
	secret, err := keyport.NewTOTPSecret(u.Email)
	if err != nil {
		return err
	}
	if err := s.db.BeginTOTP(c.Request().Context(), u.ID, secret); err != nil {
		return err
	}
	return redirect(c, "/settings/two-factor/app")
}

// twoFactorSetup serves GET /settings/two-factor/app.
func (s *Server) twoFactorSetup(c echo.Context) error {
	return s.renderTwoFactorSetup(c, http.StatusOK, views.Form{})
}

func (s *Server) renderTwoFactorSetup(c echo.Context, status int, f views.Form) error {
	u := currentUser(c)
	ctx := c.Request().Context()
	secret, err := s.db.PendingTOTP(ctx, u.ID)
	if errors.Is(err, keyport.ErrNotFound) {
		if u.TwoFactor {
			return c.Redirect(http.StatusSeeOther, "/settings#two-factor")
		}
		policy, err := s.db.TwoFactorPolicy(ctx)
		if err != nil {
			return err
		}
		return render(c, http.StatusOK, views.TwoFactorStartPage(s.page(c, "Set up an authenticator app", "/settings"), policy.Requires(u)))
	}
	if err != nil {
		return err
	}
	v := views.TwoFactorSetupView{Secret: secret, URL: keyport.TOTPURL(secret, u.Email), Form: f}
	return render(c, status, views.TwoFactorSetupPage(s.page(c, "Set up an authenticator app", "/settings"), v))
}

// confirmTwoFactor serves POST /settings/two-factor/app/confirm: the app's
// first code turns two-factor authentication on and shows the recovery codes.
func (s *Server) confirmTwoFactor(c echo.Context) error {
	u := currentUser(c)
	ctx := c.Request().Context()
	secret, err := s.db.PendingTOTP(ctx, u.ID)
	if errors.Is(err, keyport.ErrNotFound) {
		return redirect(c, "/settings#two-factor")
	}
	if err != nil {
		return err
	}
	step, ok := keyport.MatchTOTP(secret, c.FormValue("code"), s.Now())
	if !ok {
		return s.renderTwoFactorSetup(c, http.StatusUnprocessableEntity, views.Form{Errors: map[string]string{
			"code": "This is not the code your app shows now. Check that its clock is right and enter the newest code."}})
	}
	codes, err := keyport.NewRecoveryCodes()
	if err != nil {
		return err
	}
	if err := s.db.ConfirmTOTP(ctx, actor(c), *u, step, codes); err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RecoveryCodesPage(s.page(c, "Your recovery codes", "/settings"),
		views.RecoveryCodesView{Codes: codes, Enabled: true}))
}

// newRecoveryCodes serves POST /settings/two-factor/recovery-codes.
func (s *Server) newRecoveryCodes(c echo.Context) error {
	codes, err := keyport.NewRecoveryCodes()
	if err != nil {
		return err
	}
	err = s.db.NewRecoveryCodes(c.Request().Context(), actor(c), *currentUser(c), codes)
	if errors.Is(err, keyport.ErrConflict) {
		s.flash(c, "info", "Recovery codes come with two-factor authentication: set up an authenticator app first.")
		return redirect(c, "/settings#two-factor")
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.RecoveryCodesPage(s.page(c, "Your recovery codes", "/settings"),
		views.RecoveryCodesView{Codes: codes}))
}

// newRecoveryCodesForm serves GET /settings/two-factor/recovery-codes: the confirmation.
func (s *Server) newRecoveryCodesForm(c echo.Context) error {
	return s.confirm(c, "/settings", "/settings#two-factor", views.Confirmation{
		Question: "Generate new recovery codes?",
		Detail:   "Your current ones stop working.",
		Action:   "/settings/two-factor/recovery-codes",
		Button:   "Generate new recovery codes",
	})
}

// turnOffTwoFactor serves POST /settings/two-factor/off, which needs the password.
func (s *Server) turnOffTwoFactor(c echo.Context) error {
	u := currentUser(c)
	refused, err := s.checkCurrentPassword(c, u, "password", c.FormValue("password"))
	if err != nil {
		return err
	}
	if refused != nil {
		return s.renderSettings(c, refused.status, settingsForms{twoFactor: views.Form{Errors: map[string]string{refused.field: refused.message}}})
	}
	err = s.db.TurnOffTwoFactor(c.Request().Context(), actor(c), *u)
	if err != nil && !errors.Is(err, keyport.ErrNotFound) {
		return err
	}
	s.flash(c, "success", "Two-factor authentication is off.")
	return redirect(c, "/settings")
}
