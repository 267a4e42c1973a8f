package web

// routes lists every route of the app in one place.
func (s *Server) routes() {
	e := s.echo
	e.Pre(s.requestLog, s.recoverPanics, s.securityHeaders)
	e.Use(s.bodyLimit, s.csrf(), s.loadSession)

	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/static/*", s.staticFiles)
	e.GET("/favicon.ico", s.favicon)

	e.GET("/", s.home)
	e.GET("/signup", s.signupForm)
	e.POST("/signup", s.signup)
	e.GET("/login", s.loginForm)
	e.POST("/login", s.login)
	e.POST("/logout", s.logout)

	merchant := e.Group("", s.requireMerchant)
	merchant.GET("/accounts", s.accountsPage)
	merchant.GET("/accounts/table", s.accountsTable)
	merchant.GET("/secrets", s.secretsPage)
	merchant.GET("/secrets/:kid", s.secretPermissions)

	accountManager := merchant.Group("", s.requireKeyManager)
	accountManager.GET("/accounts/new", s.newAccountForm)
	accountManager.POST("/accounts", s.createAccount)
	accountManager.POST("/secrets/:kid/revoke", s.revokeSecret)

	account := merchant.Group("/accounts/:id", s.loadAccount)
	account.GET("/keys", s.keysPage)
	account.GET("/keys/section", s.keySection)
	account.GET("/tokens", s.tokensPage)
	account.GET("/auths", s.authsPage)
	account.GET("/shipments", s.shipmentsPage)
	account.GET("/shipments/:sid", s.shipmentDetail)

	keyManager := account.Group("", s.requireKeyManager)
	keyManager.POST("/disable", s.disableAccount)
	keyManager.POST("/enable", s.enableAccount)
	keyManager.GET("/delete", s.deleteAccountForm)
	keyManager.POST("/delete", s.deleteAccount)
	keyManager.GET("/auths/new", s.newAuthForm)
	keyManager.GET("/auths/fields", s.courierFields)
	keyManager.POST("/auths", s.registerAuth)
	keyManager.POST("/auths/:aid/reveal", s.revealAuthSecret)
	keyManager.POST("/auths/:aid/delete", s.deleteAuth)
	keyManager.GET("/keys/manage", s.manageKeys)
	keyManager.GET("/keys/new", s.newKeyForm)
	keyManager.POST("/keys", s.createKey)
	keyManager.POST("/keys/:kid/revoke", s.revokeKey)
	keyManager.GET("/requests/new", s.newRequestForm)
	keyManager.POST("/requests", s.fileRequest)
	keyManager.POST("/requests/:rid/reply", s.replyToRequest)
	keyManager.POST("/requests/:rid/cancel", s.cancelRequest)
	keyManager.POST("/requests/:rid/issue", s.issueLiveKey)

	admin := e.Group("/admin", s.requireAdmin)
	admin.GET("/merchants", s.merchantsPage)
	admin.GET("/requests", s.requestQueue)
	admin.GET("/requests/:rid", s.requestDetail)
	admin.POST("/requests/:rid/approve", s.approveRequest)
	admin.POST("/requests/:rid/reject", s.rejectRequest)
	admin.POST("/requests/:rid/ask", s.askForInfo)
	admin.GET("/settings", s.settingsPage)
	admin.POST("/settings", s.saveSettings)
}
