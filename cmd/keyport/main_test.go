package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keyport/store"
)

func TestConfigValidation(t *testing.T) {
	cases := []struct {
		name    string
		raw     rawConfig
		wantErr string
	}{
		{"defaults", rawConfig{addr: "127.0.0.1:8080", data: "./data", logFormat: "text", idle: "30m", lifetime: "12h"}, ""},
		{"https base and proxies", rawConfig{addr: ":8080", data: "d", baseURL: "https://keys.example.com", logFormat: "json",
			trustedProxies: "10.0.0.0/8, 127.0.0.1", idle: "5m", lifetime: "1h"}, ""},
		{"bad addr", rawConfig{addr: "localhost", data: "d", logFormat: "text", idle: "1m", lifetime: "1h"}, "KEYPORT_ADDR"},
		{"empty data", rawConfig{addr: ":1", data: " ", logFormat: "text", idle: "1m", lifetime: "1h"}, "KEYPORT_DATA"},
		{"relative base url", rawConfig{addr: ":1", data: "d", baseURL: "keys.example.com", logFormat: "text", idle: "1m", lifetime: "1h"}, "KEYPORT_BASE_URL"},
		{"base url with path", rawConfig{addr: ":1", data: "d", baseURL: "https://x.test/app", logFormat: "text", idle: "1m", lifetime: "1h"}, "KEYPORT_BASE_URL"},
		{"bad log format", rawConfig{addr: ":1", data: "d", logFormat: "xml", idle: "1m", lifetime: "1h"}, "KEYPORT_LOG_FORMAT"},
		{"bad proxy", rawConfig{addr: ":1", data: "d", logFormat: "text", trustedProxies: "not-an-ip", idle: "1m", lifetime: "1h"}, "KEYPORT_TRUSTED_PROXIES"},
		{"bad idle", rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "soon", lifetime: "1h"}, "KEYPORT_IDLE_TIMEOUT"},
		{"zero lifetime", rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "1m", lifetime: "0s"}, "KEYPORT_SESSION_LIFETIME"},
		{"metrics address", rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "1m", lifetime: "1h", metricsAddr: "127.0.0.1:9464"}, ""},
		{"bad metrics address", rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "1m", lifetime: "1h", metricsAddr: "9464"}, "KEYPORT_METRICS_ADDR"},
		{"smtp server", rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "1m", lifetime: "1h", smtpURL: "smtps://u:p@mail.example.com",
			mailFrom: "Keyport <keys@example.com>"}, ""},
		{"smtp without a sender", rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "1m", lifetime: "1h", smtpURL: "smtp://mail.example.com"},
			"KEYPORT_SMTP_URL needs KEYPORT_MAIL_FROM"},
		{"smtp with a web scheme", rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "1m", lifetime: "1h", smtpURL: "https://mail.example.com",
			mailFrom: "keys@example.com"}, "KEYPORT_SMTP_URL must start with smtp://"},
		{"metrics on the portal's address", rawConfig{addr: ":1", data: "d", logFormat: "text", idle: "1m", lifetime: "1h", metricsAddr: ":1"}, "must differ from KEYPORT_ADDR"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.raw.validate()
			if tc.wantErr == "" && err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

func TestEnvironmentConfiguresAndFlagsOverride(t *testing.T) {
	t.Setenv("KEYPORT_LOG_FORMAT", "yaml")
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--data", t.TempDir()}, &bytes.Buffer{}, &stderr); code != 1 {
		t.Fatalf("exit %d with a bad KEYPORT_LOG_FORMAT", code)
	}
	if !strings.Contains(stderr.String(), "KEYPORT_LOG_FORMAT") {
		t.Fatalf("error does not name the variable: %s", stderr.String())
	}
	if code := run(context.Background(), []string{"migrate", "--data", t.TempDir(), "--log-format", "json"}, &bytes.Buffer{}, &stderr); code != 0 {
		t.Fatalf("flag did not override the environment: exit %d: %s", code, stderr.String())
	}
}

func TestMigrateAndAdminCreate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"migrate", "--data", dir}, &out, &errOut); code != 0 {
		t.Fatalf("migrate exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "applied 001_init.sql") {
		t.Fatalf("migrate printed %q", out.String())
	}
	out.Reset()
	if code := run(context.Background(), []string{"migrate", "--data", dir}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "up to date") {
		t.Fatalf("second migrate exit %d printed %q", code, out.String())
	}
	info, err := os.Stat(filepath.Join(dir, "keyport.db"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("database file mode %v (%v)", info.Mode(), err)
	}

	out.Reset()
	if code := run(context.Background(), []string{"admin", "create", "--data", dir, "--email", "Staff@Keyport.test"}, &out, &errOut); code != 0 {
		t.Fatalf("admin create exit %d: %s", code, errOut.String())
	}
	if !strings.Contains(out.String(), "staff@keyport.test") || !strings.Contains(out.String(), "Password (shown once") {
		t.Fatalf("admin create printed %q", out.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"admin", "create", "--data", dir, "--email", "staff@keyport.test"}, &out, &errOut); code == 0 {
		t.Fatal("duplicate admin created")
	}
	if code := run(context.Background(), []string{"admin", "create", "--data", dir, "--email", "not-an-email"}, &out, &errOut); code == 0 {
		t.Fatal("admin with a bad email created")
	}

	db, err := store.Open(filepath.Join(dir, store.FileName), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().Exec(`INSERT INTO totp_secrets (user_id, secret_sealed, created_at, confirmed_at)
		SELECT id, $1, 1, 1 FROM users WHERE email = 'staff@keyport.test'`, []byte{1}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	resets := []struct {
		email string
		ok    bool
		says  string
	}{
		{"Staff@Keyport.test", true, "Reset the two-factor authentication of staff@keyport.test"},
		{"staff@keyport.test", false, "has no two-factor authentication to reset"},
		{"nobody@keyport.test", false, "no user has the email nobody@keyport.test"},
	}
	for _, r := range resets {
		out.Reset()
		errOut.Reset()
		code := run(context.Background(), []string{"admin", "reset-2fa", "--data", dir, "--email", r.email}, &out, &errOut)
		if (code == 0) != r.ok || !strings.Contains(out.String()+errOut.String(), r.says) {
			t.Fatalf("admin reset-2fa %s: exit %d, printed %q %q", r.email, code, out.String(), errOut.String())
		}
	}
}

func TestEncryptionKeyFromEnvironmentOrGeneratedFile(t *testing.T) {
	raw := rawConfig{addr: ":1", data: t.TempDir(), logFormat: "text", idle: "1m", lifetime: "1h"}
	t.Setenv("KEYPORT_ENCRYPTION_KEY", "too-short")
	if code := run(context.Background(), []string{"migrate", "--data", raw.data}, io.Discard, io.Discard); code == 0 {
		t.Fatal("migrate accepted a bad KEYPORT_ENCRYPTION_KEY")
	}
	raw.encryptionKey = "too-short"
	if _, err := raw.validate(); err == nil || !strings.Contains(err.Error(), "KEYPORT_ENCRYPTION_KEY") {
		t.Fatalf("bad key: %v", err)
	}

	raw.encryptionKey = strings.Repeat("ab", 32)
	cfg, err := raw.validate()
	if err != nil || len(cfg.EncryptionKey) != 32 {
		t.Fatalf("hex key: %v", err)
	}
	fromEnv, err := openSealer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "encryption.key")); !os.IsNotExist(err) {
		t.Fatalf("a key file was written although the key came from the environment: %v", err)
	}

	raw.encryptionKey = ""
	cfg, err = raw.validate()
	if err != nil {
		t.Fatal(err)
	}
	first, err := openSealer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(filepath.Join(cfg.DataDir, "encryption.key"))
	if err != nil || info.Mode().Perm() != 0o600 || info.Size() != 32 {
		t.Fatalf("generated key file: %v %v", info, err)
	}
	sealed, err := first.Seal([]byte("courier secret"), "ctx")
	if err != nil {
		t.Fatal(err)
	}
	second, err := openSealer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := second.Open(sealed, "ctx"); err != nil || string(got) != "courier secret" {
		t.Fatalf("a restart cannot read what the first start sealed: %v", err)
	}
	if _, err := fromEnv.Open(sealed, "ctx"); err == nil {
		t.Fatal("the environment key opened a value sealed under the generated key")
	}
}
