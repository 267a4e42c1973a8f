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

	admin := e.Group("/admin", s.requireAdmin)
	admin.GET("/merchants", s.merchantsPage)
}
