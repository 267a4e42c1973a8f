package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// secretsFilter reads the API secrets page's filter; unknown values select everything.
func secretsFilter(c echo.Context) keyport.SecretsFilter {
	f := keyport.SecretsFilter{Page: pageParam(c, "page")}
	if id, err := strconv.ParseInt(c.QueryParam("account"), 10, 64); err == nil && id > 0 {
		f.AccountID = id
	}
	if m, err := modeParam(c.QueryParam("mode")); err == nil {
		f.Mode = m
	}
	if t := keyport.KeyType(c.QueryParam("type")); t.Valid() {
		f.Type = t
	}
	switch st := keyport.KeyStatus(c.QueryParam("status")); st {
	case keyport.KeyActive, keyport.KeyExpired, keyport.KeyRevoked:
		f.Status = st
	}
	return f
}

func (s *Server) secretsPage(c echo.Context) error {
	u := currentUser(c)
	ctx := c.Request().Context()
	page, err := s.db.MerchantSecrets(ctx, u.MerchantID, secretsFilter(c))
	if err != nil {
		return err
	}
	accounts, err := s.db.ListAccounts(ctx, u.MerchantID)
	if err != nil {
		return err
	}
	v := views.SecretsView{Page: page, Accounts: accounts, Now: s.Now(), CSRF: csrfToken(c), CanManage: u.Role.CanManageKeys()}
	return render(c, http.StatusOK, views.SecretsPage(s.page(c, "API secrets", "/secrets"), v))
}

// secretPermissions is the eye panel of one key.
func (s *Server) secretPermissions(c echo.Context) error {
	id, err := pathID(c, "kid")
	if err != nil {
		return err
	}
	k, err := s.db.MerchantKey(c.Request().Context(), currentUser(c).MerchantID, id)
	if err != nil {
		return err
	}
	body := views.PermissionsBody(views.PermissionsView{Frame: frame(c, "/secrets"), Key: k, Grants: keyport.PermissionCatalog.Grants(k), Now: s.Now()})
	return s.dialog(c, http.StatusOK, "What “"+k.Name+"” may do", "/secrets", "", false, body)
}

// secretsBack is the API secrets page the form came from, with its filter;
// anything that is not that page leads to the page without a filter.
func secretsBack(back string) string {
	u, err := url.Parse(back)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Path != "/secrets" || u.RawQuery == "" {
		return "/secrets"
	}
	return "/secrets?" + u.Query().Encode()
}

func (s *Server) revokeSecret(c echo.Context) error {
	u := currentUser(c)
	id, err := pathID(c, "kid")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	k, err := s.db.MerchantKey(ctx, u.MerchantID, id)
	if err != nil {
		return err
	}
	if _, err := s.db.RevokeKey(ctx, actor(c), u.MerchantID, k.AccountID, k.ID, ""); err != nil {
		return err
	}
	s.flash(c, "success", fmt.Sprintf("Revoked “%s”. Anything using it can no longer call the API.", k.Name))
	return redirect(c, secretsBack(c.FormValue("back")))
}
