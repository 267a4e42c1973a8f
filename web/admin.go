package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport/views"
)

func (s *Server) merchantsPage(c echo.Context) error {
	list, err := s.db.ListMerchants(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.MerchantsPage(s.page(c, "Merchants", "/admin/merchants"), list, s.Now()))
}
