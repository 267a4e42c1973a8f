package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"keyport"
	"keyport/store"
	"keyport/web"
)

// sessionKeySize is the length in bytes of the key that signs session cookies.
const sessionKeySize = 64

// config is the validated configuration of one command.
type config struct {
	Addr    string
	DataDir string
	// DatabaseURL is the PostgreSQL database to use; empty means the SQLite file in DataDir.
	DatabaseURL     string
	BaseURL         *url.URL
	LogFormat       string
	TrustedProxies  []*net.IPNet
	IdleTimeout     time.Duration
	SessionLifetime time.Duration
	Demo            bool
	// EncryptionKey encrypts courier secrets at rest; nil means the key file in DataDir.
	EncryptionKey []byte
	// SessionKey signs session cookies; nil means the key file in DataDir.
	SessionKey []byte
	// APIRateLimit is the number of /v1 calls per second allowed to each key; 0 means no limit.
	APIRateLimit int
	// UsageFlushInterval is how often API key usage is written to the database.
	UsageFlushInterval time.Duration
	// MetricsAddr is the host:port serving Prometheus metrics; empty means no metrics.
	MetricsAddr string
	// Mailer sends email through KEYPORT_SMTP_URL; nil when none is configured.
	Mailer *web.SMTPMailer
	// WebhookAllowHTTP accepts http:// webhook endpoints (KEYPORT_WEBHOOK_ALLOW_HTTP), for development.
	WebhookAllowHTTP bool
	// WebhookAllowPrivate lets webhook deliveries reach internal addresses (KEYPORT_WEBHOOK_ALLOW_PRIVATE).
	WebhookAllowPrivate bool
}

// rawConfig holds the flag values before validation; each defaults to its
// environment variable. The keys come from the environment only: a flag would
// show them to every user of the machine in the process list.
type rawConfig struct {
	addr, data, databaseURL, baseURL, logFormat, trustedProxies string
	idle, lifetime                                              string
	rateLimit, usageFlush, metricsAddr                          string
	mailFrom                                                    string
	smtpURL                                                     string
	encryptionKey, sessionKey                                   string
	webhookAllowHTTP, webhookAllowPrivate                       string
	demo                                                        bool
	// needsKeys is set for the commands that seal courier secrets or sign
	// cookies, which on PostgreSQL must be given both keys.
	needsKeys bool
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}

func bindConfigFlags(fs *flag.FlagSet) *rawConfig {
	r := &rawConfig{}
	fs.StringVar(&r.addr, "addr", envOr("KEYPORT_ADDR", "127.0.0.1:8080"), "listen address host:port (KEYPORT_ADDR)")
	fs.StringVar(&r.data, "data", envOr("KEYPORT_DATA", "./data"), "data directory for the database and generated secrets (KEYPORT_DATA)")
	fs.StringVar(&r.databaseURL, "database-url", envOr("KEYPORT_DATABASE_URL", ""), "PostgreSQL URL, like postgres://user:pass@host/keyport?sslmode=verify-full; empty uses the SQLite file in the data directory (KEYPORT_DATABASE_URL)")
	fs.StringVar(&r.baseURL, "base-url", envOr("KEYPORT_BASE_URL", ""), "public URL of the portal, default http://ADDR (KEYPORT_BASE_URL)")
	fs.StringVar(&r.logFormat, "log-format", envOr("KEYPORT_LOG_FORMAT", "text"), "log format: text or json (KEYPORT_LOG_FORMAT)")
	fs.StringVar(&r.trustedProxies, "trusted-proxies", envOr("KEYPORT_TRUSTED_PROXIES", ""), "comma-separated IPs or CIDRs whose X-Forwarded-For is trusted; empty trusts none (KEYPORT_TRUSTED_PROXIES)")
	fs.StringVar(&r.idle, "idle-timeout", envOr("KEYPORT_IDLE_TIMEOUT", "30m"), "session idle timeout (KEYPORT_IDLE_TIMEOUT)")
	fs.StringVar(&r.lifetime, "session-lifetime", envOr("KEYPORT_SESSION_LIFETIME", "12h"), "session absolute lifetime (KEYPORT_SESSION_LIFETIME)")
	fs.StringVar(&r.rateLimit, "api-rate-limit", envOr("KEYPORT_API_RATE_LIMIT", "0"), "/v1 calls per second allowed to each API key, 0 for no limit (KEYPORT_API_RATE_LIMIT)")
	fs.StringVar(&r.usageFlush, "usage-flush", envOr("KEYPORT_USAGE_FLUSH", "5s"), "how often API key usage is written to the database, at most 10s (KEYPORT_USAGE_FLUSH)")
	fs.StringVar(&r.metricsAddr, "metrics-addr", envOr("KEYPORT_METRICS_ADDR", ""), "host:port serving Prometheus metrics at /metrics, apart from the portal, like 127.0.0.1:9464; empty serves none (KEYPORT_METRICS_ADDR)")
	fs.StringVar(&r.mailFrom, "mail-from", envOr("KEYPORT_MAIL_FROM", ""), "sender of Keyport's email, like \"Keyport <keys@example.com>\" (KEYPORT_MAIL_FROM)")
	r.smtpURL = os.Getenv("KEYPORT_SMTP_URL")
	r.webhookAllowHTTP = os.Getenv("KEYPORT_WEBHOOK_ALLOW_HTTP")
	r.webhookAllowPrivate = os.Getenv("KEYPORT_WEBHOOK_ALLOW_PRIVATE")
	r.encryptionKey = os.Getenv("KEYPORT_ENCRYPTION_KEY")
	r.sessionKey = os.Getenv("KEYPORT_SESSION_KEY")
	return r
}

func (r *rawConfig) validate() (config, error) {
	c := config{Addr: r.addr, DataDir: r.data, DatabaseURL: r.databaseURL, LogFormat: r.logFormat, Demo: r.demo, MetricsAddr: r.metricsAddr}
	var problems []string
	if _, port, err := net.SplitHostPort(r.addr); err != nil || port == "" {
		problems = append(problems, fmt.Sprintf("KEYPORT_ADDR %q must be host:port, like 127.0.0.1:8080", r.addr))
	}
	if r.metricsAddr != "" {
		if _, port, err := net.SplitHostPort(r.metricsAddr); err != nil || port == "" {
			problems = append(problems, fmt.Sprintf("KEYPORT_METRICS_ADDR %q must be host:port, like 127.0.0.1:9464, or empty for no metrics", r.metricsAddr))
		} else if r.metricsAddr == r.addr && port != "0" {
			problems = append(problems, fmt.Sprintf("KEYPORT_METRICS_ADDR %q must differ from KEYPORT_ADDR: metrics are never served on the portal's address", r.metricsAddr))
		}
	}
	if strings.TrimSpace(r.data) == "" {
		problems = append(problems, "KEYPORT_DATA must name a directory")
	}
	base := r.baseURL
	if base == "" {
		base = "http://" + r.addr
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		problems = append(problems, fmt.Sprintf("KEYPORT_BASE_URL %q must be an absolute http(s) URL without a path, like https://keys.example.com", base))
	} else {
		u.Path = ""
		c.BaseURL = u
	}
	if r.logFormat != "text" && r.logFormat != "json" {
		problems = append(problems, fmt.Sprintf("KEYPORT_LOG_FORMAT %q must be text or json", r.logFormat))
	}
	for _, item := range strings.Split(r.trustedProxies, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		if !strings.Contains(item, "/") {
			if ip := net.ParseIP(item); ip != nil && ip.To4() != nil {
				item += "/32"
			} else {
				item += "/128"
			}
		}
		_, n, err := net.ParseCIDR(item)
		if err != nil {
			problems = append(problems, fmt.Sprintf("KEYPORT_TRUSTED_PROXIES entry %q is not an IP address or CIDR", item))
			continue
		}
		c.TrustedProxies = append(c.TrustedProxies, n)
	}
	if c.IdleTimeout, err = time.ParseDuration(r.idle); err != nil || c.IdleTimeout <= 0 {
		problems = append(problems, fmt.Sprintf("KEYPORT_IDLE_TIMEOUT %q must be a positive duration, like 30m", r.idle))
	}
	if c.SessionLifetime, err = time.ParseDuration(r.lifetime); err != nil || c.SessionLifetime <= 0 {
		problems = append(problems, fmt.Sprintf("KEYPORT_SESSION_LIFETIME %q must be a positive duration, like 12h", r.lifetime))
	}
	if r.rateLimit == "" {
		r.rateLimit = "0"
	}
	if r.usageFlush == "" {
		r.usageFlush = "5s"
	}
	if c.APIRateLimit, err = strconv.Atoi(r.rateLimit); err != nil || c.APIRateLimit < 0 || c.APIRateLimit > 1_000_000 {
		problems = append(problems, fmt.Sprintf("KEYPORT_API_RATE_LIMIT %q must be a whole number of calls per second per key, 0 for no limit", r.rateLimit))
	}
	if c.UsageFlushInterval, err = time.ParseDuration(r.usageFlush); err != nil || c.UsageFlushInterval <= 0 || c.UsageFlushInterval > 10*time.Second {
		problems = append(problems, fmt.Sprintf("KEYPORT_USAGE_FLUSH %q must be a duration from 1ms to 10s, like 5s", r.usageFlush))
	}
	for _, flag := range []struct {
		name, value string
		to          *bool
	}{{"KEYPORT_WEBHOOK_ALLOW_HTTP", r.webhookAllowHTTP, &c.WebhookAllowHTTP}, {"KEYPORT_WEBHOOK_ALLOW_PRIVATE", r.webhookAllowPrivate, &c.WebhookAllowPrivate}} {
		if flag.value == "" {
			continue
		}
		if *flag.to, err = strconv.ParseBool(flag.value); err != nil {
			problems = append(problems, fmt.Sprintf("%s %q must be true or false", flag.name, flag.value))
		}
	}
	if r.databaseURL != "" {
		if msg := checkDatabaseURL(r.databaseURL); msg != "" {
			problems = append(problems, msg)
		}
	}
	if r.smtpURL != "" {
		if c.Mailer, err = web.NewSMTPMailer(r.smtpURL, r.mailFrom); err != nil {
			problems = append(problems, "KEYPORT_SMTP_URL "+err.Error())
		}
	}
	if r.encryptionKey != "" {
		if c.EncryptionKey, err = keyport.ParseEncryptionKey(r.encryptionKey); err != nil {
			problems = append(problems, "KEYPORT_ENCRYPTION_KEY "+err.Error())
		}
	}
	if r.sessionKey != "" {
		if c.SessionKey, err = parseSessionKey(r.sessionKey); err != nil {
			problems = append(problems, "KEYPORT_SESSION_KEY "+err.Error())
		}
	}
	if r.databaseURL != "" && r.needsKeys && r.encryptionKey == "" {
		problems = append(problems, "KEYPORT_ENCRYPTION_KEY is required with KEYPORT_DATABASE_URL: every replica must seal "+
			"courier secrets with the same key, and a key generated per replica would leave one replica unable to read "+
			"the secrets another sealed (generate one with: openssl rand -hex 32)")
	}
	if r.databaseURL != "" && r.needsKeys && r.sessionKey == "" {
		problems = append(problems, "KEYPORT_SESSION_KEY is required with KEYPORT_DATABASE_URL: every replica must sign "+
			"session cookies with the same key, and a key generated per replica would sign users out whenever the load "+
			"balancer sends them to another replica (generate one with: openssl rand -hex 64)")
	}
	if len(problems) > 0 {
		return c, fmt.Errorf("invalid configuration:\n  %s", strings.Join(problems, "\n  "))
	}
	return c, nil
}

// checkDatabaseURL returns what is wrong with a KEYPORT_DATABASE_URL, or "".
// The message shows a PostgreSQL URL with its password masked, and any other
// text not at all, since it may be a connection string holding a password.
func checkDatabaseURL(text string) string {
	if !store.IsPostgres(text) {
		return "KEYPORT_DATABASE_URL must start with postgres:// or postgresql:// " +
			"(leave it empty to use the SQLite file in KEYPORT_DATA)"
	}
	if _, err := pgconn.ParseConfig(text); err != nil {
		return fmt.Sprintf("KEYPORT_DATABASE_URL %s is not a PostgreSQL connection URL, like "+
			"postgres://user:password@host:5432/keyport?sslmode=verify-full (percent-encode special characters "+
			"in the user name and password)", store.RedactURL(text))
	}
	return ""
}

// parseSessionKey reads a sessionKeySize-byte key written as hex or as
// standard or URL-safe base64.
func parseSessionKey(text string) ([]byte, error) {
	if b, ok := keyport.ParseKeyText(text, sessionKeySize); ok {
		return b, nil
	}
	return nil, errors.New("must be 64 bytes written as 128 hex characters or base64 (generate one with: openssl rand -hex 64)")
}
