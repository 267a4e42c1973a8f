package web

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"keyport"
	"keyport/store"
)

const (
	ctxUser      = "user"
	ctxRequestID = "request_id"
)

// maxBodyBytes is the largest request body accepted anywhere.
const maxBodyBytes = 1 << 20

const contentSecurityPolicy = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// apiContentSecurityPolicy is the policy of the answers that are not pages (the
// /v1 API and the probes): they load nothing and may not be framed.
const apiContentSecurityPolicy = "default-src 'none'; frame-ancestors 'none'"

func (s *Server) recoverPanics(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("panic", "request_id", c.Get(ctxRequestID), "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		return next(c)
	}
}

func newRequestID() string {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// requestLog writes one line per request. It logs the path only: never the
// query, headers, cookies or form fields.
func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		id := newRequestID()
		c.Set(ctxRequestID, id)
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		req := c.Request()
		took := time.Since(start)
		s.metrics.observeRequest(c, c.Response().Status, took)
		attrs := []any{
			"request_id", id,
			"method", req.Method,
			"path", req.URL.Path,
			"status", c.Response().Status,
			"duration_ms", float64(took.Microseconds()) / 1000,
			"ip", c.RealIP(),
		}
		if u := currentUser(c); u != nil {
			attrs = append(attrs, "user_id", u.ID)
		}
		level := slog.LevelInfo
		if c.Response().Status >= 500 {
			level = slog.LevelError
		}
		s.log.Log(req.Context(), level, "request", attrs...)
		return nil
	}
}

// securityHeaders sets the headers every answer carries. Pages also get the
// policies only a rendered document uses (referrer, opener, permissions);
// answers of the /v1 API and the probes get a policy that loads nothing.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		if servesPages(c.Request().URL.Path) {
			h.Set("Content-Security-Policy", contentSecurityPolicy)
			h.Set("Referrer-Policy", "same-origin")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
		} else {
			h.Set("Content-Security-Policy", apiContentSecurityPolicy)
		}
		if s.secure {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if !isStaticPath(c.Request().URL.Path) {
			h.Set("Cache-Control", "no-store")
		}
		return next(c)
	}
}

// bodyLimit is built once: echo applies its middleware to the handler on
// every request, and building this one parses the limit with a regexp.
var bodyLimit = middleware.BodyLimitWithConfig(middleware.BodyLimitConfig{Limit: strconv.Itoa(maxBodyBytes)})

// gzipLimit is the smallest /v1 answer compressed for a client that accepts gzip.
const gzipLimit = 1024

// gzipAnswer compresses answers of gzipLimit bytes or more.
var gzipAnswer = middleware.GzipWithConfig(middleware.GzipConfig{MinLength: gzipLimit})

// compressible reports whether the answers to path may be compressed: the
// /v1 API, whose JSON holds no secret, and the static files, served
// pre-compressed. Pages never are. A page may show a secret (a key's one-time
// reveal, a revealed courier secret, recovery codes, a webhook signing secret)
// next to text an attacker can make the browser send, such as a query value
// or a form field sent back; compressed, the answer's length would then tell
// the attacker, one guess at a time, how much of that text matches the
// secret (the BREACH attack).
func compressible(path string) bool {
	return isAPIPath(path) || isStaticPath(path)
}

// gzipAPI compresses the /v1 answers of gzipLimit bytes or more for clients
// whose Accept-Encoding allows gzip; every /v1 answer but HEAD's says it
// varies with that header. Static files carry their own encodings
// (staticFiles), and whatever compressible refuses, every page among them,
// is left alone.
func gzipAPI(next echo.HandlerFunc) echo.HandlerFunc {
	compressed := gzipAnswer(next)
	return func(c echo.Context) error {
		req := c.Request()
		if !compressible(req.URL.Path) || isStaticPath(req.URL.Path) || req.Method == http.MethodHead {
			return next(c)
		}
		if !acceptsGzip(req.Header.Get(echo.HeaderAcceptEncoding)) {
			c.Response().Header().Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
			return next(c)
		}
		return compressed(c)
	}
}

// acceptsGzip reports whether an Accept-Encoding value allows gzip.
func acceptsGzip(header string) bool { return codingQ(header, "gzip") > 0 }

// codingQ is the q-value an Accept-Encoding value gives a content coding:
// its own when named, else that of *, else 0.
func codingQ(header, coding string) float64 {
	namedQ, starQ := -1.0, -1.0
	for item := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(item, ";")
		q := 1.0
		for param := range strings.SplitSeq(params, ";") {
			key, value, ok := strings.Cut(param, "=")
			if ok && strings.EqualFold(strings.TrimSpace(key), "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					q = f
				}
			}
		}
		switch name = strings.TrimSpace(name); {
		case strings.EqualFold(name, coding):
			namedQ = q
		case name == "*":
			starQ = q
		}
	}
	if namedQ >= 0 {
		return namedQ
	}
	return max(starQ, 0)
}

// loadSession puts the signed-in user, if any, into the context and renews
// the session cookie's last use. A user of a disabled merchant counts as
// signed out, and the next request that may write ends their session.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isSessionless(c.Request().URL.Path) {
			return next(c)
		}
		sess, err := s.sessions.Get(c.Request(), s.cookieName)
		if err != nil {
			return err
		}
		if !sess.IsNew {
			c.Set(ctxSessionID, sess.ID)
		}
		if id, ok := sess.Values[store.SessionUserKey].(int64); ok && id != 0 {
			u, err := s.db.UserByID(c.Request().Context(), id)
			switch {
			case err == nil && u.MerchantDisabled:
				delete(sess.Values, store.SessionUserKey)
				if store.MethodWrites(c.Request().Method) {
					if err := s.sessions.Delete(c.Request().Context(), sess.ID); err != nil {
						return err
					}
				}
			case err == nil:
				c.Set(ctxUser, &u)
				if err := s.sessions.Refresh(c.Response(), sess); err != nil {
					return err
				}
			case err != keyport.ErrNotFound:
				return err
			}
		}
		return next(c)
	}
}

func currentUser(c echo.Context) *keyport.User {
	u, _ := c.Get(ctxUser).(*keyport.User)
	return u
}

func isHTMX(c echo.Context) bool {
	h := c.Request().Header
	return h.Get("HX-Request") == "true" && h.Get("HX-Boosted") != "true" && h.Get("HX-History-Restore-Request") != "true"
}

// redirect sends the browser elsewhere after a form: 303 for plain requests,
// HX-Redirect for htmx ones.
func redirect(c echo.Context, to string) error {
	if isHTMX(c) {
		c.Response().Header().Set("HX-Redirect", to)
		return c.NoContent(http.StatusNoContent)
	}
	return c.Redirect(http.StatusSeeOther, to)
}

func (s *Server) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c) == nil {
			to, err := s.signedOutTo(c)
			if err != nil {
				return err
			}
			if to == "/login" {
				to = loginTo(askedFor(c))
			}
			return redirect(c, to)
		}
		return next(c)
	}
}

// askedFor is the page a signed-out browser asked for, to return to once
// signed in: the address of a GET, or for a request htmx sent, the page it
// was sent from; "" for anything else.
func askedFor(c echo.Context) string {
	req := c.Request()
	if req.Header.Get("HX-Request") == "" {
		if req.Method != http.MethodGet {
			return ""
		}
		return req.URL.RequestURI()
	}
	from, err := url.Parse(req.Header.Get("HX-Current-URL"))
	if err != nil || from.Host != req.Host {
		return ""
	}
	return from.RequestURI()
}

// signedOutTo is where a request without a signed-in user goes: the login
// page, which also says why when the browser's session ended because the
// platform disabled the merchant of a user who signed in from it.
func (s *Server) signedOutTo(c echo.Context) (string, error) {
	if _, err := c.Cookie(s.cookieName); err != nil {
		return "/login", nil
	}
	device, err := c.Cookie(s.deviceCookie)
	if err != nil || !validDeviceID(device.Value) {
		return "/login", nil
	}
	disabled, err := s.db.DisabledMerchantBrowser(c.Request().Context(), device.Value)
	if err != nil || !disabled {
		return "/login", err
	}
	return "/login?signed_out=disabled", nil
}

func (s *Server) requireMerchant(next echo.HandlerFunc) echo.HandlerFunc {
	return s.requireUser(func(c echo.Context) error {
		if !currentUser(c).Role.IsMerchantRole() {
			return keyport.ErrForbidden
		}
		return next(c)
	})
}

func (s *Server) requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return s.requireUser(func(c echo.Context) error {
		if !currentUser(c).IsAdmin() {
			return keyport.ErrForbidden
		}
		return next(c)
	})
}

// requireAuditReader lets only Owners, Reviewers and Admins open the audit log.
func (s *Server) requireAuditReader(next echo.HandlerFunc) echo.HandlerFunc {
	return s.requireUser(func(c echo.Context) error {
		if !currentUser(c).Role.CanReadAudit() {
			return keyport.ErrForbidden
		}
		return next(c)
	})
}

// loadAccount puts the API account named by the :id path parameter into the
// context, when it belongs to the signed-in user's merchant; otherwise 404.
func (s *Server) loadAccount(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id, err := pathID(c, "id")
		if err != nil {
			return err
		}
		if err := s.setAccount(c, id); err != nil {
			return err
		}
		return next(c)
	}
}

// requireKeyManager lets only Owners and Developers change keys and requests.
func (s *Server) requireKeyManager(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !currentUser(c).Role.CanManageKeys() {
			return keyport.ErrForbidden
		}
		return next(c)
	}
}

// requireOwner lets only the merchant's Owners manage the team.
func (s *Server) requireOwner(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if currentUser(c).Role != keyport.RoleOwner {
			return keyport.ErrForbidden
		}
		return next(c)
	}
}
