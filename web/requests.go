package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

var requestFields = []string{"token_name", "intended_use", "website", "monthly_shipments"}

func (s *Server) requestFormDialog(c echo.Context, status int, f views.Form) error {
	a := currentAccount(c)
	body := views.RequestFormBody(views.RequestForm{Frame: frame(c, views.KeysURL(a.ID)), Action: views.RequestsURL(a.ID), CSRF: csrfToken(c), Form: f})
	return s.dialog(c, status, "Request a live token", "/accounts", "", false, body)
}

// newRequestForm serves GET /accounts/:id/requests/new.
func (s *Server) newRequestForm(c echo.Context) error {
	return s.requestFormDialog(c, http.StatusOK, views.Form{})
}

// fileRequest serves POST /accounts/:id/requests.
func (s *Server) fileRequest(c echo.Context) error {
	a := currentAccount(c)
	values := formValues(c, requestFields...)
	in := keyport.LiveKeyRequestInput{TokenName: strings.TrimSpace(values["token_name"]), IntendedUse: values["intended_use"],
		Website: strings.TrimSpace(values["website"]), MonthlyShipments: values["monthly_shipments"]}
	shipments, err := in.Validate()
	var v keyport.ValidationError
	for field, msg := range fieldErrors(err) {
		v.Add(field, msg)
	}
	in.Access = keyAccess(c, values, &v)
	if len(v.Fields) > 0 {
		return s.requestFormDialog(c, http.StatusUnprocessableEntity, views.Form{Values: values, Errors: v.Fields})
	}
	_, err = s.db.FileRequest(c.Request().Context(), actor(c), a.MerchantID, a.ID, in, shipments)
	if msg, ok := formLevelError(err); ok {
		return s.requestFormDialog(c, http.StatusUnprocessableEntity, views.Form{Values: values, Errors: map[string]string{"form": msg}})
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", "Your live token request was sent. The API team will review it; you will see the outcome here.")
	return redirect(c, views.KeysURL(a.ID))
}

// replyToRequest serves POST /accounts/:id/requests/:rid/reply.
func (s *Server) replyToRequest(c echo.Context) error {
	a := currentAccount(c)
	requestID, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	reply := strings.TrimSpace(c.FormValue("reply"))
	if msg := keyport.CheckText(reply, "Reply", 1, 2000); msg != "" {
		return s.replyError(c, requestID, reply, msg)
	}
	if err := s.db.AnswerRequest(c.Request().Context(), actor(c), a.MerchantID, a.ID, requestID, reply); err != nil {
		return err
	}
	s.flash(c, "success", "Your reply was sent. The request is back with the API team.")
	return redirect(c, views.KeysURL(a.ID))
}

// cancelRequestForm serves GET /accounts/:id/requests/:rid/cancel: the confirmation.
func (s *Server) cancelRequestForm(c echo.Context) error {
	a := currentAccount(c)
	requestID, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	r, err := s.db.RequestOf(c.Request().Context(), a.MerchantID, a.ID, requestID)
	if err != nil {
		return err
	}
	return s.confirm(c, "/accounts", views.KeysURL(a.ID), views.Confirmation{
		Question: "Cancel the live token request “" + r.TokenName + "”?",
		Detail:   "The API team no longer reviews it.",
		Action:   fmt.Sprintf("%s/requests/%d/cancel", views.AccountURL(a.ID), r.ID),
		Button:   "Cancel the request “" + r.TokenName + "”",
	})
}

// replyError shows the Live keys section (htmx) or the whole tab again with the reply box's error.
func (s *Server) replyError(c echo.Context, requestID int64, reply, msg string) error {
	a := currentAccount(c)
	tab, err := s.loadKeysTab(c)
	if err != nil {
		return err
	}
	if _, err := s.db.RequestOf(c.Request().Context(), a.MerchantID, a.ID, requestID); err != nil {
		return err
	}
	v := s.keysView(c, tab)
	v.ReplyTo = requestID
	v.Reply = views.Form{Values: map[string]string{"reply": reply}, Errors: map[string]string{"reply": msg}}
	if isHTMX(c) {
		return render(c, http.StatusUnprocessableEntity, views.KeySection(v, keyport.ModeLive))
	}
	return render(c, http.StatusUnprocessableEntity, views.KeysPage(s.page(c, tab.Account.Name+" · Developer keys", "/accounts"), v))
}

// cancelRequest serves POST /accounts/:id/requests/:rid/cancel.
func (s *Server) cancelRequest(c echo.Context) error {
	a := currentAccount(c)
	requestID, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	if err := s.db.CancelRequest(c.Request().Context(), actor(c), a.MerchantID, a.ID, requestID); err != nil {
		return err
	}
	s.flash(c, "success", "The live token request was cancelled.")
	return redirect(c, views.KeysURL(a.ID))
}

// issueLiveKey serves POST /accounts/:id/requests/:rid/issue.
func (s *Server) issueLiveKey(c echo.Context) error {
	a := currentAccount(c)
	requestID, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	if ok, err := s.sudo(c, keyport.SudoLiveKey); !ok {
		return err
	}
	created, err := s.db.IssueLiveKey(c.Request().Context(), actor(c), a.MerchantID, a.ID, requestID)
	if err != nil {
		return err
	}
	return s.reveal(c, created.Key, created.Plaintext)
}

// dismissNotice hides a request's notice for the user's merchant. An htmx
// request gets an empty answer that swaps the notice away; a plain form is sent
// back to the page it came from.
// Route: POST /notices/:rid/dismiss.
func (s *Server) dismissNotice(c echo.Context) error {
	requestID, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	if err := s.db.DismissRequestNotice(c.Request().Context(), currentUser(c).MerchantID, requestID); err != nil {
		return err
	}
	if isHTMX(c) {
		return c.HTML(http.StatusOK, "")
	}
	return c.Redirect(http.StatusSeeOther, localPath(c.FormValue("back"), "/accounts"))
}

// requestNotice is the message a merchant sees about a request's outcome until
// it is dismissed or the request moves on.
func requestNotice(r keyport.LiveKeyRequest) views.Flash {
	switch r.State {
	case keyport.RequestApproved:
		return views.Flash{Kind: "success", Message: fmt.Sprintf("Your live token request was approved: “%s” on %s. Generate the live token from its Developer keys tab.", r.TokenName, r.AccountName)}
	case keyport.RequestRejected:
		return views.Flash{Kind: "error", Message: fmt.Sprintf("Your live token request was rejected: “%s” on %s. Reason: %s", r.TokenName, r.AccountName, r.RejectReason)}
	case keyport.RequestNeedsInfo:
		return views.Flash{Kind: "info", Message: fmt.Sprintf("The API team has a question about your live token request “%s” on %s. Answer it in the Live keys section.", r.TokenName, r.AccountName)}
	}
	return views.Flash{Kind: "info", Message: fmt.Sprintf("Your live token request “%s” is now %s.", r.TokenName, strings.ToLower(r.State.Label()))}
}
