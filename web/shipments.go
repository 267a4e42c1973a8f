package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// shipmentFilterNames are the Shipments page's filter parameters, as the form names them.
var shipmentFilterNames = []string{"tracking", "status", "from", "to"}

// maxTrackingFilterLength is the longest tracking number the filter takes.
const maxTrackingFilterLength = 40

// parseShipmentFilter reads the Shipments page's query parameters besides the
// mode: tracking (the start of a tracking number, in any case), status, from
// and to (YYYY-MM-DD), and the cursor (before or after). Bad values come back
// as a ValidationError keyed by the parameter, alongside the filter of the
// values that were good; a bad cursor is ignored, leading to the first page.
func parseShipmentFilter(q url.Values) (store.ShipmentFilter, error) {
	var f store.ShipmentFilter
	var v keyport.ValidationError
	tracking := strings.TrimSpace(q.Get("tracking"))
	switch {
	case strings.IndexFunc(tracking, notTrackingChar) >= 0:
		v.Add("tracking", "A tracking number has only letters, digits and hyphens.")
	case len(tracking) > maxTrackingFilterLength:
		v.Add("tracking", "Tracking number must be at most "+strconv.Itoa(maxTrackingFilterLength)+" characters.")
	default:
		f.Tracking = strings.ToUpper(tracking)
	}
	if status := strings.TrimSpace(q.Get("status")); status != "" {
		if slices.Contains(keyport.ShipmentStatuses, status) {
			f.Status = status
		} else {
			v.Add("status", "Choose a status from the list.")
		}
	}
	f.From, f.To = parseDayRange(q, &v)
	f.Page = views.DefaultPageParams.Parse(q)
	return f, v.OrNil()
}

func notTrackingChar(r rune) bool {
	return !(r == '-' || (r >= '0' && r <= '9') || (r >= 'A' && r <= 'Z') || (r >= 'a' && r <= 'z'))
}

// shipmentsView reads the Shipments page's mode and filter: no mode means
// test, and an unknown mode is not found. A bad filter value comes back as a
// message next to its field, with the values as they were typed.
func (s *Server) shipmentsView(c echo.Context) (views.ShipmentsView, error) {
	q := c.QueryParams()
	mode := keyport.ModeTest
	if m := q.Get("mode"); m != "" {
		var err error
		if mode, err = modeParam(m); err != nil {
			return views.ShipmentsView{}, err
		}
	}
	f, err := parseShipmentFilter(q)
	f.Mode = mode
	v := views.ShipmentsView{Account: *currentAccount(c), Page: store.ShipmentPage{Filter: f}, Now: s.Now(),
		Form: views.Form{Values: map[string]string{}, Errors: fieldErrors(err)}}
	values := views.ShipmentsQuery(f)
	if v.Invalid() {
		values = q
	}
	for _, name := range shipmentFilterNames {
		v.Form.Values[name] = strings.TrimSpace(values.Get(name))
	}
	return v, nil
}

// shipmentsPage serves GET /accounts/:id/shipments: one page of the
// account's shipments of a mode that the filter selects, newest first. htmx
// requests get the filter form and the shipments without the layout, and the
// address bar gets the filter. A bad filter is answered 422 with its messages
// next to the fields and no shipments.
func (s *Server) shipmentsPage(c echo.Context) error {
	v, err := s.shipmentsView(c)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if v.Invalid() {
		status = http.StatusUnprocessableEntity
	} else if v.Page, err = s.db.ListShipments(c.Request().Context(), v.Account.ID, v.Page.Filter, views.ShipmentsPerPage); err != nil {
		return err
	}
	if isHTMX(c) {
		if !v.Invalid() {
			c.Response().Header().Set("HX-Push-Url", v.CurrentURL())
		}
		return render(c, status, views.ShipmentsResults(v))
	}
	return render(c, status, views.ShipmentsPage(s.page(c, v.Account.Name+" · Shipments", "/accounts"), v))
}

// shipmentCSVHeader is the header row of the shipments export.
var shipmentCSVHeader = []string{"id", "created_at", "mode", "status", "courier", "service_code", "tracking_number",
	"from_postcode", "from_country", "to_postcode", "to_country", "weight_grams", "amount", "currency"}

// shipmentsExport serves GET /accounts/:id/shipments/export.csv: every
// shipment the page's mode and filter select, whatever its cursor, as CSV,
// newest first. A bad filter is answered 422 with an error page, as the
// audit log's export does.
func (s *Server) shipmentsExport(c echo.Context) error {
	v, err := s.shipmentsView(c)
	if err != nil {
		return err
	}
	if v.Invalid() {
		return &keyport.ValidationError{Fields: v.Form.Errors}
	}
	account := fileNamePart(v.Account.Name)
	if account == "" {
		account = "account-" + strconv.FormatInt(v.Account.ID, 10)
	}
	f := v.Page.Filter
	filename := "keyport-shipments-" + account + "-" + string(f.Mode) + "-" + s.Now().UTC().Format("2006-01-02") + ".csv"
	return s.streamCSV(c, filename, shipmentCSVHeader, func(write func([]string) error) error {
		return s.db.ExportShipments(c.Request().Context(), v.Account.ID, f, func(sh keyport.Shipment) error {
			return write([]string{strconv.FormatInt(sh.ID, 10), sh.CreatedAt.UTC().Format(time.RFC3339), string(sh.Mode), sh.Status,
				sh.Courier, sh.ServiceCode, sh.TrackingNumber, sh.FromPostcode, sh.FromCountry, sh.ToPostcode, sh.ToCountry,
				strconv.Itoa(sh.WeightGrams), views.Decimal(sh.AmountMinor), sh.Currency})
		})
	})
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
