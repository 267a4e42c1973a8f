package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// forgotPasswordForm serves GET /password/forgot.
func (s *Server) forgotPasswordForm(c echo.Context) error {
	return render(c, http.StatusOK, views.ForgotPasswordPage(s.page(c, "Reset your password", ""), views.Form{}))
}

// requestPasswordReset serves POST /password/forgot. Its answer is the same
// whether or not an account has the email, and whether or not the email is
// over its limit; only a client IP over its own limit is told to wait.
func (s *Server) requestPasswordReset(c echo.Context) error {
	email := keyport.NormalizeEmail(c.FormValue("email"))
	form := views.Form{Values: map[string]string{"email": email}}
	page := s.page(c, "Reset your password", "")
	if msg := keyport.CheckEmail(email); msg != "" {
		form.Errors = map[string]string{"email": msg}
		return render(c, http.StatusUnprocessableEntity, views.ForgotPasswordPage(page, form))
	}
	err := s.db.RequestPasswordReset(c.Request().Context(), s.resetThrottle, email, c.RealIP())
	if msg, ok := throttledForm(c, err); ok {
		form.Errors = map[string]string{"form": msg}
		return render(c, http.StatusTooManyRequests, views.ForgotPasswordPage(page, form))
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ResetLinkSentPage(page, email))
}

// invalidResetLink answers a reset token that is unknown, used or expired.
func (s *Server) invalidResetLink(c echo.Context) error {
	return render(c, http.StatusNotFound, views.ResetLinkInvalidPage(s.page(c, "Reset link not valid", "")))
}

// resetPasswordForm serves GET /password/reset?token=….
func (s *Server) resetPasswordForm(c echo.Context) error {
	token := c.QueryParam("token")
	u, err := s.db.PasswordResetUser(c.Request().Context(), token)
	if errors.Is(err, keyport.ErrNotFound) {
		return s.invalidResetLink(c)
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ResetPasswordPage(s.page(c, "Choose a new password", ""),
		views.ResetPasswordView{Email: u.Email, Token: token}))
}

// resetPassword serves POST /password/reset: the new password replaces the
// old one, the link is used up and every session of the user ends.
func (s *Server) resetPassword(c echo.Context) error {
	token := c.FormValue("token")
	ctx := c.Request().Context()
	u, err := s.db.PasswordResetUser(ctx, token)
	if errors.Is(err, keyport.ErrNotFound) {
		return s.invalidResetLink(c)
	}
	if err != nil {
		return err
	}
	next := c.FormValue("new_password")
	var v keyport.ValidationError
	if msg := keyport.CheckPassword(next, u.Name, u.MerchantName, u.Email); msg != "" {
		v.Add("new_password", msg)
	} else if c.FormValue("confirm_password") != next {
		v.Add("confirm_password", "The two passwords do not match.")
	}
	if len(v.Fields) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.ResetPasswordPage(s.page(c, "Choose a new password", ""),
			views.ResetPasswordView{Email: u.Email, Token: token, Form: views.Form{Errors: v.Fields}}))
	}
	hash, err := s.passwordCost.Hash(next)
	if err != nil {
		return err
	}
	if _, err := s.db.ResetPassword(ctx, token, hash, c.RealIP()); errors.Is(err, keyport.ErrNotFound) {
		return s.invalidResetLink(c)
	} else if err != nil {
		return err
	}
	return redirect(c, "/login?signed_out=reset")
}

// verifyEmailForm serves GET /verify-email?token=…: a page whose button
// verifies the address, as a GET never writes.
func (s *Server) verifyEmailForm(c echo.Context) error {
	token := c.QueryParam("token")
	u, err := s.db.EmailVerificationUser(c.Request().Context(), token)
	if errors.Is(err, keyport.ErrNotFound) {
		return s.invalidVerificationLink(c)
	}
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.VerifyEmailPage(s.page(c, "Verify your email address", ""), u.Email, token))
}

// verifyEmail serves POST /verify-email: the address is verified and its
// user signed in, unless their merchant is disabled.
func (s *Server) verifyEmail(c echo.Context) error {
	u, err := s.db.VerifyEmail(c.Request().Context(), c.FormValue("token"), c.RealIP())
	if errors.Is(err, keyport.ErrNotFound) {
		return s.invalidVerificationLink(c)
	}
	if err != nil {
		return err
	}
	if u.MerchantDisabled {
		return keyport.ErrMerchantDisabled
	}
	to, err := s.signIn(c, u, "success|Your email address is verified. Welcome to Keyport.", false, "")
	if err != nil {
		return err
	}
	return redirect(c, to)
}

func (s *Server) invalidVerificationLink(c echo.Context) error {
	return render(c, http.StatusNotFound, views.VerificationLinkInvalidPage(s.page(c, "Verification link not valid", "")))
}

// resendVerification serves POST /settings/verify-email.
func (s *Server) resendVerification(c echo.Context) error {
	u := currentUser(c)
	err := s.db.ResendVerification(c.Request().Context(), s.mailThrottle, *u)
	var te *keyport.ThrottledError
	switch {
	case errors.As(err, &te):
		s.flash(c, "error", te.Error())
	case err != nil:
		return err
	case u.EmailVerified:
		s.flash(c, "info", "Your email address is already verified.")
	default:
		s.flash(c, "success", "We sent a new verification link to "+u.Email+". It works for 7 days.")
	}
	return redirect(c, "/settings")
}
