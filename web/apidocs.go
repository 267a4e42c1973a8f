package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// apiDocs serves GET /docs/api.
func (s *Server) apiDocs(c echo.Context) error {
	d := views.APIDocs{BaseURL: s.baseURL, ExampleKey: "sk_test_YOUR_KEY", Endpoints: keyport.APIEndpoints}
	if u := currentUser(c); u != nil && u.Role.IsMerchantRole() {
		key, err := s.db.ExampleKey(c.Request().Context(), u.MerchantID)
		if err != nil && !errors.Is(err, keyport.ErrNotFound) {
			return err
		}
		if key != "" {
			d.ExampleKey, d.OwnKey = key, true
		}
	}
	return render(c, http.StatusOK, views.APIDocsPage(s.page(c, "API reference", "/docs/api"), d))
}
