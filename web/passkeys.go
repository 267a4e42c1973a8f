package web

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// newWebAuthn returns the WebAuthn relying party of the portal's public URL,
// or nil when passkeys cannot work there: browsers accept a domain name
// (localhost included) as a relying party, never an IP address.
func newWebAuthn(base *url.URL) *webauthn.WebAuthn {
	if base == nil || base.Hostname() == "" || net.ParseIP(base.Hostname()) != nil {
		return nil
	}
	w, err := webauthn.New(&webauthn.Config{RPID: base.Hostname(), RPDisplayName: "Keyport", RPOrigins: []string{base.Scheme + "://" + base.Host}})
	if err != nil {
		return nil
	}
	return w
}

// passkeyUser is a Keyport user as go-webauthn sees them.
type passkeyUser struct {
	user   keyport.User
	handle []byte
	creds  []webauthn.Credential
}

func (p passkeyUser) WebAuthnID() []byte                         { return p.handle }
func (p passkeyUser) WebAuthnName() string                       { return p.user.Email }
func (p passkeyUser) WebAuthnDisplayName() string                { return p.user.Name }
func (p passkeyUser) WebAuthnCredentials() []webauthn.Credential { return p.creds }

// passkeyUserOf loads a user's passkeys for a ceremony.
func (s *Server) passkeyUserOf(c echo.Context, u keyport.User) (passkeyUser, error) {
	list, err := s.db.Passkeys(c.Request().Context(), u.ID)
	if err != nil {
		return passkeyUser{}, err
	}
	return s.passkeyUserWith(u, list)
}

// passkeyUserWith is a user with the passkeys list for a ceremony. Their user
// handle is an HMAC of their id, opaque and the same on every replica.
func (s *Server) passkeyUserWith(u keyport.User, list []store.Passkey) (passkeyUser, error) {
	m := hmac.New(sha256.New, s.userHandleKey)
	m.Write([]byte(strconv.FormatInt(u.ID, 10)))
	pu := passkeyUser{user: u, handle: m.Sum(nil)}
	for _, pk := range list {
		var cred webauthn.Credential
		if err := json.Unmarshal(pk.Credential, &cred); err != nil {
			return passkeyUser{}, fmt.Errorf("passkey %d: %w", pk.ID, err)
		}
		pu.creds = append(pu.creds, cred)
	}
	return pu, nil
}

// ceremony is what the short-lived WebAuthn cookie carries between the
// options a page holds and the browser's answer: for whom, for what, and the
// challenge.
type ceremony struct {
	UserID  int64
	Purpose string
	Session webauthn.SessionData
}

// startCeremony stores a ceremony in its signed cookie and returns the
// options for the browser, in JSON.
func (s *Server) startCeremony(c echo.Context, userID int64, purpose string, options any, session *webauthn.SessionData) (string, error) {
	opts, err := json.Marshal(options)
	if err != nil {
		return "", err
	}
	value, err := s.secondStepCodec.Encode(s.ceremonyCookie, ceremony{UserID: userID, Purpose: purpose, Session: *session})
	if err != nil {
		return "", err
	}
	c.SetCookie(&http.Cookie{Name: s.ceremonyCookie, Value: value, Path: "/", HttpOnly: true, Secure: s.secure,
		SameSite: http.SameSiteStrictMode, MaxAge: int(keyport.SecondFactorTTL / time.Second)})
	return string(opts), nil
}

// endCeremony reads and forgets the ceremony of userID for purpose; false
// when there is none, it is forged or expired, or it is another's.
func (s *Server) endCeremony(c echo.Context, userID int64, purpose string) (webauthn.SessionData, bool) {
	var cer ceremony
	ck, err := c.Cookie(s.ceremonyCookie)
	c.SetCookie(&http.Cookie{Name: s.ceremonyCookie, Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.secure})
	if err != nil || s.secondStepCodec.Decode(s.ceremonyCookie, ck.Value, &cer) != nil || cer.UserID != userID || cer.Purpose != purpose {
		return webauthn.SessionData{}, false
	}
	return cer.Session, true
}

// The purposes of a ceremony.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
)

// newPasskeyForm serves GET /settings/two-factor/passkeys/new.
func (s *Server) newPasskeyForm(c echo.Context) error {
	return s.renderNewPasskey(c, http.StatusOK, views.Form{})
}

func (s *Server) renderNewPasskey(c echo.Context, status int, f views.Form) error {
	v := views.NewPasskeyView{Form: f}
	if s.webauthn != nil {
		u := currentUser(c)
		pu, err := s.passkeyUserOf(c, *u)
		if err != nil {
			return err
		}
		creation, session, err := s.webauthn.BeginRegistration(pu, webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
			webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementPreferred))
		if err != nil {
			return err
		}
		if v.Options, err = s.startCeremony(c, u.ID, ceremonyRegister, creation, session); err != nil {
			return err
		}
	}
	return render(c, status, views.NewPasskeyPage(s.page(c, "Add a passkey", "/settings"), v))
}

// addPasskey serves POST /settings/two-factor/passkeys: the browser's new
// credential is verified and stored under the name the user gave. The first
// second factor of a user comes with their recovery codes.
func (s *Server) addPasskey(c echo.Context) error {
	u := currentUser(c)
	name := strings.TrimSpace(c.FormValue("name"))
	values := map[string]string{"name": name}
	fail := func(field, msg string) error {
		return s.renderNewPasskey(c, http.StatusUnprocessableEntity, views.Form{Values: values, Errors: map[string]string{field: msg}})
	}
	if msg := keyport.CheckName(name, "Name"); msg != "" {
		return fail("name", msg)
	}
	if s.webauthn == nil {
		return fail("form", "Passkeys cannot be used under this site's address.")
	}
	session, ok := s.endCeremony(c, u.ID, ceremonyRegister)
	if !ok {
		return fail("form", "This page waited too long. Try again.")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes([]byte(c.FormValue("credential")))
	if err != nil {
		return fail("form", "Your browser did not create a passkey. Try again, or use an authenticator app.")
	}
	pu, err := s.passkeyUserOf(c, *u)
	if err != nil {
		return err
	}
	cred, err := s.webauthn.CreateCredential(pu, session, parsed)
	if err != nil {
		return fail("form", "The passkey could not be verified. Try again.")
	}
	credJSON, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	codes, err := keyport.NewRecoveryCodes()
	if err != nil {
		return err
	}
	issued, err := s.db.AddPasskey(c.Request().Context(), actor(c), *u, name, cred.ID, credJSON, codes)
	if errors.Is(err, keyport.ErrConflict) {
		return fail("form", "This passkey is already registered.")
	}
	if err != nil {
		return err
	}
	if issued {
		return render(c, http.StatusOK, views.RecoveryCodesPage(s.page(c, "Your recovery codes", "/settings"),
			views.RecoveryCodesView{Codes: codes, Enabled: true, Note: "Added the passkey “" + name + "”."}))
	}
	s.flash(c, "success", "Added the passkey “"+name+"”.")
	return redirect(c, "/settings#two-factor")
}

// removePasskey serves POST /settings/two-factor/passkeys/:pid/remove.
func (s *Server) removePasskey(c echo.Context) error {
	id, err := pathID(c, "pid")
	if err != nil {
		return err
	}
	name, err := s.db.RemovePasskey(c.Request().Context(), actor(c), *currentUser(c), id)
	if err != nil {
		return err
	}
	s.flash(c, "success", "Removed the passkey “"+name+"”: it no longer signs you in.")
	return redirect(c, "/settings#two-factor")
}

// removePasskeyForm serves GET /settings/two-factor/passkeys/:pid/remove: the
// confirmation. Only a passkey of the user's own is found.
func (s *Server) removePasskeyForm(c echo.Context) error {
	id, err := pathID(c, "pid")
	if err != nil {
		return err
	}
	passkeys, err := s.db.Passkeys(c.Request().Context(), currentUser(c).ID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(passkeys, func(pk store.Passkey) bool { return pk.ID == id })
	if i < 0 {
		return keyport.ErrNotFound
	}
	pk := passkeys[i]
	return s.confirm(c, "/settings", "/settings#two-factor", views.Confirmation{
		Question: "Remove the passkey “" + pk.Name + "”?",
		Detail:   "It no longer signs you in.",
		Action:   fmt.Sprintf("/settings/two-factor/passkeys/%d/remove", pk.ID),
		Button:   "Remove “" + pk.Name + "”",
	})
}

// renderSecondFactor renders the second step of the pending user's sign-in,
// with a passkey ceremony when they have passkeys.
func (s *Server) renderSecondFactor(c echo.Context, status int, u keyport.User, f views.Form) error {
	tf, err := s.db.TwoFactorOf(c.Request().Context(), u.ID)
	if err != nil {
		return err
	}
	v := views.SecondFactorView{Form: f, HasTOTP: tf.HasTOTP()}
	if s.webauthn != nil && len(tf.Passkeys) > 0 {
		pu, err := s.passkeyUserWith(u, tf.Passkeys)
		if err != nil {
			return err
		}
		assertion, session, err := s.webauthn.BeginLogin(pu)
		if err != nil {
			return err
		}
		if v.PasskeyOptions, err = s.startCeremony(c, u.ID, ceremonyLogin, assertion, session); err != nil {
			return err
		}
	}
	return render(c, status, views.SecondFactorPage(s.page(c, "Two-factor authentication", ""), v))
}

// passkeySignIn serves POST /login/passkey: a passkey of the pending user
// completes their sign-in.
func (s *Server) passkeySignIn(c echo.Context) error {
	u, step, ok, err := s.pendingOrRestart(c)
	if !ok {
		return err
	}
	fail := func(msg string) error {
		return s.renderSecondFactor(c, http.StatusUnauthorized, u, views.Form{Errors: map[string]string{"form": msg}})
	}
	session, ok := s.endCeremony(c, u.ID, ceremonyLogin)
	if !ok || s.webauthn == nil {
		return fail("This page waited too long. Try your passkey again.")
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes([]byte(c.FormValue("assertion")))
	if err != nil {
		return fail("Your browser did not use a passkey. Try again, or enter a code.")
	}
	pu, err := s.passkeyUserOf(c, u)
	if err != nil {
		return err
	}
	cred, err := s.webauthn.ValidateLogin(pu, session, parsed)
	if err != nil || cred.Authenticator.CloneWarning {
		return fail("This passkey could not be verified. Try again, or enter a code.")
	}
	credJSON, err := json.Marshal(cred)
	if err != nil {
		return err
	}
	if err := s.db.PasskeyUsed(c.Request().Context(), u.ID, cred.ID, credJSON); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: s.secondStepCookie, Path: "/login", MaxAge: -1, HttpOnly: true, Secure: s.secure})
	to, err := s.completeSignIn(c, u, "", step.Keep, step.Next)
	if err != nil {
		return err
	}
	return redirect(c, to)
}
