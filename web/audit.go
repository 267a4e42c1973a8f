package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// auditFilterNames are the audit log's filter parameters, as the form names them.
var auditFilterNames = []string{"merchant", "account", "actor", "action", "from", "to"}

// auditView reads the audit log's filter and loads the filter's choices. A
// merchant's user may only pick one of the merchant's API accounts; an admin
// picks a merchant first, and an account of another merchant is dropped.
func (s *Server) auditView(c echo.Context) (views.AuditView, keyport.AuditScope, error) {
	u := currentUser(c)
	ctx := c.Request().Context()
	scope := keyport.AuditScopeOf(u)
	f, ferr := parseAuditFilter(c.QueryParams())
	errs := fieldErrors(ferr)
	if errs == nil {
		errs = map[string]string{}
	}
	v := views.AuditView{Admin: scope.All}
	var err error
	if v.Actions, err = s.db.AuditActions(ctx, scope); err != nil {
		return v, scope, err
	}
	accountsOf := u.MerchantID
	if scope.All {
		if v.Merchants, err = s.db.ListMerchants(ctx); err != nil {
			return v, scope, err
		}
		if f.MerchantID != 0 && !slices.ContainsFunc(v.Merchants, func(m keyport.MerchantSummary) bool { return m.ID == f.MerchantID }) {
			errs["merchant"] = "Choose a merchant from the list."
			f.MerchantID = 0
		}
		accountsOf = f.MerchantID
	}
	if accountsOf != 0 {
		if v.Accounts, err = s.db.AuditAccounts(ctx, accountsOf); err != nil {
			return v, scope, err
		}
	}
	if f.AccountID != 0 && !slices.ContainsFunc(v.Accounts, func(a keyport.AuditAccount) bool { return a.ID == f.AccountID }) {
		if scope.All {
			f.AccountID = 0
		} else {
			errs["account"] = "Choose an API account from the list."
		}
	}
	v.Page.Filter = f
	values := views.AuditQuery(f)
	if len(errs) > 0 {
		values = c.QueryParams()
	}
	v.Form = views.Form{Values: map[string]string{}, Errors: errs}
	for _, name := range auditFilterNames {
		v.Form.Values[name] = strings.TrimSpace(values.Get(name))
	}
	return v, scope, nil
}

// auditPage lists one page of the audit log; htmx requests get the filter
// form and the events without the layout, and the address bar gets the
// filter without its empty fields. A bad filter is answered 422 with
// its messages next to the fields and no events.
// Route: GET /audit.
func (s *Server) auditPage(c echo.Context) error {
	v, scope, err := s.auditView(c)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if v.Invalid() {
		status = http.StatusUnprocessableEntity
	} else if v.Page, err = s.db.AuditEvents(c.Request().Context(), scope, v.Page.Filter, views.AuditPerPage); err != nil {
		return err
	}
	if isHTMX(c) {
		if !v.Invalid() {
			c.Response().Header().Set("HX-Push-Url", v.CurrentURL())
		}
		return render(c, status, views.AuditResults(v))
	}
	return render(c, status, views.AuditPage(s.page(c, "Audit log", views.AuditURL), v))
}

// auditExport streams every event of the filtered view as CSV, newest first,
// each cell defused against spreadsheet formulas.
// Route: GET /audit/export.csv.
func (s *Server) auditExport(c echo.Context) error {
	v, scope, err := s.auditView(c)
	if err != nil {
		return err
	}
	if v.Invalid() {
		return &keyport.ValidationError{Fields: v.Form.Errors}
	}
	header := []string{"id", "time_utc", "actor", "ip", "action", "object_type", "object_id", "api_account", "detail"}
	if scope.All {
		header = slices.Insert(header, 2, "merchant")
	}
	filename := "keyport-audit-" + s.Now().UTC().Format("2006-01-02") + ".csv"
	return s.streamCSV(c, filename, header, func(write func([]string) error) error {
		return s.db.ExportAudit(c.Request().Context(), scope, v.Page.Filter, func(e keyport.AuditEvent) error {
			object := ""
			if e.ObjectID != 0 {
				object = strconv.FormatInt(e.ObjectID, 10)
			}
			record := []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format("2006-01-02T15:04:05Z"), e.Actor, e.IP, e.Action,
				e.ObjectType, object, e.AccountName, e.Detail}
			if scope.All {
				record = slices.Insert(record, 2, views.MerchantLabel(e))
			}
			return write(record)
		})
	})
}
