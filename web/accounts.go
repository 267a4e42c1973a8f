package web

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

const accountsChanged = "accounts-changed"

func (s *Server) accountsView(c echo.Context) (views.AccountsView, error) {
	u := currentUser(c)
	list, err := s.db.AccountSummaries(c.Request().Context(), u.MerchantID)
	return views.AccountsView{Accounts: list, CanManage: u.Role.CanManageKeys()}, err
}

// accountsPage serves GET /accounts.
func (s *Server) accountsPage(c echo.Context) error {
	v, err := s.accountsView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AccountsPage(s.page(c, "API Accounts", "/accounts"), v))
}

// accountsTable serves GET /accounts/table.
func (s *Server) accountsTable(c echo.Context) error {
	v, err := s.accountsView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AccountsTable(v))
}

func (s *Server) accountView(c echo.Context) (views.AccountView, error) {
	a := currentAccount(c)
	u := currentUser(c)
	summary, err := s.db.AccountSummaryOf(c.Request().Context(), a.MerchantID, a.ID)
	return views.AccountView{Account: summary, Now: s.Now(), CSRF: csrfToken(c), CanManage: u.Role.CanManageKeys()}, err
}

// accountPage serves GET /accounts/:id: the account with every action on it.
func (s *Server) accountPage(c echo.Context) error {
	v, err := s.accountView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AccountPage(s.page(c, v.Account.Name, "/accounts"), v))
}

// accountSummary serves GET /accounts/:id/summary: the account's key and
// counts, which its page reloads after a dialog changed them.
func (s *Server) accountSummary(c echo.Context) error {
	v, err := s.accountView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AccountSummary(v))
}

func (s *Server) accountFormDialog(c echo.Context, status int, f views.Form) error {
	body := views.NewAccountBody(views.AccountForm{Frame: frame(c, "/accounts"), CSRF: csrfToken(c), Form: f})
	return s.dialog(c, status, "Create New API Account", "/accounts", "", false, body)
}

// newAccountForm serves GET /accounts/new.
func (s *Server) newAccountForm(c echo.Context) error {
	return s.accountFormDialog(c, http.StatusOK, views.Form{})
}

// createAccount saves a new API account, or, for the "Generate key" button,
// fills a fresh account key into the form.
// Route: POST /accounts.
func (s *Server) createAccount(c echo.Context) error {
	in := keyport.NewAccount{Name: c.FormValue("name"), AccountKey: c.FormValue("account_key")}
	in.Normalize()
	values := map[string]string{"name": in.Name, "account_key": in.AccountKey}
	if c.FormValue("action") == "generate" {
		key, err := keyport.NewAccountKey()
		if err != nil {
			return err
		}
		values["account_key"] = key
		return s.accountFormDialog(c, http.StatusOK, views.Form{Values: values})
	}
	if err := in.Validate(); err != nil {
		return s.accountFormDialog(c, http.StatusUnprocessableEntity, views.Form{Values: values, Errors: fieldErrors(err)})
	}
	created, err := s.db.CreateAccount(c.Request().Context(), actor(c), currentUser(c).MerchantID, in)
	if fields := fieldErrors(err); fields != nil {
		return s.accountFormDialog(c, http.StatusUnprocessableEntity, views.Form{Values: values, Errors: fields})
	}
	if err != nil {
		return err
	}
	k := created.Secret.Key
	body := views.RevealBody(views.RevealedKey{Frame: frame(c, "/accounts"), Name: k.Name, Mode: k.Mode, Plaintext: created.Secret.Plaintext,
		Intro: fmt.Sprintf("API account “%s” created with account key %s. This is its Legacy API Secret: full access to test mode.",
			created.Account.Name, created.Account.AccountKey)})
	return s.dialog(c, http.StatusOK, "API account created", "/accounts", accountsChanged, true, body)
}

func (s *Server) setAccountDisabled(c echo.Context, disabled bool) error {
	a := currentAccount(c)
	updated, err := s.db.SetAccountDisabled(c.Request().Context(), actor(c), a.MerchantID, a.ID, disabled)
	if err != nil {
		return err
	}
	if disabled {
		s.flash(c, "success", fmt.Sprintf("Disabled “%s”: its keys no longer work and no key can be created until you enable it.", updated.Name))
	} else {
		s.flash(c, "success", fmt.Sprintf("Enabled “%s”: its keys work again.", updated.Name))
	}
	return redirect(c, views.AccountURL(a.ID))
}

// disableAccount serves POST /accounts/:id/disable.
func (s *Server) disableAccount(c echo.Context) error { return s.setAccountDisabled(c, true) }

// enableAccount serves POST /accounts/:id/enable.
func (s *Server) enableAccount(c echo.Context) error { return s.setAccountDisabled(c, false) }

func (s *Server) renameAccountDialog(c echo.Context, status int, f views.Form) error {
	a := currentAccount(c)
	if f.Values == nil {
		f.Values = map[string]string{"name": a.Name}
	}
	body := views.RenameAccountBody(views.AccountForm{Frame: frame(c, views.AccountURL(a.ID)), CSRF: csrfToken(c), Form: f, Account: *a})
	return s.dialog(c, status, "Rename “"+a.Name+"”", "/accounts", "", false, body)
}

// disableAccountForm serves GET /accounts/:id/disable: the confirmation.
func (s *Server) disableAccountForm(c echo.Context) error {
	a := currentAccount(c)
	return s.confirm(c, "/accounts", "/accounts", views.Confirmation{
		Question: "Disable “" + a.Name + "”?",
		Detail:   "Every key of this account stops working at once and no new key can be created until you enable it again.",
		Action:   views.AccountURL(a.ID) + "/disable",
		Button:   "Disable “" + a.Name + "”",
	})
}

// renameAccountForm serves GET /accounts/:id/rename.
func (s *Server) renameAccountForm(c echo.Context) error {
	return s.renameAccountDialog(c, http.StatusOK, views.Form{})
}

// renameAccount serves POST /accounts/:id/rename.
func (s *Server) renameAccount(c echo.Context) error {
	a := currentAccount(c)
	in := keyport.NewAccount{Name: c.FormValue("name")}
	in.Normalize()
	err := in.Validate()
	if err == nil {
		var renamed keyport.APIAccount
		renamed, err = s.db.RenameAccount(c.Request().Context(), actor(c), a.MerchantID, a.ID, in.Name)
		if err == nil {
			s.flash(c, "success", fmt.Sprintf("Renamed “%s” to “%s”. Its keys keep working.", a.Name, renamed.Name))
			return redirect(c, views.AccountURL(a.ID))
		}
	}
	if fields := fieldErrors(err); fields != nil {
		return s.renameAccountDialog(c, http.StatusUnprocessableEntity, views.Form{Values: map[string]string{"name": in.Name}, Errors: fields})
	}
	return err
}

func (s *Server) deleteAccountDialog(c echo.Context, status int, f views.Form) error {
	a := currentAccount(c)
	body := views.DeleteAccountBody(views.AccountForm{Frame: frame(c, views.AccountURL(a.ID)), CSRF: csrfToken(c), Form: f, Account: *a})
	return s.dialog(c, status, "Delete API account", "/accounts", "", false, body)
}

// deleteAccountForm serves GET /accounts/:id/delete.
func (s *Server) deleteAccountForm(c echo.Context) error {
	return s.deleteAccountDialog(c, http.StatusOK, views.Form{})
}

// deleteAccount serves POST /accounts/:id/delete.
func (s *Server) deleteAccount(c echo.Context) error {
	a := currentAccount(c)
	typed := c.FormValue("confirm_name")
	if msg := keyport.CheckDeleteConfirmation(a.Name, typed); msg != "" {
		return s.deleteAccountDialog(c, http.StatusUnprocessableEntity,
			views.Form{Values: map[string]string{"confirm_name": typed}, Errors: map[string]string{"confirm_name": msg}})
	}
	revoked, err := s.db.DeleteAccount(c.Request().Context(), actor(c), a.MerchantID, a.ID)
	if err != nil {
		return err
	}
	s.flash(c, "success", fmt.Sprintf("Deleted “%s” and revoked its %s. Its history stays in the audit log.", a.Name,
		views.Count(revoked, "active or expired key")))
	return redirect(c, "/accounts")
}

func (s *Server) tokensDialog(c echo.Context, removed string) error {
	a := currentAccount(c)
	ctx := c.Request().Context()
	page := popUpPage(c)
	keys, err := s.db.CurrentKeys(ctx, a.ID, "", page, views.CurrentPerPage)
	if err != nil {
		return err
	}
	slots, err := s.db.CapStatus(ctx, a.ID, keyport.ModeTest)
	if err != nil {
		return err
	}
	body := views.ManageBody(views.ManageView{Frame: frame(c, "/accounts"), Account: *a, Keys: keys, Page: page, Now: s.Now(), CSRF: csrfToken(c),
		Removed: removed, CanManage: currentUser(c).Role.CanManageKeys(), TestSlots: slots})
	return s.dialog(c, http.StatusOK, "Keys & Tokens · "+a.Name, "/accounts", accountsChanged, false, body)
}

// tokensPage serves GET /accounts/:id/tokens.
func (s *Server) tokensPage(c echo.Context) error { return s.tokensDialog(c, "") }
