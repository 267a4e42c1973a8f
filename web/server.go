// Package web is Keyport's HTTP layer: the Echo app, its middleware, the portal
// handlers and the error mapping.
package web

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/gorilla/securecookie"
	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
)

// Config is what the HTTP layer needs to know about its deployment.
type Config struct {
	// BaseURL is the public URL of the portal; https turns on Secure cookies and HSTS.
	BaseURL *url.URL
	// TrustedProxies are the networks whose X-Forwarded-For is believed; empty means none.
	TrustedProxies []*net.IPNet
	// SessionKey signs session cookies (at least 32 bytes).
	SessionKey []byte
	// IdleTimeout ends sessions unused for this long.
	IdleTimeout time.Duration
	// SessionLifetime ends sessions this long after sign-in.
	SessionLifetime time.Duration
	// Logger receives one line per request and every server error.
	Logger *slog.Logger
	// APIRateLimit is the number of /v1 calls per second allowed to each key; 0 means no limit.
	APIRateLimit int
	// Metrics turns on the Prometheus metrics that MetricsHandler serves.
	Metrics bool
	// Mailer sends the outbox's email; nil holds every message as "not sent: no SMTP configured".
	Mailer Mailer
	// PasswordCost is the argon2id work of each new password hash; zero means
	// keyport.DefaultPasswordCost, the only cost the keyport command uses.
	PasswordCost keyport.PasswordCost
	// WebhookAllowHTTP accepts http:// webhook endpoints, for development.
	WebhookAllowHTTP bool
	// WebhookAllowPrivate lets deliveries reach loopback, private and
	// link-local addresses, for development and tests.
	WebhookAllowPrivate bool
}

// Server is the Keyport HTTP application.
type Server struct {
	echo     *echo.Echo
	db       *store.DB
	sessions *store.SessionStore
	log      *slog.Logger
	throttle *keyport.LoginThrottle
	// resetThrottle limits password reset requests per email and client IP.
	resetThrottle *keyport.LoginThrottle
	// mailThrottle limits sign-ups per client IP, and the messages a sign-up or a resend sends to one email.
	mailThrottle *keyport.LoginThrottle
	// inviteThrottle limits invitations per merchant and per client IP.
	inviteThrottle *keyport.LoginThrottle
	// leakThrottle limits leak reports per client IP.
	leakThrottle *keyport.LoginThrottle
	// mailer is nil when no SMTP server is configured.
	mailer     Mailer
	secure     bool
	cookieName string
	// flashCookie names the signed cookie that carries flashes to the next page.
	flashCookie string
	flashCodec  *securecookie.SecureCookie
	// deviceCookie names the long-lived cookie that tells a browser the user signed in from before.
	deviceCookie string
	// csrfCookie names the cookie that a signed-out visitor's CSRF token is bound to.
	csrfCookie string
	// csrfKey signs CSRF tokens.
	csrfKey []byte
	// secondStepCookie names the short-lived cookie of a sign-in that waits for
	// its second factor, signed by secondStepCodec.
	secondStepCookie     string
	secondStepCodec      *securecookie.SecureCookie
	secondFactorThrottle *keyport.LoginThrottle
	// webauthn is the relying party of passkeys; nil when the public URL is an IP address.
	webauthn *webauthn.WebAuthn
	// userHandleKey derives users' opaque WebAuthn handles from their ids.
	userHandleKey []byte
	// ceremonyCookie names the cookie of a passkey ceremony in progress, signed by secondStepCodec.
	ceremonyCookie string
	// baseURL is the portal's public URL, for links sent outside it.
	baseURL  string
	verifier *keyport.Verifier
	usage    *keyport.UsageRecorder
	limiter  *keyport.RateLimiter
	catalog  catalog
	// metrics is nil when Config.Metrics is off.
	metrics *metrics
	// openAPIDoc is the OpenAPI document of the /v1 API, built once.
	openAPIDoc func() ([]byte, error)
	// passwordCost is the work of each new password hash and of a login that names no user.
	passwordCost keyport.PasswordCost
	// webhookClient sends webhook deliveries.
	webhookClient *http.Client
	// webhookAllowHTTP accepts http:// endpoints.
	webhookAllowHTTP bool
}

// New builds the Echo app with every route and middleware.
func New(db *store.DB, cfg Config) *Server {
	secure := cfg.BaseURL != nil && cfg.BaseURL.Scheme == "https"
	logger := cfg.Logger
	if logger == nil {
		logger = slog.Default()
	}
	s := &Server{
		echo:                 echo.New(),
		db:                   db,
		sessions:             db.NewSessionStore(cfg.SessionKey, cfg.IdleTimeout, cfg.SessionLifetime, secure),
		log:                  logger,
		throttle:             keyport.NewLoginThrottle(),
		resetThrottle:        keyport.NewResetThrottle(),
		mailThrottle:         keyport.NewResetThrottle(),
		inviteThrottle:       keyport.NewInviteThrottle(),
		leakThrottle:         keyport.NewLeakThrottle(),
		mailer:               cfg.Mailer,
		verifier:             keyport.NewVerifier(db),
		usage:                keyport.NewUsageRecorder(db),
		limiter:              keyport.NewRateLimiter(cfg.APIRateLimit),
		secure:               secure,
		cookieName:           "keyport_session",
		flashCookie:          "keyport_flash",
		deviceCookie:         "keyport_device",
		csrfCookie:           "keyport_csrf",
		secondStepCookie:     "keyport_2fa",
		secondStepCodec:      securecookie.New(cfg.SessionKey, nil).MaxAge(int(keyport.SecondFactorTTL / time.Second)),
		secondFactorThrottle: keyport.NewSecondFactorThrottle(),
		webauthn:             newWebAuthn(cfg.BaseURL),
		userHandleKey:        deriveKey(cfg.SessionKey, "keyport webauthn user handle v1"),
		ceremonyCookie:       "keyport_webauthn",
		csrfKey:              deriveKey(cfg.SessionKey, "keyport csrf token v1"),
		flashCodec:           securecookie.New(cfg.SessionKey, nil).MaxAge(int(flashMaxAge / time.Second)),
		passwordCost:         cfg.PasswordCost,
		webhookClient:        newWebhookClient(cfg.WebhookAllowPrivate),
		webhookAllowHTTP:     cfg.WebhookAllowHTTP,
	}
	s.openAPIDoc = sync.OnceValues(s.buildOpenAPI)
	if cfg.Metrics {
		s.metrics = newMetrics(s)
		s.usage = keyport.NewUsageRecorder(timedUsage{db: db, m: s.metrics})
	}
	if secure {
		s.cookieName = "__Host-keyport_session"
		s.flashCookie = "__Host-keyport_flash"
		s.deviceCookie = "__Host-keyport_device"
		s.csrfCookie = "__Host-keyport_csrf"
		s.secondStepCookie = "__Secure-keyport_2fa"
		s.ceremonyCookie = "__Host-keyport_webauthn"
	}
	if cfg.BaseURL != nil {
		s.baseURL = strings.TrimSuffix(cfg.BaseURL.String(), "/")
	}
	s.echo.HideBanner = true
	s.echo.HidePort = true
	s.echo.HTTPErrorHandler = s.handleError
	s.echo.IPExtractor = ipExtractor(cfg.TrustedProxies)
	s.routes()
	return s
}

// ServeHTTP lets the Server be used as an http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Echo returns the underlying Echo app, for tests that walk its routes.
func (s *Server) Echo() *echo.Echo { return s.echo }

// MetricsHandler serves the Prometheus metrics, or is nil when Config.Metrics
// is off. Serve it on an address of its own: the app never routes to it.
func (s *Server) MetricsHandler() http.Handler {
	if s.metrics == nil {
		return nil
	}
	return s.metrics.handler()
}

// SweepExpiredKeys writes the audit event and the email of every key whose
// expiry has passed, and the reminders of the keys about to expire, at once
// and then every interval, until ctx ends. Run it in the
// background and wait for it before closing the database.
func (s *Server) SweepExpiredKeys(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		n, err := s.db.LogExpiredKeys(ctx)
		if ctx.Err() != nil {
			return
		}
		if reminded, rerr := s.db.SendExpiryReminders(ctx); rerr != nil && ctx.Err() == nil {
			s.log.Error("send key expiry reminders", "err", rerr)
		} else if reminded > 0 {
			s.log.Info("key expiry reminders written", "count", reminded)
		}
		s.metrics.expirySwept(n, err)
		if err != nil {
			s.log.Error("log expired keys", "err", err)
		} else if n > 0 {
			s.log.Info("keys expired", "count", n)
		}
	})
}

// PurgeStoredAnswers deletes the answers kept for Idempotency-Key retries
// once they are older than keyport.IdempotencyWindow, at once and then every
// interval, until ctx ends. Run it in the background and wait for it before
// closing the database.
func (s *Server) PurgeStoredAnswers(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		n, err := s.db.PurgeIdempotencyKeys(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("purge stored answers", "err", err)
		} else if n > 0 {
			s.log.Info("stored answers purged", "count", n)
		}
	})
}

// PurgeSentMessages deletes the outbox messages sent more than
// keyport.OutboxKeepSent ago, at once and then every interval, until ctx
// ends. Run it in the background and wait for it before closing the database.
func (s *Server) PurgeSentMessages(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		n, err := s.db.PurgeSentMessages(ctx, s.db.Now().Add(-keyport.OutboxKeepSent))
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("purge sent messages", "err", err)
		} else if n > 0 {
			s.log.Info("sent messages purged", "count", n)
		}
	})
}

// SweepSessions deletes the sessions past their lifetime, at once and then
// every interval, until ctx ends. Run it in the background and wait for it
// before closing the database.
func (s *Server) SweepSessions(ctx context.Context, interval time.Duration) {
	every(ctx, interval, func() {
		n, err := s.sessions.DeleteExpired(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s.log.Error("delete expired sessions", "err", err)
		} else if n > 0 {
			s.log.Info("expired sessions deleted", "count", n)
		}
	})
}

// every runs fn at once and then every interval until ctx ends.
func every(ctx context.Context, interval time.Duration, fn func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		fn()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Usage returns the recorder of API key usage, which the caller flushes
// periodically and at shutdown.
func (s *Server) Usage() *keyport.UsageRecorder { return s.usage }

// Throttle returns the login throttle, whose limits tests may raise before
// serving requests.
func (s *Server) Throttle() *keyport.LoginThrottle { return s.throttle }

// KeepReplicaShare keeps the per-key /v1 rate limit of this replica at its
// share among the replicas running on the same database: it heartbeats as
// replicaID every interval until ctx ends, then leaves. Run it in the
// background and wait for it before closing the database.
func (s *Server) KeepReplicaShare(ctx context.Context, replicaID string, every time.Duration) {
	s.limiter.FollowReplicas(ctx, s.db, replicaID, every, s.log)
}

func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Now is the server's clock: the store's, so that what pages show and what
// the store writes and compares never disagree.
func (s *Server) Now() time.Time { return s.db.Now() }
