package web

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/views"
)

// merchantsPage serves GET /admin/merchants.
func (s *Server) merchantsPage(c echo.Context) error {
	list, err := s.db.ListMerchants(c.Request().Context())
	if err != nil {
		return err
	}
	v := views.MerchantsView{Merchants: list, Now: s.Now(), CSRF: csrfToken(c)}
	return render(c, http.StatusOK, views.MerchantsPage(s.page(c, "Merchants", "/admin/merchants"), v))
}

func (s *Server) setMerchantDisabled(c echo.Context, disabled bool) error {
	id, err := pathID(c, "mid")
	if err != nil {
		return err
	}
	if disabled {
		if ok, err := s.sudo(c, keyport.SudoMerchantAccess); !ok {
			return err
		}
	}
	m, err := s.db.SetMerchantDisabled(c.Request().Context(), actor(c), id, disabled)
	if err != nil {
		return err
	}
	if disabled {
		s.flash(c, "success", fmt.Sprintf("Disabled “%s”: its keys no longer work, its users were signed out and cannot log in.", m.Name))
	} else {
		s.flash(c, "success", fmt.Sprintf("Enabled “%s”: its users can log in and its keys work again.", m.Name))
	}
	return redirect(c, "/admin/merchants")
}

// disableMerchant serves POST /admin/merchants/:mid/disable.
func (s *Server) disableMerchant(c echo.Context) error { return s.setMerchantDisabled(c, true) }

// enableMerchant serves POST /admin/merchants/:mid/enable.
func (s *Server) enableMerchant(c echo.Context) error { return s.setMerchantDisabled(c, false) }

// merchantUsers serves GET /admin/merchants/:mid/users: the merchant's users
// with their active sessions, each of which an admin can end.
func (s *Server) merchantUsers(c echo.Context) error {
	id, err := pathID(c, "mid")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	name, err := s.db.MerchantName(ctx, id)
	if err != nil {
		return err
	}
	members, err := s.db.TeamMembers(ctx, id)
	if err != nil {
		return err
	}
	v := views.MerchantUsersView{MerchantID: id, MerchantName: name, CSRF: csrfToken(c)}
	for _, u := range members {
		n, err := s.sessions.CountActive(ctx, u.ID, "")
		if err != nil {
			return err
		}
		v.Users = append(v.Users, views.UserSessions{User: u, Sessions: n})
	}
	return render(c, http.StatusOK, views.MerchantUsersPage(s.page(c, "Users of "+name, "/admin/merchants"), v))
}

// disableMerchantForm serves GET /admin/merchants/:mid/disable: the confirmation.
func (s *Server) disableMerchantForm(c echo.Context) error {
	id, err := pathID(c, "mid")
	if err != nil {
		return err
	}
	name, err := s.db.MerchantName(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return s.confirm(c, "/admin/merchants", "/admin/merchants", views.Confirmation{
		Question: "Disable “" + name + "”?",
		Detail:   "Every key of this merchant stops working at once, and its users are signed out and cannot log in until you enable it again.",
		Action:   fmt.Sprintf("/admin/merchants/%d/disable", id),
		Button:   "Disable “" + name + "”",
	})
}

// merchantUser loads the user :uid of the merchant :mid; a user of another
// merchant is ErrNotFound.
func (s *Server) merchantUser(c echo.Context) (keyport.User, error) {
	merchantID, err := pathID(c, "mid")
	if err != nil {
		return keyport.User{}, err
	}
	userID, err := pathID(c, "uid")
	if err != nil {
		return keyport.User{}, err
	}
	u, err := s.db.UserByID(c.Request().Context(), userID)
	if err == nil && u.MerchantID != merchantID {
		return keyport.User{}, keyport.ErrNotFound
	}
	return u, err
}

// endUserSessionsForm serves GET /admin/merchants/:mid/users/:uid/sessions/end:
// the confirmation.
func (s *Server) endUserSessionsForm(c echo.Context) error {
	u, err := s.merchantUser(c)
	if err != nil {
		return err
	}
	users := fmt.Sprintf("/admin/merchants/%d/users", u.MerchantID)
	return s.confirm(c, "/admin/merchants", users, views.Confirmation{
		Question: "End every session of " + u.Email + "?",
		Detail:   "They must log in again on every device.",
		Action:   fmt.Sprintf("%s/%d/sessions/end", users, u.ID),
		Button:   "End every session of " + u.Email,
	})
}

// resetUserTwoFactorForm serves GET /admin/merchants/:mid/users/:uid/two-factor/reset:
// the confirmation.
func (s *Server) resetUserTwoFactorForm(c echo.Context) error {
	u, err := s.merchantUser(c)
	if err != nil {
		return err
	}
	users := fmt.Sprintf("/admin/merchants/%d/users", u.MerchantID)
	return s.confirm(c, "/admin/merchants", users, views.Confirmation{
		Question: "Reset the two-factor authentication of " + u.Email + "?",
		Detail: "Do it only after checking who asks: they sign in with their password alone until they set up an app again, " +
			"and every session of theirs ends.",
		Action: fmt.Sprintf("%s/%d/two-factor/reset", users, u.ID),
		Button: "Reset two-factor of " + u.Email,
	})
}

// endUserSessions serves POST /admin/merchants/:mid/users/:uid/sessions/end:
// every session of the merchant's user ends.
func (s *Server) endUserSessions(c echo.Context) error {
	u, err := s.merchantUser(c)
	if err != nil {
		return err
	}
	n, err := s.db.EndAllSessions(c.Request().Context(), actor(c), u)
	if err != nil {
		return err
	}
	s.flash(c, "success", fmt.Sprintf("Ended %d session(s) of %s: they must log in again.", n, u.Email))
	return redirect(c, fmt.Sprintf("/admin/merchants/%d/users", u.MerchantID))
}

// resetUserTwoFactor serves POST /admin/merchants/:mid/users/:uid/two-factor/reset:
// a user who lost their authenticator app and recovery codes signs in with
// their password again, and every session of theirs ends.
func (s *Server) resetUserTwoFactor(c echo.Context) error {
	u, err := s.merchantUser(c)
	if err != nil {
		return err
	}
	if ok, err := s.sudo(c, keyport.SudoTwoFactorReset); !ok {
		return err
	}
	err = s.db.ResetTwoFactor(c.Request().Context(), actor(c), u)
	if errors.Is(err, keyport.ErrNotFound) {
		s.flash(c, "info", u.Email+" has no two-factor authentication to reset.")
	} else if err != nil {
		return err
	} else {
		s.flash(c, "success", fmt.Sprintf("Reset the two-factor authentication of %s and ended their sessions: they sign in with their password and set up an app again.", u.Email))
	}
	return redirect(c, fmt.Sprintf("/admin/merchants/%d/users", u.MerchantID))
}
