package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// statusOf maps an error to its HTTP status and the message a person sees.
func statusOf(err error) (int, string) {
	var he *echo.HTTPError
	var ve *keyport.ValidationError
	var ce *keyport.CapError
	switch {
	case errors.Is(err, keyport.ErrNotFound):
		return http.StatusNotFound, "We could not find that page, or you do not have access to it."
	case errors.Is(err, keyport.ErrMerchantDisabled):
		return http.StatusForbidden, err.Error()
	case errors.Is(err, keyport.ErrForbidden):
		return http.StatusForbidden, "You do not have permission to do that."
	case errors.Is(err, keyport.ErrConflict):
		return http.StatusConflict, "That change conflicts with the current state. Reload the page and try again."
	case errors.As(err, &ce):
		return http.StatusUnprocessableEntity, ce.Error()
	case errors.Is(err, keyport.ErrAccountDisabled):
		return http.StatusConflict, err.Error()
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
	status, message := statusOf(err)
	if status >= 500 {
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
