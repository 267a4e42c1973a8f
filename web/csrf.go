package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport/store"
)

// csrfTokenField is the form field that carries the CSRF token.
const csrfTokenField = "_csrf"

const (
	ctxCSRF      = "csrf"
	ctxSessionID = "session_id"
)

// errCSRF is the answer to a state change without a valid token.
var errCSRF = echo.NewHTTPError(http.StatusForbidden, "This form has expired or came from another site. Reload the page and try again.")

// csrfNotInQuery refuses a state change whose CSRF token comes in the
// address: an address ends up in logs, history and Referer headers. The token
// travels in the body or header.
func csrfNotInQuery(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if store.MethodWrites(req.Method) && !isSessionless(req.URL.Path) && req.URL.Query().Has(csrfTokenField) {
			return echo.NewHTTPError(http.StatusForbidden, "This form's token was sent in the address. Reload the page and submit the form again.")
		}
		return next(c)
	}
}

// deriveKey derives a key for one purpose (CSRF tokens, WebAuthn user
// handles) from the session key, so that no two uses share a key.
func deriveKey(sessionKey []byte, purpose string) []byte {
	m := hmac.New(sha256.New, sessionKey)
	m.Write([]byte(purpose))
	return m.Sum(nil)
}

// csrfTokenFor returns the token bound to one session or visitor: an HMAC of
// its id under the server's key. Knowing a token for one binding says nothing
// about another's.
func (s *Server) csrfTokenFor(binding string) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(binding))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrf gives every page its token and refuses a state change without it. A
// signed-in user's token is bound to their session, whose id only the
// server-side session row and the signed session cookie know, so a cookie
// tossed in from a sibling host cannot make a forged form valid. A signed-out
// visitor's token is bound to a random cookie of its own. A browser that says
// (Sec-Fetch-Site) the request comes from another origin, even a sibling host
// or port of the same site, is refused whatever its token. Runs after
// loadSession.
func (s *Server) csrf(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if isSessionless(req.URL.Path) {
			return next(c)
		}
		binding, err := s.csrfBinding(c)
		if err != nil {
			return err
		}
		want := s.csrfTokenFor(binding)
		c.Set(ctxCSRF, want)
		if !store.MethodWrites(req.Method) {
			return next(c)
		}
		if site := req.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
			return errCSRF
		}
		got := req.Header.Get(echo.HeaderXCSRFToken)
		if got == "" {
			got = c.FormValue(csrfTokenField)
		}
		if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			return errCSRF
		}
		return next(c)
	}
}

// csrfBinding names what this request's token is bound to: the session of a
// signed-in user, or else the visitor cookie, set here when missing.
func (s *Server) csrfBinding(c echo.Context) (string, error) {
	if id, ok := c.Get(ctxSessionID).(string); ok && id != "" {
		return "session:" + id, nil
	}
	if ck, err := c.Cookie(s.csrfCookie); err == nil && len(ck.Value) == 43 {
		return "visitor:" + ck.Value, nil
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	value := base64.RawURLEncoding.EncodeToString(b[:])
	c.SetCookie(&http.Cookie{Name: s.csrfCookie, Value: value, Path: "/", HttpOnly: true, Secure: s.secure, SameSite: http.SameSiteStrictMode})
	return "visitor:" + value, nil
}

func csrfToken(c echo.Context) string {
	t, _ := c.Get(ctxCSRF).(string)
	return t
}
