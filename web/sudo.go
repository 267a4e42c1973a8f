package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// sudo reports whether the signed-in user proved who they are within
// keyport.SudoWindow, so the sensitive action may run. When not, it has
// answered the request: the browser goes to the confirmation page, which
// sends it back to the page the action came from.
func (s *Server) sudo(c echo.Context, action keyport.SensitiveAction) (bool, error) {
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil {
		return false, err
	}
	proved, _ := sess.Values[store.SessionSudoKey].(int64)
	if proved != 0 && keyport.SudoFresh(time.Unix(proved, 0), s.Now()) {
		return true, nil
	}
	return false, redirect(c, views.SudoURL(action, s.returnPath(c)))
}

// returnPath is the page a request came from, when it is a page of this
// site (the Referer, sent same-origin only); otherwise the user's home.
func (s *Server) returnPath(c echo.Context) string {
	home := homeFor(currentUser(c))
	if ref, err := url.Parse(c.Request().Referer()); err == nil && ref.Host == c.Request().Host {
		return localPath(ref.RequestURI(), home)
	}
	return home
}

// sudoRequest is the confirmation page's action and where to go after it.
func sudoRequest(c echo.Context) (keyport.SensitiveAction, string) {
	action := keyport.SensitiveAction(c.FormValue("action"))
	return action, localPath(c.FormValue("next"), homeFor(currentUser(c)))
}

// sudoForm serves GET /sudo.
func (s *Server) sudoForm(c echo.Context) error {
	action, next := sudoRequest(c)
	if !action.Valid() {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return s.renderSudo(c, http.StatusOK, action, next, views.Form{})
}

func (s *Server) renderSudo(c echo.Context, status int, action keyport.SensitiveAction, next string, f views.Form) error {
	v := views.SudoView{Action: action, Next: next, TwoFactor: currentUser(c).TwoFactor, Form: f}
	return render(c, status, views.SudoPage(s.page(c, "Confirm it's you", ""), v))
}

// confirmSudo serves POST /sudo: the password, or a code of the user's second
// factor, starts a new sudo window; audited.
func (s *Server) confirmSudo(c echo.Context) error {
	u := currentUser(c)
	action, next := sudoRequest(c)
	if !action.Valid() {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown action to confirm.")
	}
	fail := func(status int, field, msg string) error {
		return s.renderSudo(c, status, action, next, views.Form{Errors: map[string]string{field: msg}})
	}
	code := strings.TrimSpace(c.FormValue("code"))
	if code != "" && u.TwoFactor {
		_, refused, err := s.checkCode(c, *u, code)
		if err != nil {
			return err
		}
		if refused != nil {
			return fail(refused.status, refused.field, refused.message)
		}
	} else {
		refused, err := s.checkCurrentPassword(c, u, "password", c.FormValue("password"))
		if err != nil {
			return err
		}
		if refused != nil {
			return fail(refused.status, refused.field, refused.message)
		}
	}
	if err := s.db.IdentityConfirmed(c.Request().Context(), actor(c), *u, action); err != nil {
		return err
	}
	if err := s.markProved(c); err != nil {
		return err
	}
	s.flash(c, "success", "Thank you. Keyport will not ask again for 10 minutes: "+action.Label()+" now.")
	return redirect(c, next)
}

// markProved starts a sudo window in the current session.
func (s *Server) markProved(c echo.Context) error {
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil {
		return err
	}
	if sess.ID == "" {
		return errors.New("web: no session to mark")
	}
	sess.Values[store.SessionSudoKey] = s.Now().Unix()
	return sess.Save(c.Request(), c.Response())
}
