package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

func (s *Server) authsDialog(c echo.Context, status int, notice string, revealed map[string]string) error {
	a := currentAccount(c)
	auths, err := s.db.ListAuths(c.Request().Context(), a.MerchantID, a.ID)
	if err != nil {
		return err
	}
	body := views.AuthsBody(views.AuthsView{Frame: frame(c, "/accounts"), Account: *a, Auths: auths, CSRF: csrfToken(c),
		CanManage: currentUser(c).Role.CanManageKeys(), Now: s.Now(), Notice: notice, Revealed: revealed})
	return s.dialog(c, status, "Registered Auths · "+a.Name, "/accounts", accountsChanged, false, body)
}

// authsPage serves GET /accounts/:id/auths.
func (s *Server) authsPage(c echo.Context) error { return s.authsDialog(c, http.StatusOK, "", nil) }

// chosenCourier looks up the submitted courier code; nil when none or unknown.
func (s *Server) chosenCourier(c echo.Context) (*keyport.Courier, error) {
	code := c.FormValue("courier")
	if code == "" {
		return nil, nil
	}
	courier, err := s.db.Courier(c.Request().Context(), code)
	if errors.Is(err, keyport.ErrNotFound) {
		return nil, nil
	}
	return &courier, err
}

func (s *Server) authFormDialog(c echo.Context, status int, courier *keyport.Courier, f views.Form) error {
	a := currentAccount(c)
	couriers, err := s.db.Couriers(c.Request().Context())
	if err != nil {
		return err
	}
	body := views.AuthFormBody(views.AuthForm{Frame: frame(c, views.AuthsURL(a.ID)), Account: *a, Couriers: couriers,
		Courier: courier, CSRF: csrfToken(c), Form: f})
	return s.dialog(c, status, "Register a new auth · "+a.Name, "/accounts", accountsChanged, false, body)
}

// newAuthForm serves GET /accounts/:id/auths/new.
func (s *Server) newAuthForm(c echo.Context) error {
	courier, err := s.chosenCourier(c)
	if err != nil {
		return err
	}
	return s.authFormDialog(c, http.StatusOK, courier, views.Form{Values: map[string]string{"testing": "no"}})
}

// courierFields is the htmx fragment of the chosen courier's credential fields.
// Route: GET /accounts/:id/auths/fields.
func (s *Server) courierFields(c echo.Context) error {
	courier, err := s.chosenCourier(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.CourierFields(courier, views.Form{}, nil))
}

// authInput reads the submitted auth: company, testing and the chosen courier's fields.
func authInput(c echo.Context, courier *keyport.Courier) (keyport.NewAuth, map[string]string) {
	in := keyport.NewAuth{Company: c.FormValue("company"), Testing: c.FormValue("testing"), Values: map[string]string{}}
	if courier != nil {
		in.Courier = courier.Code
		for _, f := range courier.Fields {
			in.Values[f.Name] = c.FormValue("field_" + f.Name)
		}
	}
	in.Normalize()
	values := map[string]string{"company": in.Company, "testing": in.Testing}
	if courier != nil {
		for _, f := range courier.Fields {
			if !f.Secret {
				values["field_"+f.Name] = in.Values[f.Name]
			}
		}
	}
	return in, values
}

// registerAuth saves courier credentials, or, for the no-JavaScript "show
// fields" button, re-renders the form with the chosen courier's fields.
// Route: POST /accounts/:id/auths.
func (s *Server) registerAuth(c echo.Context) error {
	a := currentAccount(c)
	courier, err := s.chosenCourier(c)
	if err != nil {
		return err
	}
	in, values := authInput(c, courier)
	if c.FormValue("action") == "fields" {
		return s.authFormDialog(c, http.StatusOK, courier, views.Form{Values: values})
	}
	if err := in.Validate(courier); err != nil {
		return s.authFormDialog(c, http.StatusUnprocessableEntity, courier, views.Form{Values: values, Errors: fieldErrors(err)})
	}
	auth, err := s.db.RegisterAuth(c.Request().Context(), actor(c), a.MerchantID, a.ID, *courier, in)
	if fields := fieldErrors(err); fields != nil {
		return s.authFormDialog(c, http.StatusUnprocessableEntity, courier, views.Form{Values: values, Errors: fields})
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Registered the %s auth of “%s”.", auth.Courier.Name, auth.Company)
	if isHTMX(c) {
		return s.authsDialog(c, http.StatusOK, msg, nil)
	}
	s.flash(c, "success", msg)
	return redirect(c, views.AuthsURL(a.ID))
}

// currentAuth loads the registered auth named by the :aid path parameter,
// when it belongs to the account in the context; otherwise 404.
func (s *Server) currentAuth(c echo.Context) (keyport.RegisteredAuth, error) {
	a := currentAccount(c)
	authID, err := pathID(c, "aid")
	if err != nil {
		return keyport.RegisteredAuth{}, err
	}
	return s.db.Auth(c.Request().Context(), a.MerchantID, a.ID, authID)
}

func (s *Server) editAuthDialog(c echo.Context, status int, auth keyport.RegisteredAuth, f views.Form) error {
	a := currentAccount(c)
	body := views.AuthFormBody(views.AuthForm{Frame: frame(c, views.AuthsURL(a.ID)), Account: *a, Courier: &auth.Courier,
		Auth: &auth, CSRF: csrfToken(c), Form: f})
	return s.dialog(c, status, "Edit the "+auth.Courier.Name+" auth · "+a.Name, "/accounts", accountsChanged, false, body)
}

// editAuthForm serves GET /accounts/:id/auths/:aid/edit: the auth's Company,
// Testing and non-secret fields filled in, its secret fields blank.
func (s *Server) editAuthForm(c echo.Context) error {
	auth, err := s.currentAuth(c)
	if err != nil {
		return err
	}
	testing := "no"
	if auth.Testing {
		testing = "yes"
	}
	values := map[string]string{"company": auth.Company, "testing": testing}
	for _, f := range auth.Courier.Fields {
		if !f.Secret {
			values["field_"+f.Name] = auth.Values[f.Name]
		}
	}
	return s.editAuthDialog(c, http.StatusOK, auth, views.Form{Values: values})
}

// updateAuth serves POST /accounts/:id/auths/:aid: it saves the auth's
// Company, Testing and fields under the rules of registering one; a secret
// field left blank keeps its value.
func (s *Server) updateAuth(c echo.Context) error {
	a := currentAccount(c)
	auth, err := s.currentAuth(c)
	if err != nil {
		return err
	}
	in, values := authInput(c, &auth.Courier)
	in.KeepBlankSecrets(auth)
	if err := in.Validate(&auth.Courier); err != nil {
		return s.editAuthDialog(c, http.StatusUnprocessableEntity, auth, views.Form{Values: values, Errors: fieldErrors(err)})
	}
	saved, changed, err := s.db.UpdateAuth(c.Request().Context(), actor(c), a.MerchantID, a.ID, auth.ID, auth.Courier, in)
	if fields := fieldErrors(err); fields != nil {
		return s.editAuthDialog(c, http.StatusUnprocessableEntity, auth, views.Form{Values: values, Errors: fields})
	}
	if err != nil {
		return err
	}
	msg := fmt.Sprintf("Saved the %s auth of “%s”: %s changed.", saved.Courier.Name, saved.Company, strings.Join(changed, ", "))
	if len(changed) == 0 {
		msg = fmt.Sprintf("Nothing changed in the %s auth of “%s”.", saved.Courier.Name, saved.Company)
	}
	if isHTMX(c) {
		return s.authsDialog(c, http.StatusOK, msg, nil)
	}
	s.flash(c, "success", msg)
	return redirect(c, views.AuthsURL(a.ID))
}

// revealAuthSecret shows one secret field of a registered auth, audited.
// Route: POST /accounts/:id/auths/:aid/reveal.
func (s *Server) revealAuthSecret(c echo.Context) error {
	a := currentAccount(c)
	authID, err := pathID(c, "aid")
	if err != nil {
		return err
	}
	field := strings.TrimSpace(c.FormValue("field"))
	if ok, err := s.sudo(c, keyport.SudoRevealSecret); !ok {
		return err
	}
	f, value, err := s.db.RevealAuthSecret(c.Request().Context(), actor(c), a.MerchantID, a.ID, authID, field)
	if err != nil {
		return err
	}
	if !isHTMX(c) {
		return s.authsDialog(c, http.StatusOK, "", map[string]string{views.RevealKey(authID, field): value})
	}
	return render(c, http.StatusOK, views.SecretValue(views.SecretField{AccountID: a.ID, AuthID: authID, Field: f, Value: value, Shown: true}))
}

// deleteAuthForm serves GET /accounts/:id/auths/:aid/delete: the confirmation.
func (s *Server) deleteAuthForm(c echo.Context) error {
	auth, err := s.currentAuth(c)
	if err != nil {
		return err
	}
	a := currentAccount(c)
	return s.confirm(c, "/accounts", views.AuthsURL(a.ID), views.Confirmation{
		Question: "Delete the " + auth.Courier.Name + " auth of “" + auth.Company + "”?",
		Detail:   "Shipments with this courier in this mode will fail until you register another.",
		Action:   views.AuthURL(a.ID, auth.ID) + "/delete",
		Button:   "Delete the " + auth.Courier.Name + " auth of “" + auth.Company + "”",
		InModal:  true,
	})
}

// deleteAuth serves POST /accounts/:id/auths/:aid/delete.
func (s *Server) deleteAuth(c echo.Context) error {
	a := currentAccount(c)
	authID, err := pathID(c, "aid")
	if err != nil {
		return err
	}
	label, err := s.db.DeleteAuth(c.Request().Context(), actor(c), a.MerchantID, a.ID, authID)
	if err != nil {
		return err
	}
	msg := "Deleted the registered auth " + label + "."
	if isHTMX(c) {
		return s.authsDialog(c, http.StatusOK, msg, nil)
	}
	s.flash(c, "success", msg)
	return redirect(c, views.AuthsURL(a.ID))
}
