package web

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

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

// page builds the layout data for the current request: the merchant's request
// notices, which stay until dismissed, and the pending flashes, which it takes.
// It reads the database and sets cookies, but never writes the database.
func (s *Server) page(c echo.Context, title, nav string) views.Page {
	p := views.Page{Title: title, User: currentUser(c), CSRF: csrfToken(c), Nav: nav}
	if p.User == nil {
		return p
	}
	ctx := c.Request().Context()
	if p.User.IsAdmin() {
		n, err := s.db.CountPendingRequests(ctx, views.QueueCountLimit)
		if err != nil {
			s.log.Error("count pending requests", "err", err)
		}
		p.PendingRequests = n
	} else {
		if !p.User.EmailVerified {
			p.Flashes = append(p.Flashes, views.Flash{Kind: "info", Message: "Verify your email address with the link we sent to " +
				p.User.Email + ": you need it to request a live key. Nothing arrived? Send a new link from Your settings."})
		}
		notices, err := s.db.RequestNotices(ctx, p.User.MerchantID)
		if err != nil {
			s.log.Error("request notices", "err", err)
		}
		// A dismissed notice leads back to this page, unless it answers a
		// form, whose URL a GET may not open.
		back := ""
		if c.Request().Method == http.MethodGet {
			back = c.Request().URL.RequestURI()
		}
		for _, r := range notices {
			f := requestNotice(r)
			if p.User.Role.CanManageKeys() {
				f.Dismiss = &views.Dismiss{Action: fmt.Sprintf("/notices/%d/dismiss", r.ID), CSRF: p.CSRF, Back: back}
			}
			p.Flashes = append(p.Flashes, f)
		}
	}
	for _, text := range s.takeFlashes(c) {
		kind, msg, ok := strings.Cut(text, "|")
		if ok {
			p.Flashes = append(p.Flashes, views.Flash{Kind: kind, Message: msg})
		}
	}
	return p
}

// ctxFlashes holds the flashes queued for the next page during this request.
const ctxFlashes = "flashes"

// flashMaxAge is how long a queued flash waits for the page that shows it.
const flashMaxAge = 5 * time.Minute

// maxFlashes is how many notices wait for the next page at most: a client
// that posts without ever opening a page keeps only the latest ones, so the
// cookie stays far under browsers' 4 KB limit.
const maxFlashes = 5

// flash queues a notice for the next page the user sees. Flashes travel in
// their own signed cookie, so showing them is no database write.
func (s *Server) flash(c echo.Context, kind, message string) {
	sess, err := s.sessions.Get(c.Request(), s.cookieName)
	if err != nil || sess.IsNew {
		return
	}
	list := append(s.pendingFlashes(c), kind+"|"+message)
	s.setFlashes(c, list[max(0, len(list)-maxFlashes):])
}

// takeFlashes returns the queued flashes and clears them.
func (s *Server) takeFlashes(c echo.Context) []string {
	list := s.pendingFlashes(c)
	if len(list) > 0 {
		s.setFlashes(c, nil)
	}
	return list
}

// pendingFlashes returns the flashes queued by an earlier request (the cookie)
// or by this one.
func (s *Server) pendingFlashes(c echo.Context) []string {
	if list, ok := c.Get(ctxFlashes).([]string); ok {
		return list
	}
	var list []string
	if ck, err := c.Cookie(s.flashCookie); err == nil {
		if err := s.flashCodec.Decode(s.flashCookie, ck.Value, &list); err != nil {
			list = nil
		}
	}
	return list
}

// setFlashes replaces the queued flashes, in the context and the cookie; an
// empty list expires the cookie.
func (s *Server) setFlashes(c echo.Context, list []string) {
	c.Set(ctxFlashes, list)
	ck := &http.Cookie{Name: s.flashCookie, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteLaxMode, MaxAge: -1}
	if len(list) > 0 {
		value, err := s.flashCodec.Encode(s.flashCookie, list)
		if err != nil {
			s.log.Error("encode flashes", "err", err)
			return
		}
		ck.Value, ck.MaxAge = value, int(flashMaxAge/time.Second)
	}
	c.SetCookie(ck)
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
