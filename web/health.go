package web

import (
	"context"
	"io/fs"
	"net/http"
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

var staticServer = http.FileServerFS(static.FS)

// staticFiles serves GET /static/*.
func (s *Server) staticFiles(c echo.Context) error {
	name := strings.TrimPrefix(c.Request().URL.Path, "/static/")
	if name == "" || strings.HasSuffix(name, ".go") {
		return echo.ErrNotFound
	}
	if _, err := fs.Stat(static.FS, name); err != nil {
		return echo.ErrNotFound
	}
	if c.QueryParam("v") != "" {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		c.Response().Header().Set("Cache-Control", "no-cache")
	}
	req := c.Request().Clone(c.Request().Context())
	req.URL.Path = "/" + name
	staticServer.ServeHTTP(c.Response(), req)
	return nil
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
