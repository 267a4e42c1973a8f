package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// statusOf maps an error to its HTTP status and the message a person sees.
func statusOf(err error) (int, string) {
	var he *echo.HTTPError
	var ve *keyport.ValidationError
	var ce *keyport.CapError
	var ke *keyport.Error
	var te *keyport.ThrottledError
	switch {
	case errors.As(err, &ke):
		return statusOfCode[ke.Code], ke.Message
	case errors.As(err, &ce):
		return http.StatusUnprocessableEntity, ce.Error()
	case errors.As(err, &te):
		return http.StatusTooManyRequests, te.Error()
	case errors.Is(err, keyport.ErrPasswordWorkBusy):
		return http.StatusServiceUnavailable, "Too many passwords are being checked right now. Wait a few seconds and try again."
	case errors.As(err, &ve):
		return http.StatusUnprocessableEntity, ve.Error()
	case errors.As(err, &he):
		msg, ok := he.Message.(string)
		if !ok || he.Code == http.StatusNotFound {
			msg = http.StatusText(he.Code)
		}
		switch he.Code {
		case http.StatusNotFound:
			msg = "We could not find that page, or you do not have access to it."
		case http.StatusRequestEntityTooLarge:
			msg = "The request is too large."
		}
		return he.Code, msg
	}
	return http.StatusInternalServerError, "Something went wrong on our side. The error has been logged; please try again."
}

// statusOfCode is the HTTP status of each domain error code.
var statusOfCode = map[keyport.ErrorCode]int{
	keyport.ENOTFOUND:  http.StatusNotFound,
	keyport.EFORBIDDEN: http.StatusForbidden,
	keyport.ECONFLICT:  http.StatusConflict,
}

var statusTitles = map[int]string{
	http.StatusForbidden:             "Access denied",
	http.StatusNotFound:              "Page not found",
	http.StatusInternalServerError:   "Something went wrong",
	http.StatusRequestEntityTooLarge: "Request too large",
}

// handleError is the one place where errors become HTTP responses.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	if isAPIRequest(c) {
		s.handleAPIError(err, c)
		return
	}
	status, message := statusOf(err)
	var te *keyport.ThrottledError
	if errors.As(err, &te) {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(te.Wait.Seconds())+1))
	}
	if errors.Is(err, keyport.ErrPasswordWorkBusy) {
		c.Response().Header().Set("Retry-After", "2")
		s.log.Warn("password work busy", "request_id", c.Get(ctxRequestID))
	} else if status >= 500 {
		s.log.Error("server error", "request_id", c.Get(ctxRequestID), "err", err)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	var rerr error
	switch {
	case isHTMX(c):
		rerr = notice(c, status, "error", message)
	default:
		title := statusTitles[status]
		if title == "" {
			title = http.StatusText(status)
		}
		rerr = render(c, status, views.ErrorDocument(s.page(c, title, ""), status, title, message))
	}
	if rerr != nil {
		s.log.Error("render error page", "err", rerr)
		_ = c.String(status, message)
	}
}

// apiProblem is how a /v1 error is answered.
type apiProblem struct {
	status      int
	detail      string
	code        string
	description string
	field       string
}

// apiProblemOf maps an error of a /v1 request to its status and JSON error.
func apiProblemOf(err error) apiProblem {
	var ve *keyport.ValidationError
	var missing *keyport.MissingAuthError
	var limited *rateLimitedError
	var he *echo.HTTPError
	var refusal *apiRefusal
	switch {
	case errors.As(err, &refusal):
		return refusal.problem
	case errors.Is(err, keyport.ErrInvalidKey):
		return errInvalidKey.problem
	case errors.As(err, &limited):
		return apiProblem{status: http.StatusTooManyRequests, code: "rate_limited", description: err.Error()}
	case errors.As(err, &ve):
		p := apiProblem{status: http.StatusBadRequest, code: "invalid_request"}
		for name, msg := range ve.Fields {
			if p.field == "" || name < p.field {
				p.field, p.description = name, name+" "+msg
			}
		}
		return p
	case errors.Is(err, keyport.ErrIdempotencyKeyReused):
		return apiProblem{status: http.StatusUnprocessableEntity, code: "idempotency_key_reused", field: "Idempotency-Key",
			description: "This Idempotency-Key was used in the last 24 hours for another request (method, path or body). Use a new key for a new request."}
	case errors.As(err, &missing):
		return apiProblem{status: http.StatusUnprocessableEntity, code: "missing_registered_auth", description: err.Error(), field: "courier"}
	case errors.Is(err, keyport.ErrNotFound):
		return apiProblem{status: http.StatusNotFound, code: "not_found", description: "No such object for this key's API account and mode."}
	case errors.As(err, &he) && he.Code == http.StatusNotFound:
		return apiProblem{status: http.StatusNotFound, code: "not_found", description: "No such endpoint. See /docs/api."}
	case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
		return apiProblem{status: http.StatusMethodNotAllowed, code: "method_not_allowed", description: "This endpoint does not accept that method. See /docs/api."}
	case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
		return apiProblem{status: http.StatusRequestEntityTooLarge, code: "request_too_large", description: "The request body is larger than 1 MiB."}
	case errors.As(err, &he) && he.Code < 500:
		msg, _ := he.Message.(string)
		return apiProblem{status: he.Code, code: "invalid_request", description: msg}
	}
	return apiProblem{status: http.StatusInternalServerError, code: "internal_error",
		description: "Something went wrong on our side. The error has been logged; please try again."}
}

// body renders the problem as JSON with a space after each colon and comma,
// so the authentication errors match DESIGN.md byte for byte.
func (p apiProblem) body() []byte {
	q := func(s string) string {
		b, _ := json.Marshal(s)
		return string(b)
	}
	if p.detail != "" {
		return []byte(`{"detail": ` + q(p.detail) + `}`)
	}
	out := `{"error": ` + q(p.code) + `, "error_description": ` + q(p.description)
	if p.field != "" {
		out += `, "field": ` + q(p.field)
	}
	return []byte(out + "}")
}

// handleAPIError answers an error of a /v1 request with its JSON body.
func (s *Server) handleAPIError(err error, c echo.Context) {
	p := apiProblemOf(err)
	if p.status >= 500 {
		s.log.Error("server error", "request_id", c.Get(ctxRequestID), "err", err)
	}
	h := c.Response().Header()
	var limited *rateLimitedError
	if errors.As(err, &limited) {
		h.Set("Retry-After", strconv.Itoa(limited.seconds()))
	}
	switch {
	case p == errInvalidKey.problem:
		h.Set("WWW-Authenticate", `Bearer realm="keyport", error="invalid_token"`)
	case p.status == http.StatusUnauthorized:
		h.Set("WWW-Authenticate", `Bearer realm="keyport"`)
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(p.status)
		return
	}
	_ = c.JSONBlob(p.status, p.body())
}
