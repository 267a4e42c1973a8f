package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

const keysChanged = "keys-changed"

func (s *Server) keysView(c echo.Context, tab store.KeysTab) views.KeysView {
	return views.KeysView{Tab: tab, Now: s.Now(), CSRF: csrfToken(c), CanManage: currentUser(c).Role.CanManageKeys()}
}

func keySectionPages(q url.Values, mode keyport.Mode) store.SectionRequest {
	return store.SectionRequest{Current: views.CurrentPageParams(mode).Parse(q), Revoked: views.RevokedPageParams(mode).Parse(q)}
}

func (s *Server) loadKeysTab(c echo.Context) (store.KeysTab, error) {
	q := c.QueryParams()
	return s.db.KeysTab(c.Request().Context(), currentUser(c).MerchantID, currentAccount(c).ID, store.KeysTabRequest{
		Live:           keySectionPages(q, keyport.ModeLive),
		Test:           keySectionPages(q, keyport.ModeTest),
		CurrentPerPage: views.CurrentPerPage,
		RevokedPerPage: views.RevokedPerPage,
		CountLimit:     views.RevokedCountLimit,
	})
}

// keysPage serves GET /accounts/:id/keys.
func (s *Server) keysPage(c echo.Context) error {
	tab, err := s.loadKeysTab(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.KeysPage(s.page(c, tab.Account.Name+" · Developer keys", "/accounts"), s.keysView(c, tab)))
}

// keySection serves GET /accounts/:id/keys/section.
func (s *Server) keySection(c echo.Context) error {
	mode, err := modeParam(c.QueryParam("mode"))
	if err != nil {
		return err
	}
	tab, err := s.loadKeysTab(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.KeySection(s.keysView(c, tab), mode))
}

// keyAccess reads and resolves the type and access fields of a key form,
// copying them into values for a re-render and their errors into v.
func keyAccess(c echo.Context, values map[string]string, v *keyport.ValidationError) keyport.KeyAccess {
	in := keyport.KeyAccessInput{Type: c.FormValue("type"), Access: c.FormValue("access"), Levels: map[string]string{},
		SuppressCosts: c.FormValue("suppress_costs") == "on", AllowedOrigins: c.FormValue("allowed_origins")}
	values["type"], values["access"], values["suppress_costs"] = in.Type, in.Access, c.FormValue("suppress_costs")
	values["allowed_origins"] = in.AllowedOrigins
	for _, r := range keyport.PermissionCatalog.Resources() {
		in.Levels[r.Name] = c.FormValue("perm_" + r.Name)
		values["perm_"+r.Name] = in.Levels[r.Name]
	}
	access, err := keyport.PermissionCatalog.ResolveAccess(in)
	for field, msg := range fieldErrors(err) {
		v.Add(field, msg)
	}
	return access
}

// keyOrigin names the entry point a key form or removal came from:
// "tokens" (the Keys & Tokens pop-up), "secrets" (the API secrets page), or
// "" (the Developer keys tab).
func keyOrigin(c echo.Context) string {
	for _, from := range []string{c.QueryParam("from"), c.FormValue("from")} {
		if from == "tokens" || from == "secrets" {
			return from
		}
	}
	return ""
}

// fromTokens reports whether a key form or removal came from the Keys & Tokens pop-up.
func fromTokens(c echo.Context) bool { return keyOrigin(c) == "tokens" }

func (s *Server) keyFormDialog(c echo.Context, status int, f views.Form) error {
	a := currentAccount(c)
	k := views.KeyForm{Frame: frame(c, views.KeysURL(a.ID)), Action: views.KeysURL(a.ID), CSRF: csrfToken(c), Form: f, Submit: "Generate Token"}
	title := "Generate a test token"
	switch keyOrigin(c) {
	case "tokens":
		k.Back, k.From, k.Submit, title = views.TokensURL(a.ID), "tokens", "Create Token", "Create Token · "+a.Name
	case "secrets":
		k.Back, k.From, k.Submit, title = "/secrets", "secrets", "Create key", "Create a test key · "+a.Name
	}
	return s.dialog(c, status, title, "/accounts", "", false, views.KeyFormBody(k))
}

// newKeyForm serves GET /accounts/:id/keys/new.
func (s *Server) newKeyForm(c echo.Context) error {
	return s.keyFormDialog(c, http.StatusOK, views.Form{Values: map[string]string{"expiry": "never"}})
}

// createKey serves POST /accounts/:id/keys.
func (s *Server) createKey(c echo.Context) error {
	a := currentAccount(c)
	values := formValues(c, "name", "expiry", "expiry_date")
	name := strings.TrimSpace(values["name"])
	var v keyport.ValidationError
	if msg := keyport.CheckKeyName(name); msg != "" {
		v.Add("name", msg)
	}
	access := keyAccess(c, values, &v)
	expires, err := keyport.ParseExpiry(values["expiry"], values["expiry_date"], s.Now())
	for field, msg := range fieldErrors(err) {
		v.Add(field, msg)
	}
	if len(v.Fields) > 0 {
		return s.keyFormDialog(c, http.StatusUnprocessableEntity, views.Form{Values: values, Errors: v.Fields})
	}
	created, err := s.db.CreateKey(c.Request().Context(), actor(c), keyport.NewKey{AccountID: a.ID, MerchantID: a.MerchantID,
		Type: access.Type, Mode: keyport.ModeTest, Name: name, ExpiresAt: expires, Access: access.Access,
		Permissions: access.Permissions, SuppressCosts: access.SuppressCosts, AllowedOrigins: access.AllowedOrigins})
	if msg, ok := formLevelError(err); ok {
		return s.keyFormDialog(c, http.StatusUnprocessableEntity, views.Form{Values: values, Errors: map[string]string{"form": msg}})
	}
	if err != nil {
		return err
	}
	return s.reveal(c, created.Key, created.Plaintext)
}

// reveal shows a new key's plaintext, the only time it is ever sent.
func (s *Server) reveal(c echo.Context, k keyport.APIKey, plaintext string) error {
	r := views.RevealedKey{Frame: frame(c, views.KeysURL(currentAccount(c).ID)), Name: k.Name, Mode: k.Mode, Type: k.Type, Plaintext: plaintext}
	refresh := keysChanged
	switch keyOrigin(c) {
	case "tokens":
		r.Back, r.Reopen, refresh = views.TokensURL(currentAccount(c).ID), true, accountsChanged
	case "secrets":
		r.Back, r.Reload, refresh = "/secrets", true, ""
	}
	return s.dialog(c, http.StatusOK, "Your new token", "/accounts", refresh, true, views.RevealBody(r))
}

// popUpPage is the page of keys a key list pop-up asks for: from the query
// of its GET, or from the fields of the remove form it was left by.
func popUpPage(c echo.Context) store.PageRequest {
	form, _ := c.FormParams()
	return views.DefaultPageParams.Parse(form)
}

func (s *Server) manageDialog(c echo.Context, mode keyport.Mode, removed string) error {
	a := currentAccount(c)
	page := popUpPage(c)
	keys, err := s.db.CurrentKeys(c.Request().Context(), a.ID, mode, page, views.CurrentPerPage)
	if err != nil {
		return err
	}
	body := views.ManageBody(views.ManageView{Frame: frame(c, views.KeysURL(a.ID)), Account: *a, Mode: mode, Keys: keys, Page: page,
		Now: s.Now(), CSRF: csrfToken(c), Removed: removed, CanManage: true})
	return s.dialog(c, http.StatusOK, "Manage your "+string(mode)+" tokens", "/accounts", keysChanged, false, body)
}

// manageKeys serves GET /accounts/:id/keys/manage.
func (s *Server) manageKeys(c echo.Context) error {
	mode, err := modeParam(c.QueryParam("mode"))
	if err != nil {
		return err
	}
	return s.manageDialog(c, mode, "")
}

// revokeKeyForm serves GET /accounts/:id/keys/:kid/revoke: the confirmation,
// which carries the list it was asked from back to the removal.
func (s *Server) revokeKeyForm(c echo.Context) error {
	a := currentAccount(c)
	k, err := s.accountKey(c)
	if err != nil {
		return err
	}
	page := popUpPage(c)
	back, from := views.ManageURL(a.ID, k.Mode, page), string(k.Mode)
	if fromTokens(c) {
		back, from = views.ManageURL(a.ID, "", page), "tokens"
	}
	fields := []views.Hidden{{Name: "from", Value: from}}
	if name, value := views.DefaultPageParams.Field(page); name != "" {
		fields = append(fields, views.Hidden{Name: name, Value: value})
	}
	return s.confirm(c, "/accounts", back, views.Confirmation{
		Question: "Remove the token “" + k.Name + "”?",
		Detail:   "Anything using it stops working immediately. This cannot be undone.",
		Action:   views.KeyURL(a.ID, k.ID) + "/revoke",
		Fields:   fields,
		Button:   "Remove “" + k.Name + "”",
		InModal:  true,
	})
}

// revokeKey serves POST /accounts/:id/keys/:kid/revoke.
func (s *Server) revokeKey(c echo.Context) error {
	a := currentAccount(c)
	keyID, err := pathID(c, "kid")
	if err != nil {
		return err
	}
	k, err := s.db.RevokeKey(c.Request().Context(), actor(c), a.MerchantID, a.ID, keyID, "")
	if err != nil {
		return err
	}
	switch {
	case isHTMX(c) && fromTokens(c):
		return s.tokensDialog(c, k.Name)
	case isHTMX(c):
		return s.manageDialog(c, k.Mode, k.Name)
	}
	s.flash(c, "success", fmt.Sprintf("Removed “%s”. Anything using it can no longer call the API.", k.Name))
	if fromTokens(c) {
		return redirect(c, views.ManageURL(a.ID, "", popUpPage(c)))
	}
	return redirect(c, views.ManageURL(a.ID, k.Mode, popUpPage(c)))
}

func (s *Server) rollDialog(c echo.Context, status int, k keyport.APIKey, f views.Form) error {
	a := currentAccount(c)
	r := views.RollForm{Frame: frame(c, views.ManageURL(a.ID, k.Mode, store.PageRequest{})), Action: views.KeyURL(a.ID, k.ID) + "/roll",
		CSRF: csrfToken(c), Form: f, Key: k, From: string(k.Mode)}
	if fromTokens(c) {
		r.Back, r.From = views.TokensURL(a.ID), "tokens"
	}
	r.Nested = true
	return s.dialog(c, status, "Roll “"+k.Name+"”", "/accounts", "", false, views.RollFormBody(r))
}

// accountKey loads the key named by the :kid path parameter on the current account; any other is a 404.
func (s *Server) accountKey(c echo.Context) (keyport.APIKey, error) {
	a := currentAccount(c)
	keyID, err := pathID(c, "kid")
	if err != nil {
		return keyport.APIKey{}, err
	}
	k, err := s.db.MerchantKey(c.Request().Context(), a.MerchantID, keyID)
	if err == nil && k.AccountID != a.ID {
		err = keyport.ErrNotFound
	}
	return k, err
}

// rollForm serves GET /accounts/:id/keys/:kid/roll.
func (s *Server) rollForm(c echo.Context) error {
	k, err := s.accountKey(c)
	if err != nil {
		return err
	}
	return s.rollDialog(c, http.StatusOK, k, views.Form{Values: map[string]string{"grace": "24h"}})
}

// rollKey serves POST /accounts/:id/keys/:kid/roll.
func (s *Server) rollKey(c echo.Context) error {
	a := currentAccount(c)
	keyID, err := pathID(c, "kid")
	if err != nil {
		return err
	}
	k, err := s.accountKey(c)
	if err != nil {
		return err
	}
	grace, msg := keyport.ParseGrace(c.FormValue("grace"))
	if msg != "" {
		return s.rollDialog(c, http.StatusUnprocessableEntity, k, views.Form{Values: map[string]string{"grace": c.FormValue("grace")},
			Errors: map[string]string{"grace": msg}})
	}
	if k.Mode == keyport.ModeLive {
		if ok, err := s.sudo(c, keyport.SudoLiveKey); !ok {
			return err
		}
	}
	created, err := s.db.RollKey(c.Request().Context(), actor(c), a.MerchantID, a.ID, keyID, grace)
	if err != nil {
		return err
	}
	return s.reveal(c, created.Key, created.Plaintext)
}
