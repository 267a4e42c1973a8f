package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// secretsFilter reads the API secrets page's filter and search; unknown
// filter values select everything. A refused search comes back as its
// message, beside the filter of the other values.
func secretsFilter(c echo.Context) (store.SecretsFilter, string) {
	f := store.SecretsFilter{Page: views.DefaultPageParams.Parse(c.QueryParams()), PerPage: views.SecretsPerPage}
	if id, err := strconv.ParseInt(c.FormValue("account"), 10, 64); err == nil && id > 0 {
		f.AccountID = id
	}
	if m, err := modeParam(c.FormValue("mode")); err == nil {
		f.Mode = m
	}
	if t := keyport.KeyType(c.FormValue("type")); t.Valid() {
		f.Type = t
	}
	switch st := keyport.KeyStatus(c.FormValue("status")); st {
	case keyport.KeyActive, keyport.KeyExpired, keyport.KeyRevoked:
		f.Status = st
	}
	search, err := keyport.ParseKeySearch(c.FormValue("q"))
	if err != nil {
		return f, fieldErrors(err)["q"]
	}
	f.Search = search
	return f, ""
}

// renderSecrets answers the API secrets page of a merchant, or its support
// view, with the keys its filter and search select: the whole page, or for
// htmx the filter and the keys alone, with the filter's address pushed. A
// refused search is answered 422 with its message and no key. Without
// JavaScript the form posts: the answer moves to its address, unless the
// search is a whole key, answered at once so that it never enters one.
func (s *Server) renderSecrets(c echo.Context, merchantID int64, title, nav string, v views.SecretsView) error {
	ctx := c.Request().Context()
	f, msg := secretsFilter(c)
	v.Page.Filter = f
	status := http.StatusOK
	if msg != "" {
		status = http.StatusUnprocessableEntity
		v.SearchError, v.SearchTerm = msg, strings.TrimSpace(c.FormValue("q"))
	} else if postedToAddress(c, f.Search) {
		return redirect(c, v.PageURL(f.Page))
	} else {
		page, err := s.db.MerchantSecrets(ctx, merchantID, f)
		if err != nil {
			return err
		}
		v.Page, v.SearchTerm = page, f.Search.Shown()
	}
	accounts, err := s.db.ListAccounts(ctx, merchantID)
	if err != nil {
		return err
	}
	v.Accounts, v.Now, v.CSRF = accounts, s.Now(), csrfToken(c)
	if isHTMX(c) {
		push := "false"
		if msg == "" {
			push = v.PageURL(f.Page)
		}
		c.Response().Header().Set("HX-Push-Url", push)
		return render(c, status, views.SecretsResults(v))
	}
	return render(c, status, views.SecretsPage(s.page(c, title, nav), v))
}

// secretsPage serves GET /secrets, and POST /secrets for the search form
// without JavaScript.
func (s *Server) secretsPage(c echo.Context) error {
	u := currentUser(c)
	v := views.SecretsView{CanManage: u.Role.CanManageKeys(), Base: "/secrets"}
	return s.renderSecrets(c, u.MerchantID, "API secrets", "/secrets", v)
}

// supportMerchant reads the :mid path parameter of the admins' support view and the merchant's name.
func (s *Server) supportMerchant(c echo.Context) (int64, string, error) {
	id, err := pathID(c, "mid")
	if err != nil {
		return 0, "", err
	}
	name, err := s.db.MerchantName(c.Request().Context(), id)
	return id, name, err
}

// supportSecrets is the admins' read-only view of one merchant's API secrets.
// Routes: GET /admin/merchants/:mid/secrets, and POST /admin/merchants/:mid/secrets
// for the search form without JavaScript.
func (s *Server) supportSecrets(c echo.Context) error {
	merchantID, name, err := s.supportMerchant(c)
	if err != nil {
		return err
	}
	v := views.SecretsView{Base: views.SupportSecretsURL(merchantID), Support: true, MerchantName: name}
	return s.renderSecrets(c, merchantID, "API secrets of "+name, "/admin/merchants", v)
}

func (s *Server) supportKey(c echo.Context) (int64, keyport.APIKey, error) {
	merchantID, err := pathID(c, "mid")
	if err != nil {
		return 0, keyport.APIKey{}, err
	}
	id, err := pathID(c, "kid")
	if err != nil {
		return 0, keyport.APIKey{}, err
	}
	k, err := s.db.MerchantKey(c.Request().Context(), merchantID, id)
	return merchantID, k, err
}

// supportPermissions is the eye panel of a merchant's key for admins.
// Route: GET /admin/merchants/:mid/secrets/:kid.
func (s *Server) supportPermissions(c echo.Context) error {
	merchantID, k, err := s.supportKey(c)
	if err != nil {
		return err
	}
	back := views.SupportSecretsURL(merchantID)
	body := views.PermissionsBody(views.PermissionsView{Frame: frame(c, back), Key: k, Grants: keyport.PermissionCatalog.Grants(k), Now: s.Now()})
	return s.dialog(c, http.StatusOK, "What “"+k.Name+"” may do", "/admin/merchants", "", false, body)
}

func (s *Server) supportRevokeDialog(c echo.Context, status int, merchantID int64, k keyport.APIKey, f views.Form) error {
	back := views.SupportSecretsURL(merchantID)
	body := views.SupportRevokeBody(views.SupportRevokeForm{Frame: frame(c, back), Action: fmt.Sprintf("%s/%d/revoke", back, k.ID),
		CSRF: csrfToken(c), Key: k, Form: f})
	return s.dialog(c, status, "Revoke “"+k.Name+"”", "/admin/merchants", "", false, body)
}

// supportRevokeForm serves GET /admin/merchants/:mid/secrets/:kid/revoke.
func (s *Server) supportRevokeForm(c echo.Context) error {
	merchantID, k, err := s.supportKey(c)
	if err != nil {
		return err
	}
	return s.supportRevokeDialog(c, http.StatusOK, merchantID, k, views.Form{})
}

// supportRevoke revokes a merchant's key for the API team, with a required reason the merchant sees.
// Route: POST /admin/merchants/:mid/secrets/:kid/revoke.
func (s *Server) supportRevoke(c echo.Context) error {
	merchantID, k, err := s.supportKey(c)
	if err != nil {
		return err
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if msg := keyport.CheckText(reason, "Reason", 1, 500); msg != "" {
		return s.supportRevokeDialog(c, http.StatusUnprocessableEntity, merchantID, k,
			views.Form{Values: map[string]string{"reason": reason}, Errors: map[string]string{"reason": msg}})
	}
	if _, err := s.db.RevokeKey(c.Request().Context(), actor(c), merchantID, k.AccountID, k.ID, reason); err != nil {
		return err
	}
	s.flash(c, "success", fmt.Sprintf("Revoked “%s”. The merchant sees your reason on the key.", k.Name))
	return redirect(c, views.SupportSecretsURL(merchantID))
}

// ownKey loads the key named by the :kid path parameter among the signed-in
// user's merchant's keys; another merchant's key is a 404.
func (s *Server) ownKey(c echo.Context) (keyport.APIKey, error) {
	id, err := pathID(c, "kid")
	if err != nil {
		return keyport.APIKey{}, err
	}
	return s.db.MerchantKey(c.Request().Context(), currentUser(c).MerchantID, id)
}

// secretPermissions is the eye panel of one key.
// Route: GET /secrets/:kid.
func (s *Server) secretPermissions(c echo.Context) error {
	k, err := s.ownKey(c)
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

// revokeSecret serves POST /secrets/:kid/revoke.
func (s *Server) revokeSecret(c echo.Context) error {
	k, err := s.ownKey(c)
	if err != nil {
		return err
	}
	if _, err := s.db.RevokeKey(c.Request().Context(), actor(c), k.MerchantID, k.AccountID, k.ID, ""); err != nil {
		return err
	}
	s.flash(c, "success", fmt.Sprintf("Revoked “%s”. Anything using it can no longer call the API.", k.Name))
	return redirect(c, secretsBack(c.FormValue("back")))
}

// revokeSecretForm serves GET /secrets/:kid/revoke: the confirmation, which
// carries the page of the list it was asked from.
func (s *Server) revokeSecretForm(c echo.Context) error {
	k, err := s.ownKey(c)
	if err != nil {
		return err
	}
	back := secretsBack(c.QueryParam("back"))
	return s.confirm(c, "/secrets", back, views.Confirmation{
		Question: "Revoke “" + k.Name + "”?",
		Detail:   "Anything using it stops working immediately. This cannot be undone.",
		Action:   fmt.Sprintf("/secrets/%d/revoke", k.ID),
		Fields:   []views.Hidden{{Name: "back", Value: back}},
		Button:   "Revoke “" + k.Name + "”",
	})
}

// newSecretForm opens the key form for the account chosen on the API secrets page.
// Route: GET /secrets/new.
func (s *Server) newSecretForm(c echo.Context) error {
	id, err := strconv.ParseInt(c.QueryParam("account"), 10, 64)
	if err != nil || id <= 0 {
		return keyport.ErrNotFound
	}
	if err := s.setAccount(c, id); err != nil {
		return err
	}
	return s.keyFormDialog(c, http.StatusOK, views.Form{Values: map[string]string{"expiry": "never"}})
}
