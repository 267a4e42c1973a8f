package web

import (
	"context"
	"sync"
	"time"

	"keyport/web/mailtest"
)

// mailerFor is an SMTPMailer that sends through the test's SMTP server.
func mailerFor(a *testApp, m *mailtest.Server) *SMTPMailer {
	a.t.Helper()
	mailer, err := NewSMTPMailer(m.URL(), "Keyport <keys@keyport.test>")
	if err != nil {
		a.t.Fatal(err)
	}
	return mailer
}

// runSender runs the server's outbox sender until the test ends.
func (a *testApp) runSender(every time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.srv.DeliverMessages(ctx, every) })
	a.t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}
