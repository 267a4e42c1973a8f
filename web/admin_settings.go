package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport/views"
)

// maxTokenCap is the highest token cap an admin may set.
const maxTokenCap = 1000

// settingsPage serves GET /admin/settings.
func (s *Server) settingsPage(c echo.Context) error {
	n, err := s.db.TokenCap(c.Request().Context())
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{"token_cap": strconv.Itoa(n)}}
	return render(c, http.StatusOK, views.SettingsPage(s.page(c, "Platform settings", "/admin/settings"), f))
}

// saveSettings serves POST /admin/settings.
func (s *Server) saveSettings(c echo.Context) error {
	raw := strings.TrimSpace(c.FormValue("token_cap"))
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > maxTokenCap {
		f := views.Form{Values: map[string]string{"token_cap": raw},
			Errors: map[string]string{"token_cap": "Enter a whole number from 0 (no cap) to 1000."}}
		return render(c, http.StatusUnprocessableEntity, views.SettingsPage(s.page(c, "Platform settings", "/admin/settings"), f))
	}
	if err := s.db.SetTokenCap(c.Request().Context(), actor(c), n); err != nil {
		return err
	}
	s.flash(c, "success", "Settings saved.")
	return redirect(c, "/admin/settings")
}
