package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"keyport"
)

// loadTestRoutes registers the routes that only a load-test build has (built
// with -tags loadtest, see loadtest.go). The normal build leaves it nil, so the
// shipped binary has none of them.
var loadTestRoutes func(s *Server, v1 *echo.Group)

// routes lists every route of the app in one place.
func (s *Server) routes() {
	e := s.echo
	e.Pre(s.requestLog, s.recoverPanics, s.securityHeaders)
	e.Use(bodyLimit, gzipAPI, csrfNotInQuery, s.loadSession, s.csrf, s.requireEnrolment)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/static/*", s.staticFiles)
	e.HEAD("/static/*", s.staticFiles)
	e.GET("/favicon.ico", s.favicon)
	e.GET("/robots.txt", s.robots)

	e.GET("/", s.home)
	e.GET("/signup", s.signupForm)
	e.POST("/signup", s.signup)
	e.GET("/login", s.loginForm)
	e.POST("/login", s.login)
	e.GET("/sudo", s.sudoForm, s.requireUser)
	e.POST("/sudo", s.confirmSudo, s.requireUser)
	e.GET("/login/code", s.secondFactorForm)
	e.POST("/login/code", s.secondFactor)
	e.POST("/login/passkey", s.passkeySignIn)
	e.POST("/logout", s.logout)
	e.GET("/verify-email", s.verifyEmailForm)
	e.POST("/verify-email", s.verifyEmail)
	e.GET("/password/forgot", s.forgotPasswordForm)
	e.POST("/password/forgot", s.requestPasswordReset)
	e.GET("/password/reset", s.resetPasswordForm)
	e.POST("/password/reset", s.resetPassword)

	e.GET("/invite", s.invitationForm)
	e.POST("/invite", s.acceptInvitation)

	settings := e.Group("/settings", s.requireUser)
	settings.GET("", s.userSettings)
	settings.POST("/password", s.changePassword)
	settings.GET("/sessions/end", s.endAllSessionsForm)
	settings.POST("/sessions/end", s.endAllSessions)
	settings.GET("/sessions/:session/end", s.endSessionForm)
	settings.POST("/sessions/:session/end", s.endSession)
	settings.POST("/email", s.saveMailPreferences)
	settings.POST("/verify-email", s.resendVerification)
	settings.POST("/two-factor/app", s.beginTwoFactor)
	settings.GET("/two-factor/app", s.twoFactorSetup)
	settings.POST("/two-factor/app/confirm", s.confirmTwoFactor)
	settings.GET("/two-factor/recovery-codes", s.newRecoveryCodesForm)
	settings.POST("/two-factor/recovery-codes", s.newRecoveryCodes)
	settings.POST("/two-factor/off", s.turnOffTwoFactor)
	settings.GET("/two-factor/passkeys/new", s.newPasskeyForm)
	settings.POST("/two-factor/passkeys", s.addPasskey)
	settings.GET("/two-factor/passkeys/:pid/remove", s.removePasskeyForm)
	settings.POST("/two-factor/passkeys/:pid/remove", s.removePasskey)

	merchant := e.Group("", s.requireMerchant)
	merchant.GET("/accounts", s.accountsPage)
	merchant.GET("/accounts/table", s.accountsTable)
	merchant.GET("/secrets", s.secretsPage)
	merchant.POST("/secrets", s.secretsPage)
	merchant.GET("/secrets/:kid", s.secretPermissions)

	team := merchant.Group("/team", s.requireOwner)
	team.GET("", s.teamPage)
	team.POST("/invitations", s.invite)
	team.GET("/invitations/:iid/revoke", s.revokeInvitationForm)
	team.POST("/invitations/:iid/revoke", s.revokeInvitation)
	team.POST("/members/:uid/role", s.changeRole)
	team.GET("/members/:uid/remove", s.removeMemberForm)
	team.POST("/members/:uid/remove", s.removeMember)

	accountManager := merchant.Group("", s.requireKeyManager)
	accountManager.GET("/accounts/new", s.newAccountForm)
	accountManager.POST("/accounts", s.createAccount)
	accountManager.GET("/secrets/new", s.newSecretForm)
	accountManager.GET("/secrets/:kid/revoke", s.revokeSecretForm)
	accountManager.POST("/secrets/:kid/revoke", s.revokeSecret)
	accountManager.POST("/notices/:rid/dismiss", s.dismissNotice)

	account := merchant.Group("/accounts/:id", s.loadAccount)
	account.GET("", s.accountPage)
	account.GET("/summary", s.accountSummary)
	account.GET("/keys", s.keysPage)
	account.GET("/keys/section", s.keySection)
	account.GET("/tokens", s.tokensPage)
	account.GET("/auths", s.authsPage)
	account.GET("/shipments", s.shipmentsPage)
	account.GET("/shipments/export.csv", s.shipmentsExport)
	account.GET("/shipments/:sid", s.shipmentDetail)

	keyManager := account.Group("", s.requireKeyManager)
	keyManager.GET("/disable", s.disableAccountForm)
	keyManager.POST("/disable", s.disableAccount)
	keyManager.POST("/enable", s.enableAccount)
	keyManager.GET("/rename", s.renameAccountForm)
	keyManager.POST("/rename", s.renameAccount)
	keyManager.GET("/delete", s.deleteAccountForm)
	keyManager.POST("/delete", s.deleteAccount)
	keyManager.GET("/auths/new", s.newAuthForm)
	keyManager.GET("/auths/fields", s.courierFields)
	keyManager.POST("/auths", s.registerAuth)
	keyManager.GET("/auths/:aid/edit", s.editAuthForm)
	keyManager.POST("/auths/:aid", s.updateAuth)
	keyManager.POST("/auths/:aid/reveal", s.revealAuthSecret)
	keyManager.GET("/auths/:aid/delete", s.deleteAuthForm)
	keyManager.POST("/auths/:aid/delete", s.deleteAuth)
	keyManager.GET("/keys/manage", s.manageKeys)
	keyManager.GET("/keys/new", s.newKeyForm)
	keyManager.POST("/keys", s.createKey)
	keyManager.GET("/keys/:kid/revoke", s.revokeKeyForm)
	keyManager.POST("/keys/:kid/revoke", s.revokeKey)
	keyManager.GET("/keys/:kid/roll", s.rollForm)
	keyManager.POST("/keys/:kid/roll", s.rollKey)
	keyManager.GET("/requests/new", s.newRequestForm)
	keyManager.POST("/requests", s.fileRequest)
	keyManager.POST("/requests/:rid/reply", s.replyToRequest)
	keyManager.GET("/requests/:rid/cancel", s.cancelRequestForm)
	keyManager.POST("/requests/:rid/cancel", s.cancelRequest)
	keyManager.POST("/requests/:rid/issue", s.issueLiveKey)

	merchant.GET("/webhooks", s.webhooksPage)
	merchant.GET("/webhooks/:wid", s.webhookPage)
	webhooks := merchant.Group("/webhooks", s.requireKeyManager)
	webhooks.GET("/new", s.newWebhookForm)
	webhooks.POST("", s.createWebhook)
	webhooks.GET("/:wid/edit", s.editWebhookForm)
	webhooks.POST("/:wid", s.updateWebhook)
	webhooks.GET("/:wid/delete", s.deleteWebhookForm)
	webhooks.POST("/:wid/delete", s.deleteWebhook)
	webhooks.GET("/:wid/roll", s.rollWebhookSecretForm)
	webhooks.POST("/:wid/roll", s.rollWebhookSecret)
	webhooks.POST("/:wid/test", s.sendTestWebhook)
	webhooks.POST("/:wid/deliveries/:did/resend", s.resendWebhook)

	audit := e.Group("/audit", s.requireAuditReader)
	audit.GET("", s.auditPage)
	audit.GET("/export.csv", s.auditExport)

	e.GET("/docs/api", s.apiDocs)
	e.GET("/v1/openapi.json", s.openAPI)
	v1 := e.Group("/v1")
	apiRoutes := s.apiRoutes()
	for _, ep := range keyport.APIEndpoints {
		h := s.withKey(ep.Permission, apiRoutes.of(ep).handler)
		e.Add(ep.Method, ep.RoutePath(), h)
		if ep.Method == http.MethodGet {
			e.Add(http.MethodHead, ep.RoutePath(), h)
		}
	}
	e.POST("/v1/leaks", s.reportLeaks)
	if loadTestRoutes != nil {
		loadTestRoutes(s, v1)
	}
	v1.Any("", s.apiNotFound)
	v1.Any("/*", s.apiNotFound)

	admin := e.Group("/admin", s.requireAdmin)
	admin.GET("/merchants", s.merchantsPage)
	admin.GET("/merchants/:mid/disable", s.disableMerchantForm)
	admin.POST("/merchants/:mid/disable", s.disableMerchant)
	admin.POST("/merchants/:mid/enable", s.enableMerchant)
	admin.GET("/merchants/:mid/users", s.merchantUsers)
	admin.GET("/merchants/:mid/users/:uid/sessions/end", s.endUserSessionsForm)
	admin.POST("/merchants/:mid/users/:uid/sessions/end", s.endUserSessions)
	admin.GET("/merchants/:mid/users/:uid/two-factor/reset", s.resetUserTwoFactorForm)
	admin.POST("/merchants/:mid/users/:uid/two-factor/reset", s.resetUserTwoFactor)
	admin.GET("/merchants/:mid/secrets", s.supportSecrets)
	admin.POST("/merchants/:mid/secrets", s.supportSecrets)
	admin.GET("/keys", s.keyFinder)
	admin.POST("/keys", s.keyFinder)
	admin.GET("/merchants/:mid/secrets/:kid", s.supportPermissions)
	admin.GET("/merchants/:mid/secrets/:kid/revoke", s.supportRevokeForm)
	admin.POST("/merchants/:mid/secrets/:kid/revoke", s.supportRevoke)
	admin.GET("/requests", s.requestQueue)
	admin.GET("/requests/:rid", s.requestDetail)
	admin.GET("/requests/:rid/approve", s.approveRequestForm)
	admin.POST("/requests/:rid/approve", s.approveRequest)
	admin.POST("/requests/:rid/reject", s.rejectRequest)
	admin.POST("/requests/:rid/ask", s.askForInfo)
	admin.GET("/outbox", s.outboxPage)
	admin.POST("/outbox/:msg/retry", s.retryMessage)
	admin.GET("/settings", s.settingsPage)
	admin.POST("/settings", s.saveSettings)
}

// servesPages reports whether path answers with pages a browser renders, as
// opposed to the /v1 API and the probes.
func servesPages(path string) bool {
	return !isAPIPath(path) && !isProbe(path)
}

// isSessionless reports whether path is answered without a session or CSRF
// token: static files, the probes and the /v1 API, which authenticates by key.
func isSessionless(path string) bool {
	return isStaticPath(path) || isProbe(path) || isAPIPath(path)
}

// isStaticPath reports whether path names a static file.
func isStaticPath(path string) bool {
	return strings.HasPrefix(path, "/static/")
}

func isAPIRequest(c echo.Context) bool {
	return isAPIPath(c.Request().URL.Path)
}

// isAPIPath reports whether path belongs to the /v1 API.
func isAPIPath(path string) bool {
	return path == "/v1" || strings.HasPrefix(path, "/v1/")
}

// allowedMethods are the methods the /v1 endpoints answer on path, as an
// Allow header lists them (HEAD beside GET, OPTIONS last), or nil when no
// endpoint has that path.
func allowedMethods(path string) []string {
	var out []string
	for _, ep := range keyport.APIEndpoints {
		if !matchesPattern(ep.Path, path) {
			continue
		}
		out = append(out, ep.Method)
		if ep.Method == http.MethodGet {
			out = append(out, http.MethodHead)
		}
	}
	if out == nil {
		return nil
	}
	return append(out, http.MethodOptions)
}

// matchesPattern reports whether path fills pattern, an endpoint path whose
// {name} segments each match one non-empty segment.
func matchesPattern(pattern, path string) bool {
	want, got := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i := range want {
		if strings.HasPrefix(want[i], "{") {
			if got[i] == "" {
				return false
			}
		} else if want[i] != got[i] {
			return false
		}
	}
	return true
}

// isProbe reports whether path is the liveness or readiness probe.
func isProbe(path string) bool {
	return path == "/healthz" || path == "/readyz"
}
