package web

import (
	"fmt"
	"net/http"
	"slices"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

func (s *Server) renderUserSettings(c echo.Context, status int, password views.Form) error {
	return s.renderSettings(c, status, settingsForms{password: password})
}

// settingsForms are the forms of Your settings with their values and errors.
type settingsForms struct{ password, mail, twoFactor views.Form }

// renderSettings renders Your settings with the errors of its forms.
func (s *Server) renderSettings(c echo.Context, status int, forms settingsForms) error {
	u := currentUser(c)
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil {
		return err
	}
	list, err := s.sessions.UserSessions(c.Request().Context(), u.ID, sess.ID)
	if err != nil {
		return err
	}
	off, err := s.db.MailOptOuts(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	tf, err := s.db.TwoFactorOf(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	v := views.SettingsView{CSRF: csrfToken(c), Sessions: list, Now: s.Now(), Password: forms.password, MailOff: off, Mail: forms.mail,
		TwoFactor: views.TwoFactorSettings{State: tf, Form: forms.twoFactor}}
	return render(c, status, views.UserSettingsPage(s.page(c, "Your settings", "/settings"), v))
}

// userSettings serves GET /settings.
func (s *Server) userSettings(c echo.Context) error {
	return s.renderUserSettings(c, http.StatusOK, views.Form{})
}

// endSession serves POST /settings/sessions/:session/end: one other session
// of the user ends.
func (s *Server) endSession(c echo.Context) error {
	ended, err := s.sessions.EndSession(c.Request().Context(), actor(c), *currentUser(c), c.Param("session"))
	if err != nil {
		return err
	}
	s.flash(c, "success", fmt.Sprintf("Signed out of %s (%s).", orUnknown(ended.Browser), orUnknown(ended.IP)))
	return redirect(c, "/settings")
}

// endSessionForm serves GET /settings/sessions/:session/end: the confirmation.
// Only another session of the user's own is found.
func (s *Server) endSessionForm(c echo.Context) error {
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil {
		return err
	}
	list, err := s.sessions.UserSessions(c.Request().Context(), currentUser(c).ID, sess.ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(si store.SessionInfo) bool { return si.PublicID == c.Param("session") && !si.Current })
	if i < 0 {
		return keyport.ErrNotFound
	}
	name := fmt.Sprintf("%s (%s)", orUnknown(list[i].Browser), orUnknown(list[i].IP))
	return s.confirm(c, "/settings", "/settings", views.Confirmation{
		Question: "Sign out of " + name + "?",
		Detail:   "That browser will need to log in again.",
		Action:   "/settings/sessions/" + list[i].PublicID + "/end",
		Button:   "Sign out of " + name,
	})
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// saveMailPreferences serves POST /settings/email: the checked topics are
// received, the others turned off.
func (s *Server) saveMailPreferences(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	receive := form["receive"]
	var off []keyport.MailTopic
	for _, t := range keyport.MailTopics {
		if !slices.Contains(receive, string(t)) {
			off = append(off, t)
		}
	}
	for _, r := range receive {
		if !slices.Contains(keyport.MailTopics, keyport.MailTopic(r)) {
			return s.renderSettings(c, http.StatusUnprocessableEntity,
				settingsForms{mail: views.Form{Errors: map[string]string{"receive": "Choose among the listed topics."}}})
		}
	}
	if err := s.db.SetMailOptOuts(c.Request().Context(), currentUser(c).ID, off); err != nil {
		return err
	}
	s.flash(c, "success", "Email preferences saved.")
	return redirect(c, "/settings")
}

// changePassword checks the current password, stores the new one, ends every
// other session of the user and renews the current session's id. Wrong
// current passwords count toward the login throttle of the account.
// Route: POST /settings/password.
func (s *Server) changePassword(c echo.Context) error {
	u := currentUser(c)
	current := c.FormValue("current_password")
	next := c.FormValue("new_password")
	var v keyport.ValidationError
	switch msg := keyport.CheckPassword(next, u.Name, u.MerchantName, u.Email); {
	case msg != "":
		v.Add("new_password", msg)
	case c.FormValue("confirm_password") != next:
		v.Add("confirm_password", "The two new passwords do not match.")
	case next == current:
		v.Add("new_password", "Choose a password different from your current one.")
	}
	refused, err := s.checkCurrentPassword(c, u, "current_password", current)
	if err != nil {
		return err
	}
	if refused != nil && refused.status == http.StatusTooManyRequests {
		return s.renderUserSettings(c, refused.status, views.Form{Errors: map[string]string{refused.field: refused.message}})
	}
	if refused != nil {
		v.Add(refused.field, refused.message)
	}
	if len(v.Fields) > 0 {
		return s.renderUserSettings(c, http.StatusUnprocessableEntity, views.Form{Errors: v.Fields})
	}
	hash, err := s.passwordCost.Hash(next)
	if err != nil {
		return err
	}
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil {
		return err
	}
	ended, err := s.db.ChangePassword(c.Request().Context(), actor(c), *u, hash, sess.ID)
	if err != nil {
		return err
	}
	msg := "Your password has been changed."
	switch ended {
	case 0:
	case 1:
		msg += " Your 1 other session was signed out."
	default:
		msg += fmt.Sprintf(" Your %d other sessions were signed out.", ended)
	}
	keep, _ := sess.Values[store.SessionKeepKey].(bool)
	if err := s.startSession(c, u.ID, "success|"+msg, keep); err != nil {
		return err
	}
	return redirect(c, "/settings")
}

// endAllSessions signs the user out of every session, this one included.
// Route: POST /settings/sessions/end.
func (s *Server) endAllSessions(c echo.Context) error {
	if _, err := s.db.EndAllSessions(c.Request().Context(), actor(c), *currentUser(c)); err != nil {
		return err
	}
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return err
	}
	return redirect(c, "/login?signed_out=all")
}

// endAllSessionsForm serves GET /settings/sessions/end: the confirmation.
func (s *Server) endAllSessionsForm(c echo.Context) error {
	return s.confirm(c, "/settings", "/settings", views.Confirmation{
		Question: "Sign out of every session?",
		Detail:   "Every session ends, this one included, and you will need to log in again.",
		Action:   "/settings/sessions/end",
		Button:   "Sign out of every session",
	})
}

// checkCurrentPassword is the one check of a signed-in user's password, typed
// into the form field field, before a change that needs it: each try counts
// against the sign-in throttle, and only a wrong one stays counted. A wrong
// or missing password is a refusal on field, a throttled one on the form.
func (s *Server) checkCurrentPassword(c echo.Context, u *keyport.User, field, password string) (*refusal, error) {
	if password == "" {
		return &refusal{http.StatusUnprocessableEntity, field, "Enter your current password."}, nil
	}
	attempt, wait, err := s.reserveLogin(c, u.Email)
	if err != nil {
		return nil, err
	}
	if wait != "" {
		return &refusal{http.StatusTooManyRequests, "form", wait}, nil
	}
	ok, err := keyport.VerifyPassword(u.PasswordHash, password)
	if err != nil {
		return nil, err
	}
	if !ok {
		return &refusal{http.StatusUnprocessableEntity, field, "This is not your current password."}, nil
	}
	return nil, s.db.CancelLoginReservation(c.Request().Context(), attempt)
}
