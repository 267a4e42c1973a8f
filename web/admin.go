package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport/views"
)

// merchantsPage serves GET /admin/merchants.
func (s *Server) merchantsPage(c echo.Context) error {
	list, err := s.db.ListMerchants(c.Request().Context())
	if err != nil {
		return err
	}
	v := views.MerchantsView{Merchants: list, Now: s.Now(), CSRF: csrfToken(c)}
	return render(c, http.StatusOK, views.MerchantsPage(s.page(c, "Merchants", "/admin/merchants"), v))
}

func (s *Server) setMerchantDisabled(c echo.Context, disabled bool) error {
	id, err := pathID(c, "mid")
	if err != nil {
		return err
	}
	m, err := s.db.SetMerchantDisabled(c.Request().Context(), actor(c), id, disabled)
	if err != nil {
		return err
	}
	if disabled {
		s.flash(c, "success", fmt.Sprintf("Disabled “%s”: its keys no longer work, its users were signed out and cannot log in.", m.Name))
	} else {
		s.flash(c, "success", fmt.Sprintf("Enabled “%s”: its users can log in and its keys work again.", m.Name))
	}
	return redirect(c, "/admin/merchants")
}

// disableMerchant serves POST /admin/merchants/:mid/disable.
func (s *Server) disableMerchant(c echo.Context) error { return s.setMerchantDisabled(c, true) }

// enableMerchant serves POST /admin/merchants/:mid/enable.
func (s *Server) enableMerchant(c echo.Context) error { return s.setMerchantDisabled(c, false) }
