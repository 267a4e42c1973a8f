// Command keyport runs the Keyport portal and its shipping API, and its
// maintenance commands: migrate, admin create and backup.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"keyport"
	"keyport/static"
	"keyport/store"
	"keyport/web"
)

const usage = `Usage: keyport <command> [flags]

Commands:
  serve                  start the portal and the /v1 API (flag --demo seeds demo data on an empty database)
  migrate                apply database migrations and exit
  admin create --email E create a platform admin and print its generated password once
  admin reset-2fa --email E
                         remove the second factors of a user (an admin who lost theirs) and end their sessions
  backup PATH            write a consistent copy of the SQLite database to the new file PATH,
                         also while the server is running (on PostgreSQL use pg_dump -Fc)

The database is the SQLite file in --data (KEYPORT_DATA), or the PostgreSQL
database of --database-url (KEYPORT_DATABASE_URL).

Run "keyport <command> -h" for the flags of a command.
`

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	var err error
	switch args[0] {
	case "serve":
		err = serve(ctx, args[1:], stdout, stderr)
	case "migrate":
		err = migrate(ctx, args[1:], stdout, stderr)
	case "admin":
		switch {
		case len(args) >= 2 && args[1] == "create":
			err = adminCreate(ctx, args[2:], stdout, stderr)
		case len(args) >= 2 && args[1] == "reset-2fa":
			err = adminResetTwoFactor(ctx, args[2:], stdout, stderr)
		default:
			fmt.Fprint(stderr, usage)
			return 2
		}
	case "backup":
		err = backup(ctx, args[1:], stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "keyport: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "keyport: %v\n", err)
		return 1
	}
	return 0
}

func parseConfig(name string, args []string, stderr io.Writer, extra func(*flag.FlagSet)) (config, error) {
	cfg, _, err := parseCommand(name, args, 0, stderr, extra)
	return cfg, err
}

// parseCommand parses the flags of a command that takes exactly positional
// arguments, which may stand before, between or after the flags.
func parseCommand(name string, args []string, positional int, stderr io.Writer, extra func(*flag.FlagSet)) (config, []string, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	raw := bindConfigFlags(fs)
	if name == "serve" {
		raw.needsKeys = true
		fs.BoolVar(&raw.demo, "demo", false, "on an empty database, create a demo admin and merchant and print their passwords")
	}
	if extra != nil {
		extra(fs)
	}
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return config{}, nil, err
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(rest) > positional {
		return config{}, nil, fmt.Errorf("unexpected argument %q", rest[positional])
	}
	if len(rest) < positional {
		return config{}, nil, fmt.Errorf("%s needs %d argument(s); run \"keyport %s -h\"", name, positional, name)
	}
	cfg, err := raw.validate()
	return cfg, rest, err
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// openData opens the database with opts and migrates it: the PostgreSQL
// database of cfg.DatabaseURL, or else the SQLite file in the data directory,
// created with the directory if needed.
func openData(ctx context.Context, cfg config, opts store.Options) (*store.DB, []string, error) {
	target := cfg.DatabaseURL
	if target == "" {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, nil, fmt.Errorf("create data directory: %w", err)
		}
		target = filepath.Join(cfg.DataDir, store.FileName)
		if err := store.CreatePrivateFile(target); err != nil {
			return nil, nil, fmt.Errorf("create database file: %w", err)
		}
	}
	db, err := store.Open(target, opts)
	if err != nil {
		return nil, nil, err
	}
	applied, err := db.Migrate(ctx)
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return db, applied, nil
}

func migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("migrate", args, stderr, nil)
	if err != nil {
		return err
	}
	db, applied, err := openData(ctx, cfg, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	if len(applied) == 0 {
		fmt.Fprintln(stdout, "database is up to date")
	}
	for _, name := range applied {
		fmt.Fprintln(stdout, "applied", name)
	}
	return nil
}

func adminCreate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var email, name string
	cfg, err := parseConfig("admin create", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email of the new admin (required)")
		fs.StringVar(&name, "name", "Platform admin", "display name of the new admin")
	})
	if err != nil {
		return err
	}
	email = keyport.NormalizeEmail(email)
	if msg := keyport.CheckEmail(email); msg != "" {
		return fmt.Errorf("--email: %s", msg)
	}
	if msg := keyport.CheckName(name, "--name"); msg != "" {
		return errors.New(msg)
	}
	db, _, err := openData(ctx, cfg, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	password, err := keyport.GeneratePassword()
	if err != nil {
		return err
	}
	hash, err := keyport.HashPassword(password)
	if err != nil {
		return err
	}
	if _, err := db.CreateAdmin(ctx, name, email, hash); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Created admin %s\nPassword (shown once, store it now): %s\n", email, password)
	return nil
}

// adminResetTwoFactor removes the authenticator app and recovery codes of the
// user of --email and ends their sessions: the way back in for an admin who
// lost them (other admins reset merchants' users from the portal).
func adminResetTwoFactor(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var email string
	cfg, err := parseConfig("admin reset-2fa", args, stderr, func(fs *flag.FlagSet) {
		fs.StringVar(&email, "email", "", "email of the user (required)")
	})
	if err != nil {
		return err
	}
	email = keyport.NormalizeEmail(email)
	if msg := keyport.CheckEmail(email); msg != "" {
		return fmt.Errorf("--email: %s", msg)
	}
	db, _, err := openData(ctx, cfg, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	u, err := db.UserByEmail(ctx, email)
	if errors.Is(err, keyport.ErrNotFound) {
		return fmt.Errorf("no user has the email %s", email)
	}
	if err != nil {
		return err
	}
	err = db.ResetTwoFactor(ctx, keyport.Actor{Label: "keyport admin reset-2fa"}, u)
	if errors.Is(err, keyport.ErrNotFound) {
		return fmt.Errorf("%s has no two-factor authentication to reset", email)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Reset the two-factor authentication of %s and ended their sessions.\n"+
		"They sign in with their password and set up an authenticator app again.\n", email)
	return nil
}

// backup writes a consistent copy of the live SQLite database to a new file
// while the server may keep serving and writing. On PostgreSQL it refuses and
// points to the database's own tools.
func backup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, rest, err := parseCommand("backup", args, 1, stderr, nil)
	if err != nil {
		return err
	}
	if cfg.DatabaseURL != "" {
		return store.ErrBackupPostgres
	}
	target := rest[0]
	source := filepath.Join(cfg.DataDir, store.FileName)
	if _, err := os.Stat(source); err != nil {
		return fmt.Errorf("no database to back up: %w", err)
	}
	db, err := store.Open(source, store.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	size, err := db.Backup(ctx, target)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Wrote a consistent copy of %s to %s (%d bytes, mode 0600).\n", source, target, size)
	key := filepath.Join(cfg.DataDir, "encryption.key")
	if cfg.EncryptionKey != nil {
		key = "KEYPORT_ENCRYPTION_KEY"
	}
	fmt.Fprintf(stdout, "Keep %s with it: without it the registered auths' secrets cannot be read.\n", key)
	return nil
}

func serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseConfig("serve", args, stderr, nil)
	if err != nil {
		return err
	}
	logger := newLogger(cfg.LogFormat, stderr)
	sealer, err := openSealer(cfg)
	if err != nil {
		return err
	}
	db, applied, err := openData(ctx, cfg, store.Options{Sealer: sealer})
	if err != nil {
		return err
	}
	defer db.Close()
	for _, name := range applied {
		logger.Info("applied migration", "name", name)
	}
	if err := db.WarmPool(ctx); err != nil {
		logger.Warn("connection pool not warmed", "err", err)
	}
	sessionKey, err := openSessionKey(cfg)
	if err != nil {
		return err
	}
	var demo *demoLogins
	if cfg.Demo {
		if demo, err = seedDemo(ctx, db); err != nil {
			return fmt.Errorf("demo data: %w", err)
		}
	}
	srv := web.New(db, web.Config{
		BaseURL:             cfg.BaseURL,
		TrustedProxies:      cfg.TrustedProxies,
		SessionKey:          sessionKey,
		IdleTimeout:         cfg.IdleTimeout,
		SessionLifetime:     cfg.SessionLifetime,
		Logger:              logger,
		APIRateLimit:        cfg.APIRateLimit,
		Metrics:             cfg.MetricsAddr != "",
		Mailer:              mailer(cfg, demo != nil),
		WebhookAllowHTTP:    cfg.WebhookAllowHTTP,
		WebhookAllowPrivate: cfg.WebhookAllowPrivate,
	})
	static.Prepare()
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	var metricsLn net.Listener
	if cfg.MetricsAddr != "" {
		if metricsLn, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			ln.Close()
			return fmt.Errorf("metrics listener: %w", err)
		}
	}
	httpServer := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	printWelcome(stdout, cfg, ln.Addr().String(), demo)
	if metricsLn != nil {
		fmt.Fprintf(stdout, "Prometheus metrics at http://%s/metrics\n", metricsLn.Addr())
	}
	switch {
	case cfg.Mailer != nil:
		fmt.Fprintf(stdout, "Email is sent through the SMTP server at %s\n", cfg.Mailer.Address())
	case demo != nil && cfg.DatabaseURL == "":
		fmt.Fprintf(stdout, "No SMTP server configured (KEYPORT_SMTP_URL): the demo writes each email (invitations, password resets) as a file into %s\n", demoMailDir(cfg))
	default:
		fmt.Fprintln(stdout, "No SMTP server configured (KEYPORT_SMTP_URL): email is kept unsent in the outbox, listed to admins at /admin/outbox")
	}

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 2)
	go func() { errc <- httpServer.Serve(ln) }()
	metricsServer := newMetricsServer(srv.MetricsHandler(), logger)
	if metricsLn != nil {
		go func() { errc <- metricsServer.Serve(metricsLn) }()
	}
	background, stopBackground := context.WithCancel(ctx)
	var jobs sync.WaitGroup
	jobs.Go(func() { srv.SweepExpiredKeys(background, time.Minute) })
	jobs.Go(func() { srv.PurgeStoredAnswers(background, time.Hour) })
	jobs.Go(func() { srv.SweepSessions(background, time.Hour) })
	jobs.Go(func() { srv.DeliverMessages(background, time.Second) })
	jobs.Go(func() { srv.DeliverWebhooks(background, time.Second) })
	jobs.Go(func() { srv.PurgeSentMessages(background, time.Hour) })
	jobs.Go(func() { srv.Usage().FlushEvery(background, cfg.UsageFlushInterval, logger) })
	if db.Engine() == store.Postgres {
		jobs.Go(func() { db.FollowKeyChanges(background, 0, logger) })
		if cfg.APIRateLimit > 0 {
			jobs.Go(func() { srv.KeepReplicaShare(background, keyport.NewReplicaID(), 5*time.Second) })
		}
	}
	select {
	case err = <-errc:
		httpServer.Close()
	case <-ctx.Done():
		logger.Info("shutting down")
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err = httpServer.Shutdown(shutdownCtx)
	}
	if metricsLn != nil {
		closeCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = metricsServer.Shutdown(closeCtx)
		cancel()
	}
	stopBackground()
	jobs.Wait()
	if ferr := srv.Usage().Flush(context.Background()); ferr != nil {
		logger.Error("flush key usage at shutdown", "err", ferr, "calls_lost", srv.Usage().Pending())
		err = errors.Join(err, ferr)
	}
	return err
}

// mailer is the configured SMTP mailer; without one, a demo on SQLite
// writes its email as files into the data directory's mail folder
// (demoMailDir), and any other server has none: its messages wait in the
// outbox. On PostgreSQL the data directory is never written.
func mailer(cfg config, demo bool) web.Mailer {
	switch {
	case cfg.Mailer != nil:
		return cfg.Mailer
	case demo && cfg.DatabaseURL == "":
		return web.DirMailer{Dir: demoMailDir(cfg)}
	}
	return nil
}

// demoMailDir is where a demo without SMTP writes its email.
func demoMailDir(cfg config) string { return filepath.Join(cfg.DataDir, "mail") }

// openSealer returns the Sealer for courier secrets: from KEYPORT_ENCRYPTION_KEY,
// or from the key file generated into the data directory on first start.
func openSealer(cfg config) (*keyport.Sealer, error) {
	key := cfg.EncryptionKey
	if key == nil {
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return nil, fmt.Errorf("create data directory: %w", err)
		}
		var err error
		if key, err = store.LoadOrCreateSecret(filepath.Join(cfg.DataDir, "encryption.key"), keyport.EncryptionKeySize); err != nil {
			return nil, fmt.Errorf("encryption key: %w", err)
		}
	}
	return keyport.NewSealer(key)
}

// openSessionKey returns the key that signs session cookies: from
// KEYPORT_SESSION_KEY, or from the key file generated into the data directory
// on first start.
func openSessionKey(cfg config) ([]byte, error) {
	if cfg.SessionKey != nil {
		return cfg.SessionKey, nil
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	key, err := store.LoadOrCreateSecret(filepath.Join(cfg.DataDir, "session.key"), sessionKeySize)
	if err != nil {
		return nil, fmt.Errorf("session key: %w", err)
	}
	return key, nil
}

func printWelcome(w io.Writer, cfg config, listenAddr string, demo *demoLogins) {
	base := cfg.BaseURL.String()
	data := "data in " + cfg.DataDir
	if cfg.DatabaseURL != "" {
		data = "database " + store.RedactURL(cfg.DatabaseURL)
	}
	fmt.Fprintf(w, "Keyport is running at %s (listening on %s, %s)\n", base, listenAddr, data)
	switch {
	case demo != nil && demo.Created:
		fmt.Fprintf(w, "\nDemo logins (passwords are shown only now):\n")
		fmt.Fprintf(w, "  platform admin:  %s  /  %s\n", demo.AdminEmail, demo.AdminPassword)
		fmt.Fprintf(w, "  demo merchant:   %s  /  %s\n", demo.MerchantEmail, demo.MerchantPassword)
		fmt.Fprintf(w, "The platform admin sets up an authenticator app at first sign-in (Platform settings can change who must).\n")
		fmt.Fprintf(w, "\nOr create your own merchant at %s/signup\n", base)
	case demo != nil:
		fmt.Fprintf(w, "The database already has users, so no demo data was added.\n")
		fmt.Fprintf(w, "Log in at %s/login (demo logins: %s, %s; passwords were printed at first start),\n", base, demoAdminEmail, demoMerchantEmail)
		fmt.Fprintf(w, "or create a merchant at %s/signup\n", base)
	default:
		fmt.Fprintf(w, "Create a merchant at %s/signup, or log in at %s/login\n", base, base)
	}
}

// newMetricsServer serves the metrics handler at /metrics and nothing else.
func newMetricsServer(metrics http.Handler, logger *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	if metrics != nil {
		mux.Handle("GET /metrics", metrics)
	}
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}
