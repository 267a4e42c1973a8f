// Package mailtest is a real SMTP server for tests: it keeps the email it
// accepts, and refuses while a test tells it to.
package mailtest

import (
	"bytes"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Mail is one email the server accepted.
type Mail struct {
	From    string
	To      []string
	Subject string
	ID      string
	Text    string
	HTML    string
	// At is when the server accepted the email.
	At time.Time
}

// Server is an SMTP server on a loopback port.
type Server struct {
	t      testing.TB
	server *smtp.Server
	// Addr is the host:port the server listens on.
	Addr string

	mu sync.Mutex
	// refuse, when set, is the error every DATA command gets.
	refuse   *smtp.SMTPError
	received []Mail
	refused  int
	arrived  chan struct{}
}

// Start starts an SMTP server that stops when the test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &Server{t: t, Addr: ln.Addr().String(), arrived: make(chan struct{}, 100)}
	m.server = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{server: m}, nil }))
	m.server.Domain = "mail.test"
	m.server.ReadTimeout, m.server.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = m.server.Serve(ln) }()
	t.Cleanup(func() { m.server.Close() })
	return m
}

// URL is the KEYPORT_SMTP_URL of the server.
func (m *Server) URL() string { return "smtp://" + m.Addr }

// RefuseWith makes the server refuse every message with err, or accept them again with nil.
func (m *Server) RefuseWith(err *smtp.SMTPError) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.refuse = err
}

// Mails returns the emails accepted so far.
func (m *Server) Mails() []Mail {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Mail(nil), m.received...)
}

// Refusals returns how many messages the server refused.
func (m *Server) Refusals() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.refused
}

// WaitFor returns the first accepted email to `to` whose subject contains
// subject, waiting up to 10 seconds for it.
func (m *Server) WaitFor(to, subject string) Mail {
	m.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for _, got := range m.Mails() {
			if len(got.To) == 1 && got.To[0] == to && strings.Contains(got.Subject, subject) {
				return got
			}
		}
		select {
		case <-m.arrived:
		case <-deadline:
			m.t.Fatalf("no email to %s about %q arrived; received: %+v", to, subject, m.Mails())
		}
	}
}

type mailSession struct {
	server *Server
	from   string
	to     []string
}

func (s *mailSession) Reset()        { s.from, s.to = "", nil }
func (s *mailSession) Logout() error { return nil }

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}

func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *mailSession) Data(r io.Reader) error {
	raw, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	m := s.server
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.refuse != nil {
		m.refused++
		return m.refuse
	}
	got, err := Parse(raw)
	if err != nil {
		m.t.Errorf("unreadable email: %v\n%s", err, raw)
		return err
	}
	got.From, got.To, got.At = s.from, s.to, time.Now()
	m.received = append(m.received, got)
	select {
	case m.arrived <- struct{}{}:
	default:
	}
	return nil
}

// Parse reads the subject, Message-ID and the text and HTML parts of a
// multipart/alternative email.
func Parse(raw []byte) (Mail, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return Mail{}, err
	}
	var out Mail
	dec := new(mime.WordDecoder)
	if out.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return out, err
	}
	out.ID = msg.Header.Get("Message-Id")
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		return out, err
	}
	if mediaType != "multipart/alternative" {
		return out, errors.New("not multipart/alternative but " + mediaType)
	}
	parts := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := parts.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		body, err := io.ReadAll(p)
		if err != nil {
			return out, err
		}
		if strings.EqualFold(p.Header.Get("Content-Transfer-Encoding"), "base64") {
			if body, err = base64.StdEncoding.DecodeString(strings.ReplaceAll(string(body), "\r\n", "")); err != nil {
				return out, err
			}
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			out.Text = string(body)
		case "text/html":
			out.HTML = string(body)
		}
	}
}
