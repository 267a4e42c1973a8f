package web

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport/static"
)

// healthz serves GET /healthz.
func (s *Server) healthz(c echo.Context) error {
	return c.String(http.StatusOK, "ok")
}

// readyz serves GET /readyz.
func (s *Server) readyz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Error("readiness check failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ready")
}

// staticFiles serves GET and HEAD /static/*: each file with a strong ETag,
// and, for a client whose Accept-Encoding allows it, in its smallest
// pre-compressed form, whose ETag is its own. A versioned URL (static.Path)
// may be cached for good; any other is revalidated with its ETag.
func (s *Server) staticFiles(c echo.Context) error {
	req := c.Request()
	asset, ok := static.Lookup(strings.TrimPrefix(req.URL.Path, "/static/"))
	if !ok {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	if c.QueryParam("v") != "" {
		h.Set(echo.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		h.Set(echo.HeaderCacheControl, "no-cache")
	}
	body, etag := asset.Body, asset.ETag
	if compressible(req.URL.Path) && len(asset.Encodings) > 0 {
		h.Add(echo.HeaderVary, echo.HeaderAcceptEncoding)
		if enc, ok := chooseEncoding(req.Header.Get(echo.HeaderAcceptEncoding), asset.Encodings); ok {
			body, etag = enc.Body, enc.ETag
			h.Set(echo.HeaderContentEncoding, enc.Coding)
		}
	}
	h.Set(echo.HeaderContentType, asset.ContentType)
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(body)))
	h.Set("ETag", etag)
	http.ServeContent(c.Response(), req, "", time.Time{}, bytes.NewReader(body))
	return nil
}

// chooseEncoding picks, of an asset's encodings, the one an Accept-Encoding
// value gives the highest q-value above 0; the first listed of equals.
func chooseEncoding(acceptEncoding string, encodings []static.Encoding) (static.Encoding, bool) {
	var best static.Encoding
	bestQ := 0.0
	for _, enc := range encodings {
		if q := codingQ(acceptEncoding, enc.Coding); q > bestQ {
			best, bestQ = enc, q
		}
	}
	return best, bestQ > 0
}

// robots serves GET /robots.txt: the portal is private, so no crawler indexes any of it.
func (s *Server) robots(c echo.Context) error {
	c.Response().Header().Set(echo.HeaderCacheControl, "public, max-age=86400")
	return c.String(http.StatusOK, "User-agent: *\nDisallow: /\n")
}

// favicon serves GET /favicon.ico.
func (s *Server) favicon(c echo.Context) error {
	return c.Redirect(http.StatusMovedPermanently, static.Path("favicon.svg"))
}
