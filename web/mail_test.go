package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomail "github.com/wneessen/go-mail"

	"keyport/views"
	"keyport/web/mailtest"
)

func TestSMTPURLs(t *testing.T) {
	const from = "Keyport <keys@example.com>"
	tests := []struct {
		url, from string
		address   string
		policy    gomail.TLSPolicy
		implicit  bool
		user      string
		problem   string
	}{
		{url: "smtp://mail.example.com", from: from, address: "mail.example.com:587", policy: gomail.TLSOpportunistic},
		{url: "smtp://user:s3cret@mail.example.com:2525", from: from, address: "mail.example.com:2525", policy: gomail.TLSOpportunistic, user: "user"},
		{url: "smtp+starttls://mail.example.com:587/", from: from, address: "mail.example.com:587", policy: gomail.TLSMandatory},
		{url: "smtps://apikey:s3cret@smtp.example.net", from: from, address: "smtp.example.net:465", policy: gomail.TLSMandatory, implicit: true, user: "apikey"},
		{url: "http://mail.example.com", from: from, problem: "must start with smtp://"},
		{url: "mail.example.com:587", from: from, problem: "must start with smtp://"},
		{url: "smtp://", from: from, problem: "must name a host"},
		{url: "smtp://mail.example.com/inbox", from: from, problem: "must name a host and nothing after it"},
		{url: "smtp://mail.example.com?tls=no", from: from, problem: "must name a host and nothing after it"},
		{url: "smtp://user:s3cret@mail.example.com:99999", from: from, problem: "invalid port"},
		{url: "smtp://user:s3cret@mail.example.com", from: "", problem: "needs KEYPORT_MAIL_FROM"},
		{url: "smtp://user:s3cret@mail.example.com", from: "not an address", problem: "needs KEYPORT_MAIL_FROM"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			m, err := NewSMTPMailer(tt.url, tt.from)
			if tt.problem != "" {
				if err == nil || !strings.Contains(err.Error(), tt.problem) {
					t.Fatalf("error %v, want one saying %q", err, tt.problem)
				}
				if strings.Contains(err.Error(), "s3cret") {
					t.Fatal("the error shows the SMTP password")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if m.Address() != tt.address || m.policy != tt.policy || m.implicit != tt.implicit || m.user != tt.user {
				t.Fatalf("got %s policy %v implicit %v user %q", m.Address(), m.policy, m.implicit, m.user)
			}
			if m.from != "\"Keyport\" <keys@example.com>" || m.domain != "example.com" {
				t.Fatalf("from %q, domain %q", m.from, m.domain)
			}
		})
	}
}

func TestRequiredSTARTTLSRefusesAServerWithoutIt(t *testing.T) {
	server := mailtest.Start(t)
	m, err := NewSMTPMailer("smtp+starttls://"+server.Addr, "keys@keyport.test")
	if err != nil {
		t.Fatal(err)
	}
	m.Timeout = 5 * time.Second
	err = m.Send(context.Background(), "abc", "ann@acme.test", views.Email{Subject: "Hello", Text: "Hi", HTML: "<p>Hi</p>"})
	if err == nil {
		t.Fatal("an email was sent in the clear although STARTTLS is required")
	}
	if len(server.Mails()) != 0 {
		t.Fatal("the server received the email")
	}
	opportunistic, err := NewSMTPMailer(server.URL(), "keys@keyport.test")
	if err != nil {
		t.Fatal(err)
	}
	if err := opportunistic.Send(context.Background(), "abc", "ann@acme.test", views.Email{Subject: "Hello", Text: "Hi", HTML: "<p>Hi</p>"}); err != nil {
		t.Fatal(err)
	}
	if got := server.WaitFor("ann@acme.test", "Hello"); got.Text != "Hi" || got.HTML != "<p>Hi</p>" {
		t.Fatalf("received %+v", got)
	}
}

func TestDirMailerWritesPrivateEmailFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "mail")
	m := DirMailer{Dir: dir}
	if err := m.Send(context.Background(), "0123abcd", "ann@acme.test", views.Email{Subject: "Reset your Keyport password",
		Text: "Open http://example.test/password/reset?token=abc", HTML: "<p>Open</p>"}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "0123abcd.eml")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v: other users may read the email", info.Mode().Perm())
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := mailtest.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "Reset your Keyport password" || !strings.Contains(got.Text, "token=abc") || got.ID != "<0123abcd@localhost>" {
		t.Fatalf("read back %+v", got)
	}
}
