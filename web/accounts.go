package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport/views"
)

func (s *Server) accountsPage(c echo.Context) error {
	u := currentUser(c)
	accounts, err := s.db.ListAccounts(c.Request().Context(), u.MerchantID)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AccountsPage(s.page(c, "API Accounts", "/accounts"), accounts, s.Now()))
}
