package web

import (
	"bytes"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"keyport/views"
)

// render writes a component with a status, rendering it fully before sending
// so that a failure never leaves half a page.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page builds the layout data for the current request, taking pending flashes.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, User: currentUser(c), CSRF: csrfToken(c), Nav: nav}
	if p.User == nil {
		return p
	}
	ctx := c.Request().Context()
	if p.User.IsAdmin() {
		n, err := s.db.CountPendingRequests(ctx)
		if err != nil {
			s.log.Error("count pending requests", "err", err)
		}
		p.PendingRequests = n
	} else {
		notices, err := s.db.TakeRequestNotices(ctx, p.User.MerchantID)
		if err != nil {
			s.log.Error("take request notices", "err", err)
		}
		for _, r := range notices {
			p.Flashes = append(p.Flashes, requestNotice(r))
		}
	}
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil {
		return p
	}
	raw := sess.Flashes()
	if len(raw) == 0 {
		return p
	}
	for _, f := range raw {
		text, _ := f.(string)
		kind, msg, ok := strings.Cut(text, "|")
		if ok {
			p.Flashes = append(p.Flashes, views.Flash{Kind: kind, Message: msg})
		}
	}
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		s.log.Error("save session", "err", err)
	}
	return p
}

// flash queues a notice for the next page the user sees.
func (s *Server) flash(c echo.Context, kind, message string) {
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil || sess.IsNew {
		return
	}
	sess.AddFlash(kind + "|" + message)
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		s.log.Error("save session", "err", err)
	}
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string)
	return t
}

// formValues reads the named fields of a submitted form, trimmed of nothing.
func formValues(c echo.Context, names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[n] = c.FormValue(n)
	}
	return out
}

// notice sends a small notice for htmx requests into the page's notice area.
func notice(c echo.Context, status int, kind, message string) error {
	c.Response().Header().Set("HX-Retarget", "#notices")
	c.Response().Header().Set("HX-Reswap", "beforeend")
	return render(c, status, views.Notice(views.Flash{Kind: kind, Message: message}))
}
