package web

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// requestQueue serves GET /admin/requests.
func (s *Server) requestQueue(c echo.Context) error {
	filter, ok := keyport.RequestFilterNamed(c.QueryParam("state"))
	if !ok {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown state filter.")
	}
	page, total, err := s.db.ListRequests(c.Request().Context(), store.QueueFilter{States: filter.States,
		Page: views.DefaultPageParams.Parse(c.QueryParams()), PerPage: views.QueuePerPage, CountLimit: views.QueueCountLimit})
	if err != nil {
		return err
	}
	q := views.QueueView{Requests: page, Total: total, Filter: filter.Value, Now: s.Now()}
	return render(c, http.StatusOK, views.QueuePage(s.page(c, "Live key requests", "/admin/requests"), q))
}

// requestDetail serves GET /admin/requests/:rid.
func (s *Server) requestDetail(c echo.Context) error {
	return s.requestPage(c, http.StatusOK, views.Form{})
}

// requestOfPath loads the live key request named by the :rid path parameter.
func (s *Server) requestOfPath(c echo.Context) (keyport.RequestWithActivity, error) {
	id, err := pathID(c, "rid")
	if err != nil {
		return keyport.RequestWithActivity{}, err
	}
	return s.db.RequestByID(c.Request().Context(), id)
}

func (s *Server) requestPage(c echo.Context, status int, f views.Form) error {
	r, err := s.requestOfPath(c)
	if err != nil {
		return err
	}
	v := views.RequestView{Request: r, Now: s.Now(), CSRF: csrfToken(c), Form: f}
	return render(c, status, views.RequestPage(s.page(c, "Live token request", "/admin/requests"), v))
}

// approveRequest serves POST /admin/requests/:rid/approve.
func (s *Server) approveRequest(c echo.Context) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	err = s.db.ApproveRequest(c.Request().Context(), actor(c), id)
	if msg, ok := formLevelError(err); ok {
		return s.requestPage(c, http.StatusUnprocessableEntity, views.Form{Errors: map[string]string{"form": msg}})
	}
	if err != nil {
		return err
	}
	s.flash(c, "success", "Request approved. The merchant can now generate the live token.")
	return redirect(c, "/admin/requests")
}

// approveRequestForm serves GET /admin/requests/:rid/approve: the confirmation.
func (s *Server) approveRequestForm(c echo.Context) error {
	r, err := s.requestOfPath(c)
	if err != nil {
		return err
	}
	return s.confirm(c, "/admin/requests", fmt.Sprintf("/admin/requests/%d", r.ID), views.Confirmation{
		Question: "Approve the live token request of " + r.MerchantName + "?",
		Detail:   "The merchant can then generate one live token, “" + r.TokenName + "”, shown to them once.",
		Action:   fmt.Sprintf("/admin/requests/%d/approve", r.ID),
		Button:   "Approve the request of " + r.MerchantName,
	})
}

// decisionText reads a required message of a decision form, or re-renders the request page with its error.
func decisionText(c echo.Context, field, label string) (string, *views.Form) {
	text := strings.TrimSpace(c.FormValue(field))
	if msg := keyport.CheckText(text, label, 1, 2000); msg != "" {
		return "", &views.Form{Values: map[string]string{field: text}, Errors: map[string]string{field: msg}}
	}
	return text, nil
}

// rejectRequest serves POST /admin/requests/:rid/reject.
func (s *Server) rejectRequest(c echo.Context) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	reason, bad := decisionText(c, "reason", "Reason")
	if bad != nil {
		return s.requestPage(c, http.StatusUnprocessableEntity, *bad)
	}
	if err := s.db.RejectRequest(c.Request().Context(), actor(c), id, reason); err != nil {
		return err
	}
	s.flash(c, "success", "Request rejected. The merchant sees your reason.")
	return redirect(c, "/admin/requests")
}

// askForInfo serves POST /admin/requests/:rid/ask.
func (s *Server) askForInfo(c echo.Context) error {
	id, err := pathID(c, "rid")
	if err != nil {
		return err
	}
	question, bad := decisionText(c, "question", "Message")
	if bad != nil {
		return s.requestPage(c, http.StatusUnprocessableEntity, *bad)
	}
	if err := s.db.AskForInfo(c.Request().Context(), actor(c), id, question); err != nil {
		return err
	}
	s.flash(c, "success", "Question sent. The request waits for the merchant's answer.")
	return redirect(c, "/admin/requests")
}
