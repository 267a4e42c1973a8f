package web

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

func (s *Server) renderTeam(c echo.Context, status int, v views.TeamView) error {
	u := currentUser(c)
	ctx := c.Request().Context()
	var err error
	if v.Members, err = s.db.TeamMembers(ctx, u.MerchantID); err != nil {
		return err
	}
	if v.Invitations, err = s.db.PendingInvitations(ctx, u.MerchantID); err != nil {
		return err
	}
	v.Me, v.CSRF, v.Now = u, csrfToken(c), s.Now()
	return render(c, status, views.TeamPage(s.page(c, "Team", "/team"), v))
}

// teamPage serves GET /team.
func (s *Server) teamPage(c echo.Context) error {
	return s.renderTeam(c, http.StatusOK, views.TeamView{})
}

// invite creates an invitation and emails it or, without a mail server, shows
// its one-time link in the response. Route: POST /team/invitations.
func (s *Server) invite(c echo.Context) error {
	in := keyport.NewInvitation{Email: c.FormValue("email"), Role: keyport.Role(c.FormValue("role"))}
	err := in.Validate()
	values := map[string]string{"email": in.Email, "role": string(in.Role)}
	if err == nil {
		var token string
		var inv keyport.Invitation
		inv, token, err = s.db.CreateInvitation(c.Request().Context(), s.inviteThrottle, actor(c), currentUser(c).MerchantID, in)
		if err == nil && s.mailer != nil {
			return s.renderTeam(c, http.StatusOK, views.TeamView{InviteEmail: inv.Email, InviteEmailed: true})
		}
		if err == nil {
			link := s.baseURL + views.InvitationURL(token)
			return s.renderTeam(c, http.StatusOK, views.TeamView{InviteLink: link, InviteEmail: inv.Email})
		}
	}
	if fields := fieldErrors(err); fields != nil {
		return s.renderTeam(c, http.StatusUnprocessableEntity, views.TeamView{Form: views.Form{Values: values, Errors: fields}})
	}
	if msg, ok := throttledForm(c, err); ok {
		return s.renderTeam(c, http.StatusTooManyRequests, views.TeamView{Form: views.Form{Values: values, Errors: map[string]string{"form": msg}}})
	}
	return err
}

// revokeInvitation serves POST /team/invitations/:iid/revoke.
func (s *Server) revokeInvitation(c echo.Context) error {
	id, err := pathID(c, "iid")
	if err != nil {
		return err
	}
	if err := s.db.RevokeInvitation(c.Request().Context(), actor(c), currentUser(c).MerchantID, id); err != nil {
		return err
	}
	s.flash(c, "success", "Invitation withdrawn: its link no longer works.")
	return redirect(c, "/team")
}

// revokeInvitationForm serves GET /team/invitations/:iid/revoke: the confirmation.
func (s *Server) revokeInvitationForm(c echo.Context) error {
	id, err := pathID(c, "iid")
	if err != nil {
		return err
	}
	pending, err := s.db.PendingInvitations(c.Request().Context(), currentUser(c).MerchantID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(pending, func(inv keyport.Invitation) bool { return inv.ID == id })
	if i < 0 {
		return keyport.ErrNotFound
	}
	inv := pending[i]
	return s.confirm(c, "/team", "/team", views.Confirmation{
		Question: "Withdraw the invitation of " + inv.Email + "?",
		Detail:   "Its link no longer works.",
		Action:   fmt.Sprintf("/team/invitations/%d/revoke", inv.ID),
		Button:   "Withdraw the invitation of " + inv.Email,
	})
}

// teamChange runs a change of a member, turning the last-Owner refusal into a notice.
func (s *Server) teamChange(c echo.Context, change func(userID int64) error, done string) error {
	id, err := pathID(c, "uid")
	if err != nil {
		return err
	}
	err = change(id)
	switch {
	case errors.Is(err, keyport.ErrLastOwner):
		s.flash(c, "error", keyport.ErrorMessage(err))
	case err != nil:
		return err
	default:
		s.flash(c, "success", done)
	}
	return redirect(c, "/team")
}

// changeRole serves POST /team/members/:uid/role.
func (s *Server) changeRole(c echo.Context) error {
	role := keyport.Role(c.FormValue("role"))
	if ok, err := s.sudo(c, keyport.SudoTeamRole); !ok {
		return err
	}
	return s.teamChange(c, func(id int64) error {
		return s.db.ChangeRole(c.Request().Context(), actor(c), currentUser(c).MerchantID, id, role)
	}, fmt.Sprintf("Role changed to %s.", role.Label()))
}

// removeMember serves POST /team/members/:uid/remove.
func (s *Server) removeMember(c echo.Context) error {
	return s.teamChange(c, func(id int64) error {
		return s.db.RemoveMember(c.Request().Context(), actor(c), currentUser(c).MerchantID, id)
	}, "Member removed: their sessions have ended.")
}

// removeMemberForm serves GET /team/members/:uid/remove: the confirmation.
func (s *Server) removeMemberForm(c echo.Context) error {
	id, err := pathID(c, "uid")
	if err != nil {
		return err
	}
	members, err := s.db.TeamMembers(c.Request().Context(), currentUser(c).MerchantID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(members, func(u keyport.User) bool { return u.ID == id })
	if i < 0 {
		return keyport.ErrNotFound
	}
	m := members[i]
	return s.confirm(c, "/team", "/team", views.Confirmation{
		Question: "Remove " + m.Name + " (" + m.Email + ") from the team?",
		Detail:   "They are signed out at once.",
		Action:   fmt.Sprintf("/team/members/%d/remove", m.ID),
		Button:   "Remove " + m.Name,
	})
}

// invitationForm is the page an invitation link opens.
// Route: GET /invite.
func (s *Server) invitationForm(c echo.Context) error {
	token := c.QueryParam("token")
	inv, err := s.db.InvitationByToken(c.Request().Context(), token)
	if err != nil {
		return invalidInvitation(err)
	}
	if inv.MerchantDisabled {
		return keyport.ErrMerchantDisabled
	}
	return render(c, http.StatusOK, views.InvitePage(s.page(c, "Join "+inv.MerchantName, ""), views.InvitePageView{Invitation: inv, Token: token}))
}

func invalidInvitation(err error) error {
	if errors.Is(err, keyport.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "This invitation link is invalid, already used, withdrawn or expired.")
	}
	return err
}

// acceptInvitation creates the invited member and signs them in.
// Route: POST /invite.
func (s *Server) acceptInvitation(c echo.Context) error {
	token := c.FormValue("token")
	inv, err := s.db.InvitationByToken(c.Request().Context(), token)
	if err != nil {
		return invalidInvitation(err)
	}
	if inv.MerchantDisabled {
		return keyport.ErrMerchantDisabled
	}
	name := strings.TrimSpace(c.FormValue("name"))
	password := c.FormValue("password")
	var v keyport.ValidationError
	if msg := keyport.CheckName(name, "Your name"); msg != "" {
		v.Add("name", msg)
	}
	if msg := keyport.CheckPassword(password, name, inv.MerchantName, inv.Email); msg != "" {
		v.Add("password", msg)
	}
	if len(v.Fields) > 0 {
		return render(c, http.StatusUnprocessableEntity, views.InvitePage(s.page(c, "Join "+inv.MerchantName, ""),
			views.InvitePageView{Invitation: inv, Token: token, Form: views.Form{Values: map[string]string{"name": name}, Errors: v.Fields}}))
	}
	hash, err := s.passwordCost.Hash(password)
	if err != nil {
		return err
	}
	u, err := s.db.AcceptInvitation(c.Request().Context(), token, name, hash, c.RealIP())
	if err != nil {
		return invalidInvitation(err)
	}
	if err := s.startSession(c, u.ID, "success|Welcome to "+inv.MerchantName+" on Keyport.", false); err != nil {
		return err
	}
	return redirect(c, homeFor(&u))
}
