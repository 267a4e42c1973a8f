package web

import (
	"context"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"keyport/views"
)

// Mailer hands one rendered email to a mail server.
type Mailer interface {
	// Send delivers email to the address to, under the stable message id uid.
	Send(ctx context.Context, uid, to string, email views.Email) error
}

// SMTPMailer sends email through an SMTP server.
type SMTPMailer struct {
	host     string
	port     int
	policy   gomail.TLSPolicy
	implicit bool
	user     string
	password string
	from     string
	// domain is the host part of the Message-ID headers.
	domain string
	// Timeout bounds each delivery, connection included.
	Timeout time.Duration
}

// smtpTimeout is how long one delivery may take.
const smtpTimeout = 10 * time.Second

// NewSMTPMailer returns the mailer of KEYPORT_SMTP_URL, sending as from
// (KEYPORT_MAIL_FROM). The URL's scheme says how to connect:
// smtp://user:pass@host:587 uses STARTTLS when the server offers it,
// smtp+starttls:// requires it, smtps:// uses implicit TLS (port 465 unless
// given).
func NewSMTPMailer(rawURL, from string) (*SMTPMailer, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("is not a URL like smtp://user:password@mail.example.com:587")
	}
	m := &SMTPMailer{host: u.Hostname(), Timeout: smtpTimeout}
	port := 587
	switch u.Scheme {
	case "smtp":
		m.policy = gomail.TLSOpportunistic
	case "smtp+starttls":
		m.policy = gomail.TLSMandatory
	case "smtps":
		m.policy, m.implicit, port = gomail.TLSMandatory, true, 465
	default:
		return nil, fmt.Errorf("must start with smtp://, smtp+starttls:// or smtps://")
	}
	if m.host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return nil, fmt.Errorf("must name a host and nothing after it, like smtp://mail.example.com:587")
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, fmt.Errorf("has an invalid port %q", p)
		}
	}
	m.port = port
	if u.User != nil {
		m.user = u.User.Username()
		m.password, _ = u.User.Password()
	}
	addr, err := mail.ParseAddress(from)
	if err != nil || from == "" {
		return nil, fmt.Errorf("needs KEYPORT_MAIL_FROM, an address like \"Keyport <keys@example.com>\"")
	}
	m.from = addr.String()
	m.domain = addr.Address[strings.LastIndex(addr.Address, "@")+1:]
	return m, nil
}

// Address is where the mailer connects, host:port, for logs: never the password.
func (m *SMTPMailer) Address() string { return net.JoinHostPort(m.host, strconv.Itoa(m.port)) }

// compose builds an email as multipart text and HTML, its Message-ID made of
// the message's stable uid, so that a message sent twice reads as one.
func compose(from, domain, uid, to string, email views.Email) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(from); err != nil {
		return nil, err
	}
	if err := msg.To(to); err != nil {
		return nil, err
	}
	msg.Subject(email.Subject)
	msg.SetMessageIDWithValue(uid + "@" + domain)
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, email.Text)
	msg.AddAlternativeString(gomail.TypeTextHTML, email.HTML)
	return msg, nil
}

// Send delivers one email.
func (m *SMTPMailer) Send(ctx context.Context, uid, to string, email views.Email) error {
	msg, err := compose(m.from, m.domain, uid, to, email)
	if err != nil {
		return err
	}
	opts := []gomail.Option{gomail.WithPort(m.port), gomail.WithTLSPolicy(m.policy), gomail.WithTimeout(m.Timeout)}
	if m.implicit {
		opts = append(opts, gomail.WithSSL())
	}
	if m.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(m.user), gomail.WithPassword(m.password))
	}
	c, err := gomail.NewClient(m.host, opts...)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.Timeout)
	defer cancel()
	return c.DialAndSendWithContext(ctx, msg)
}

// DirMailer writes each email as a file, <uid>.eml, into a directory instead
// of sending it: for demos and development without a mail server.
type DirMailer struct {
	// Dir is the directory the files are written to.
	Dir string
}

// Send writes the email to Dir, readable by its owner only, as it may carry a
// private link. The file appears whole: it is written aside, then renamed.
func (m DirMailer) Send(_ context.Context, uid, to string, email views.Email) error {
	msg, err := compose("Keyport <keyport@localhost>", "localhost", uid, to, email)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.Dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(m.Dir, ".writing-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := msg.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), filepath.Join(m.Dir, uid+".eml"))
}
