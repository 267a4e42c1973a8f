package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// shipmentsPage serves GET /accounts/:id/shipments.
func (s *Server) shipmentsPage(c echo.Context) error {
	a := currentAccount(c)
	mode := keyport.ModeTest
	if q := c.QueryParam("mode"); q != "" {
		var err error
		if mode, err = modeParam(q); err != nil {
			return err
		}
	}
	sp, err := s.db.ListShipments(c.Request().Context(), a.ID, mode, views.DefaultPageParams.Parse(c.QueryParams()), views.ShipmentsPerPage)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ShipmentsPage(s.page(c, a.Name+" · Shipments", "/accounts"), *a, sp, s.Now()))
}

// shipmentDetail serves GET /accounts/:id/shipments/:sid.
func (s *Server) shipmentDetail(c echo.Context) error {
	a := currentAccount(c)
	id, err := pathID(c, "sid")
	if err != nil {
		return err
	}
	sh, err := s.db.ShipmentOf(c.Request().Context(), a.MerchantID, a.ID, id)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.ShipmentPage(s.page(c, "Shipment "+sh.TrackingNumber, "/accounts"), *a, sh, s.Now()))
}
