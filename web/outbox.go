package web

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"keyport"
	"keyport/store"
	"keyport/views"
)

// The outbox sender claims outboxBatch messages at a time and keeps them for
// outboxLease, longer than the batch takes even when every delivery runs into
// smtpTimeout; the messages of a sender that dies are sent by another (or by
// itself restarted) once the lease ends.
const (
	outboxBatch = 5
	outboxLease = time.Minute
)

// DeliverMessages sends the outbox's due messages at once, then every
// interval and right after this process commits a new message, until ctx
// ends. Without a mailer every message is held as "not sent: no SMTP
// configured". Run it in the background and wait for it before closing the
// database.
func (s *Server) DeliverMessages(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.deliverDue(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.db.MessagesWritten():
		}
	}
}

// deliverDue claims and delivers due messages until none is left.
func (s *Server) deliverDue(ctx context.Context) {
	for ctx.Err() == nil {
		msgs, err := s.db.ClaimMessages(ctx, outboxBatch, outboxLease)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Error("claim outbox messages", "err", err)
			}
			return
		}
		if len(msgs) == 0 {
			return
		}
		for _, m := range msgs {
			s.deliver(ctx, m)
		}
	}
}

// deliver makes one delivery attempt of a claimed message and records it. The
// log names the message, never its data nor its text.
func (s *Server) deliver(ctx context.Context, m keyport.Message) {
	start := time.Now()
	err := keyport.ErrNoMailServer
	if s.mailer != nil {
		var email views.Email
		if email, err = views.RenderEmail(ctx, m, s.baseURL); err == nil {
			err = s.mailer.Send(ctx, m.UID, m.To, email)
		}
	}
	took := time.Since(start)
	s.metrics.delivered(err, took)
	record, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if rerr := s.db.MessageDelivered(record, m, took, err); rerr != nil {
		s.log.Error("record a delivery", "message", m.ID, "err", rerr)
	}
	switch {
	case err == nil:
		s.log.Info("message sent", "message", m.ID, "kind", m.Kind, "took", took)
	case errors.Is(err, keyport.ErrNoMailServer):
		s.log.Info("message held: no SMTP configured", "message", m.ID, "kind", m.Kind)
	default:
		s.log.Warn("message not sent", "message", m.ID, "kind", m.Kind, "attempt", m.Attempts+1, "err", err)
	}
}

// outboxPage serves GET /admin/outbox: the messages of one state, newest first.
func (s *Server) outboxPage(c echo.Context) error {
	ctx := c.Request().Context()
	v := views.OutboxView{State: keyport.OutboxState(c.QueryParam("state")), CSRF: csrfToken(c), Now: s.Now(), MailServer: s.mailer != nil}
	if v.State != "" && !validOutboxState(v.State) {
		return echo.NewHTTPError(http.StatusBadRequest, "Unknown message state: choose pending, held, failed or sent.")
	}
	before, err := cursorID(c.QueryParam("before"))
	if err != nil {
		return err
	}
	if v.Counts, err = s.db.OutboxCounts(ctx); err != nil {
		return err
	}
	if v.Messages, err = s.db.Outbox(ctx, v.State, before); err != nil {
		return err
	}
	if len(v.Messages) == store.OutboxPageSize {
		v.Older = v.Messages[len(v.Messages)-1].ID
	}
	return render(c, http.StatusOK, views.OutboxPage(s.page(c, "Outbox", "/admin/outbox"), v))
}

func validOutboxState(st keyport.OutboxState) bool {
	for _, s := range keyport.OutboxStates {
		if s == st {
			return true
		}
	}
	return false
}

// cursorID parses the optional id a page of a list starts below.
func cursorID(raw string) (int64, error) {
	if raw == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, echo.NewHTTPError(http.StatusBadRequest, "The page cursor must be a positive whole number.")
	}
	return id, nil
}

// retryMessage serves POST /admin/outbox/:msg/retry: the message is due at once.
func (s *Server) retryMessage(c echo.Context) error {
	id, err := pathID(c, "msg")
	if err != nil {
		return err
	}
	if err := s.db.RetryMessage(c.Request().Context(), id); err != nil {
		return err
	}
	s.flash(c, "success", "Message "+strconv.FormatInt(id, 10)+" will be sent again in a moment.")
	return redirect(c, "/admin/outbox")
}
