package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// maxTokenCap is the highest token cap an admin may set.
const maxTokenCap = 1000

// settingsPage serves GET /admin/settings.
func (s *Server) settingsPage(c echo.Context) error {
	ctx := c.Request().Context()
	n, err := s.db.TokenCap(ctx)
	if err != nil {
		return err
	}
	policy, err := s.db.TwoFactorPolicy(ctx)
	if err != nil {
		return err
	}
	leak, err := s.db.LeakAction(ctx)
	if err != nil {
		return err
	}
	f := views.Form{Values: map[string]string{"token_cap": strconv.Itoa(n), "two_factor": string(policy), "leak_action": string(leak)}}
	return render(c, http.StatusOK, views.SettingsPage(s.page(c, "Platform settings", "/admin/settings"), f))
}

// saveSettings serves POST /admin/settings. A form without the two-factor
// or the leak report choice keeps the current one.
func (s *Server) saveSettings(c echo.Context) error {
	raw := strings.TrimSpace(c.FormValue("token_cap"))
	policy := keyport.TwoFactorPolicy(c.FormValue("two_factor"))
	leak := keyport.LeakAction(c.FormValue("leak_action"))
	f := views.Form{Values: map[string]string{"token_cap": raw, "two_factor": string(policy), "leak_action": string(leak)}, Errors: map[string]string{}}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 0 || n > maxTokenCap {
		f.Errors["token_cap"] = "Enter a whole number from 0 (no cap) to 1000."
	}
	if policy != "" && !policy.Valid() {
		f.Errors["two_factor"] = "Choose one of the listed requirements."
	}
	if leak != "" && !leak.Valid() {
		f.Errors["leak_action"] = "Choose one of the listed actions."
	}
	if len(f.Errors) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.SettingsPage(s.page(c, "Platform settings", "/admin/settings"), f))
	}
	if ok, err := s.sudo(c, keyport.SudoPlatformSettings); !ok {
		return err
	}
	if err := s.db.SavePlatformSettings(c.Request().Context(), actor(c), store.PlatformSettings{TokenCap: n, TwoFactor: policy, LeakAction: leak}); err != nil {
		return err
	}
	s.flash(c, "success", "Settings saved.")
	return redirect(c, "/admin/settings")
}
