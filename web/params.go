package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

const ctxAccount = "account"

// pathID reads a numeric path parameter; anything else is a 404.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, keyport.ErrNotFound
	}
	return id, nil
}

// localPath returns next when it is a path of this site, and fallback
// otherwise, so that a redirect to it can never leave the site.
func localPath(next, fallback string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsFunc(next, func(r rune) bool { return r == '\\' || unicode.IsControl(r) }) {
		return fallback
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return fallback
	}
	return next
}

// modeParam reads a key mode; anything else is a 404.
func modeParam(value string) (keyport.Mode, error) {
	switch m := keyport.Mode(value); m {
	case keyport.ModeLive, keyport.ModeTest:
		return m, nil
	}
	return "", keyport.ErrNotFound
}

// actor is the signed-in user acting from the request's client address.
func actor(c echo.Context) keyport.Actor {
	return keyport.UserActor(currentUser(c), c.RealIP())
}

// setAccount puts the API account with this id into the context when it belongs to the signed-in user's merchant; otherwise 404.
func (s *Server) setAccount(c echo.Context, id int64) error {
	a, err := s.db.AccountOf(c.Request().Context(), currentUser(c).MerchantID, id)
	if err != nil {
		return err
	}
	c.Set(ctxAccount, &a)
	return nil
}

func currentAccount(c echo.Context) *keyport.APIAccount {
	a, _ := c.Get(ctxAccount).(*keyport.APIAccount)
	return a
}

// formLevelError returns the message of a store refusal that belongs at the top
// of the form that caused it, such as the token cap.
func formLevelError(err error) (string, bool) {
	var ce *keyport.CapError
	switch {
	case errors.As(err, &ce):
		return ce.Error(), true
	case errors.Is(err, keyport.ErrAccountDisabled), errors.Is(err, keyport.ErrEmailUnverified):
		return keyport.ErrorMessage(err), true
	}
	return "", false
}

// throttledForm returns the message of a keyport.ThrottledError, for the
// form that was refused, and sets the answer's Retry-After.
func throttledForm(c echo.Context, err error) (string, bool) {
	var te *keyport.ThrottledError
	if !errors.As(err, &te) {
		return "", false
	}
	c.Response().Header().Set("Retry-After", strconv.Itoa(int(te.Wait.Seconds())+1))
	return te.Error(), true
}

// dialog renders a dialog body: inside a modal for htmx requests, as a page of
// its own otherwise. refresh names the event fired on the page when the modal closes.
func (s *Server) dialog(c echo.Context, status int, title, nav, refresh string, sticky bool, body templ.Component) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Retarget", "#modal")
		c.Response().Header().Set("HX-Reswap", "innerHTML")
		return render(c, status, views.Modal(title, refresh, sticky, body))
	}
	return render(c, status, views.PanelPage(s.page(c, title, nav), title, body))
}

// frame tells a dialog body how it is shown and where it leads back to.
func frame(c echo.Context, back string) views.Frame {
	return views.Frame{Modal: isHTMX(c), Back: back}
}

// fieldErrors returns the per-field messages of a ValidationError, nil for any other error.
func fieldErrors(err error) map[string]string {
	var ve *keyport.ValidationError
	if errors.As(err, &ve) {
		return ve.Fields
	}
	return nil
}

// confirm asks before a destructive action: in a dialog for htmx requests, on
// a page of its own otherwise, where Cancel leads back. The action stays with
// its POST route.
func (s *Server) confirm(c echo.Context, nav, back string, cf views.Confirmation) error {
	cf.Frame, cf.CSRF = frame(c, back), csrfToken(c)
	cf.Frame.Nested = cf.InModal
	return s.dialog(c, http.StatusOK, cf.Question, nav, "", false, views.ConfirmBody(cf))
}

// postedToAddress reports whether a search form posted without JavaScript
// moves to the address of its answer (post, redirect, get); a search that
// does not fit an address is answered at once instead.
func postedToAddress(c echo.Context, search keyport.KeySearch) bool {
	return c.Request().Method == http.MethodPost && search.FitsAnAddress()
}
